"""Unlabelled text for pre-training, as documents of sentences of token ids (the input of NSP pairs).

A document (a Shakespeare work, one review snippet, or any text file) is cut into sentences by
``data/text/sentences.py:split_sentences``; each sentence is encoded with the tokenizer, and a sentence
without a token is dropped.
"""

from minitransformer.data.text.sentences import split_sentences


def encode_documents(tokenizer, texts):
    """One document per text: a list of sentences, each a list of token ids."""
    documents = []
    for text in texts:
        sentences = [tokenizer.encode(s) for s in split_sentences(text)]
        documents.append([s for s in sentences if s])
    return documents
