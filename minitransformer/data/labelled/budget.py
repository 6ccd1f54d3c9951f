"""Label budgets: the ``budget`` examples of a training part that a classifier may learn from, drawn with a
seed and stratified, so that every class keeps its share of the budget (at least one example).
"""

import numpy as np


def label_budget(labels, budget, seed=0):
    """Indices of ``budget`` training examples, stratified so every class keeps its share (at least one)."""
    labels = np.asarray(labels)
    if budget is None or budget >= len(labels):
        return list(range(len(labels)))
    if budget < len(np.unique(labels)):
        raise ValueError(f"budget ({budget}) must be at least the number of classes ({len(np.unique(labels))})")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    shares = np.maximum(1, np.floor(counts / counts.sum() * budget).astype(int))
    shares[np.argmax(counts)] += budget - shares.sum()
    chosen = [rng.choice(np.flatnonzero(labels == c), size=s, replace=False) for c, s in zip(classes, shares)]
    return sorted(np.concatenate(chosen).tolist())
