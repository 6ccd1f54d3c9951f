"""Pre-training data: the batches of token ids that BERT and GPT learn from.

* ``documents.py``: texts as documents of sentences of token ids (the input of NSP pairs);
* ``mlm.py``: BERT's masked-language-model corruption, and ``IGNORE_INDEX``;
* ``nsp.py``: next-sentence-prediction pairs, whole-document chunks, and ``bert_batch``;
* ``causal.py``: the packed token stream, and GPT's next-token batches cut from it;
* ``windows.py``: masked windows of the same packed stream (RoBERTa's FULL-SENTENCES input).
"""
