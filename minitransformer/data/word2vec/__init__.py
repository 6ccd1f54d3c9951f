"""The word2vec pipeline, from sentences of words (``data/text/words.py``) to word vectors; training itself
is ``train/word2vec.py``.

* ``vocab.py``: the vocabulary, most frequent word first, and sentences encoded as ids;
* ``subsampling.py``: the probability of keeping each occurrence of a frequent word;
* ``negatives.py``: negative samples from the unigram distribution raised to the power 3/4;
* ``windows.py``: dynamic context windows, in batches with their targets and negatives;
* ``vectors.py``: trained word vectors and their cosine nearest neighbours;
* ``format.py``: word vectors in the word2vec text and binary files.
"""
