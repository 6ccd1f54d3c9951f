"""Data, one subpackage per concern; each subpackage's ``__init__.py`` lists its files.

* ``text/``: corpora, sentences, word tokens, the WordPiece tokenizer, padded token batches;
* ``pretraining/``: what BERT and GPT pre-train on: documents of sentences, MLM, NSP, token-stream windows;
* ``labelled/``: labelled text sets, your own labelled files, splits, label budgets, classification batches;
* ``word2vec/``: the word2vec pipeline from sentences of words to word vectors and their files;
* ``images/``: IDX files, labelled image sets, image transforms.

Which subpackage may import which: docs/architecture.md, "The import arrows".
"""
