"""The word2vec vocabulary: words seen at least ``min_count`` times, most frequent first.

Word ids run 0..V-1 in order of decreasing count (ties: alphabetical), as in word2vec.c and gensim.
Words below ``min_count`` are dropped from the vocabulary *and* from the text before any window is
formed, so the context window reaches across them (Mikolov et al. 2013, word2vec.c).

``encode`` turns sentences into one flat id array plus the sentence index of every token; windows must
not cross sentence boundaries, and that second array is how the window code sees them.
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np


@dataclass
class Vocabulary:
    words: list        # V words, most frequent first
    counts: np.ndarray  # (V,) int64: occurrences of each word in the corpus

    def __post_init__(self):
        self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    @property
    def total_words(self):
        """Tokens of the corpus that are in the vocabulary."""
        return int(self.counts.sum())

    def id(self, word):
        """Id of ``word``; KeyError with the word in the message if it is not in the vocabulary."""
        if word not in self.index:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)")
        return self.index[word]

    def encode(self, sentences):
        """Flat ids and sentence indices of the in-vocabulary tokens: two (T,) int64 arrays."""
        ids, sentence_of = [], []
        for s, sentence in enumerate(sentences):
            known = [self.index[w] for w in sentence if w in self.index]
            ids.extend(known)
            sentence_of.extend([s] * len(known))
        return np.asarray(ids, dtype=np.int64), np.asarray(sentence_of, dtype=np.int64)


def build_vocabulary(sentences, min_count=5):
    """Count the words of ``sentences`` (lists of tokens) and keep those seen ``min_count`` times or more."""
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    counts = Counter(word for sentence in sentences for word in sentence)
    kept = sorted((item for item in counts.items() if item[1] >= min_count), key=lambda wc: (-wc[1], wc[0]))
    if not kept:
        raise ValueError(f"the vocabulary is empty: no word occurs min_count={min_count} times or more "
                         f"({len(counts)} distinct words in the corpus); lower min_count or use a larger corpus")
    words = [word for word, _ in kept]
    return Vocabulary(words, np.asarray([count for _, count in kept], dtype=np.int64))
