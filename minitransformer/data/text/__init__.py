"""Text: reading corpora, cutting sentences, word tokens, the WordPiece tokenizer, padded token batches.

* ``corpus.py``: the Shakespeare works and any UTF-8 text files, one string per document;
* ``sentences.py``: ``split_sentences``, the one sentence splitter of the package;
* ``words.py``: lower-cased word tokens, and a corpus as sentences of words (word2vec's input);
* ``tokenizer.py``: the WordPiece tokenizer and the ids of the special tokens;
* ``padding.py``: right-padded batches cut to their longest sequence.
"""
