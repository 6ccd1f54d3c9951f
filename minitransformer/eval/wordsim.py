"""Word similarity: Spearman's rank correlation between cosine similarity and human judgement
(Finkelstein et al. 2002, WordSim-353).

Spearman's rho is Pearson's correlation of the ranks: each list is replaced by the positions its values
take when sorted, tied values sharing the mean of their positions, and

    rho = Σ (r_i - r̄)(s_i - s̄) / sqrt(Σ (r_i - r̄)² · Σ (s_i - s̄)²).

Pairs with a word outside the vocabulary are left out; ``coverage`` says what fraction was kept.
"""

import numpy as np


def average_ranks(values):
    """Ranks 1..n of ``values``; ties get the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(x, y):
    """Spearman's rho of two equally long sequences (nan if either is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got {x.shape} and {y.shape}")
    rx, ry = average_ranks(x) - (len(x) + 1) / 2, average_ranks(y) - (len(y) + 1) / 2
    denominator = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else float("nan")


def wordsim_spearman(vectors, pairs):
    """Spearman's rho of cosine vs human score on the in-vocabulary pairs, and the coverage."""
    if not pairs:
        raise ValueError("pairs is empty")
    kept = [(a, b, score) for a, b, score in pairs if a in vectors and b in vectors]
    if len(kept) < 2:
        return {"spearman": float("nan"), "coverage": len(kept) / len(pairs), "pairs": len(kept)}
    cosines = [vectors.similarity(a, b) for a, b, _ in kept]
    return {"spearman": spearman(cosines, [score for _, _, score in kept]),
            "coverage": len(kept) / len(pairs), "pairs": len(kept)}
