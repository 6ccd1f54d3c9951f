"""Trained word vectors: a word list and a (V, D) float32 matrix, with cosine nearest neighbours.

Cosine similarity cos(a, b) = a·b / (|a| |b|) is what word2vec's ``distance`` tool, gensim's
``most_similar`` and the evaluations in ``minitransformer.eval`` rank by.
"""

import numpy as np


class WordVectors:
    """Words and their vectors; ``vectors[i]`` belongs to ``words[i]``."""

    def __init__(self, words, vectors):
        vectors = np.asarray(vectors, dtype=np.float32)
        words = list(words)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"vectors must be (len(words), dim) = ({len(words)}, D), got {vectors.shape}")
        if len(set(words)) != len(words):
            raise ValueError("words must be distinct")
        if any(not w or any(ch.isspace() for ch in w) for w in words):
            raise ValueError("words must be non-empty and contain no whitespace")
        self.words, self.vectors = words, vectors
        self.index = {word: i for i, word in enumerate(words)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit_vectors = vectors / np.where(norms > 0, norms, 1.0)  # (V, D)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    @property
    def dim(self):
        return self.vectors.shape[1]

    def __getitem__(self, word):
        return self.vectors[self.lookup(word)]

    def lookup(self, word):
        """Row of ``word``; KeyError naming the word when it is unknown."""
        if word not in self.index:
            raise KeyError(f"unknown word {word!r}: not in the vocabulary of {len(self)} words")
        return self.index[word]

    def similarity(self, first, second):
        """Cosine similarity of two words."""
        return float(self.unit_vectors[self.lookup(first)] @ self.unit_vectors[self.lookup(second)])

    def nearest(self, word, top=10):
        """The ``top`` words most cosine-similar to ``word`` (itself excluded), as (word, cosine) pairs."""
        if top < 1:
            raise ValueError(f"top must be >= 1, got {top}")
        row = self.lookup(word)
        cosines = self.unit_vectors @ self.unit_vectors[row]  # (V,)
        cosines[row] = -np.inf
        order = np.argsort(-cosines, kind="stable")[:min(top, len(self) - 1)]
        return [(self.words[i], float(cosines[i])) for i in order]
