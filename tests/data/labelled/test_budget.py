"""Label budgets: stratified, exact and seeded."""

import pytest

from minitransformer.data.labelled.budget import label_budget


def test_label_budget_is_stratified_and_exact():
    labels = [0] * 700 + [1] * 300
    chosen = label_budget(labels, 100, seed=0)
    assert len(chosen) == len(set(chosen)) == 100
    assert sum(labels[i] for i in chosen) == 30
    assert label_budget(labels, None) == list(range(1000))
    with pytest.raises(ValueError, match="budget"):
        label_budget(labels, 1)
