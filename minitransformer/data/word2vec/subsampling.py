"""Sub-sampling of frequent words (Mikolov et al. 2013, "Distributed Representations of Words and
Phrases and their Compositionality", section 2.3).

Very frequent words ("the", "and", "i") carry little information per occurrence, so each occurrence is
dropped at random, once per epoch, before the windows are formed. The paper discards a word of corpus
frequency f = count / total with probability 1 - sqrt(t / f). The released word2vec.c (and gensim, so
the two are comparable) uses a slightly gentler variant: with t = sample, the probability of *keeping*
an occurrence is

    keep(w) = (sqrt(f / t) + 1) * t / f      (capped at 1),

i.e. sqrt(t/f) + t/f: the paper's keep probability plus a term t/f that only matters near the threshold.
Words with f <= t (here: all but the few hundred most frequent) are always kept. ``sample=0`` keeps all.
"""

import numpy as np


def keep_probabilities(counts, sample=1e-3):
    """(V,) float64 probability of keeping one occurrence of each word, from its corpus count."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample < 0:
        raise ValueError(f"sample must be >= 0, got {sample}")
    if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
        raise ValueError("counts must be a non-empty 1-D array of positive word counts")
    if sample == 0:
        return np.ones_like(counts)
    ratio = sample * counts.sum() / counts  # t / f
    return np.minimum(1.0, np.sqrt(ratio) + ratio)
