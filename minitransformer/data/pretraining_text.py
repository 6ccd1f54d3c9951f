"""Unlabelled text for pre-training, as documents of sentences of token ids (the input of NSP pairs).

A document (a Shakespeare work, one review snippet, or any text file) is cut into sentences after
``.``, ``!`` or ``?`` followed by white space, and at blank lines; each sentence is encoded with the
tokenizer. Empty sentences are dropped.
"""

import re

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def split_sentences(text):
    """The non-empty sentences of ``text`` (strings)."""
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s and s.strip()]


def encode_documents(tokenizer, texts):
    """One document per text: a list of sentences, each a list of token ids."""
    documents = []
    for text in texts:
        sentences = [tokenizer.encode(s) for s in split_sentences(text)]
        documents.append([s for s in sentences if s])
    return documents
