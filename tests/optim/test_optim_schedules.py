"""Warm-up + linear / cosine decay schedules: the formula at chosen steps, monotonicity, the lr that an
optimizer actually sees, and bad arguments."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import optim as mopt


def test_known_values():
    assert mopt.lr_multiplier(0, 10, 110) == 0.0
    assert mopt.lr_multiplier(5, 10, 110) == 0.5
    assert mopt.lr_multiplier(10, 10, 110) == 1.0
    assert math.isclose(mopt.lr_multiplier(60, 10, 110, "cosine"), 0.5)
    assert math.isclose(mopt.lr_multiplier(60, 10, 110, "linear"), 0.5)
    assert math.isclose(mopt.lr_multiplier(110, 10, 110, "cosine", min_lr_ratio=0.1), 0.1)
    assert mopt.lr_multiplier(500, 10, 110, "linear") == 0.0
    assert mopt.lr_multiplier(500, 10, 110, "constant") == 1.0


@given(warmup=st.integers(0, 20), extra=st.integers(1, 100), decay=st.sampled_from(["linear", "cosine"]),
       min_ratio=st.sampled_from([0.0, 0.1]))
def test_rises_then_falls_within_bounds(warmup, extra, decay, min_ratio):
    total = warmup + extra
    values = [mopt.lr_multiplier(step, warmup, total, decay, min_ratio) for step in range(total + 5)]
    assert all(min(min_ratio, 0.0) <= v <= 1.0 for v in values)
    assert all(a <= b for a, b in zip(values[:warmup], values[1:warmup + 1]))
    assert all(a >= b - 1e-12 for a, b in zip(values[warmup:], values[warmup + 1:]))
    assert math.isclose(values[total], min_ratio, abs_tol=1e-12)


def test_optimizer_sees_the_scheduled_lr():
    param = torch.zeros(1, requires_grad=True)
    optimizer = mopt.SGD([param], lr=0.2)
    scheduler = mopt.warmup_cosine(optimizer, warmup_steps=4, total_steps=12)
    seen = []
    for _ in range(12):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [0.2 * mopt.lr_multiplier(step, 4, 12, "cosine") for step in range(12)]
    assert all(math.isclose(a, b, abs_tol=1e-12) for a, b in zip(seen, expected))
    assert isinstance(mopt.warmup_linear(optimizer, 0, 5), mopt.WarmupSchedule)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(warmup_steps=-1, total_steps=10), "warmup_steps"),
    (dict(warmup_steps=20, total_steps=10), "total_steps"),
    (dict(warmup_steps=2, total_steps=10, decay="step"), "decay"),
    (dict(warmup_steps=2, total_steps=10, min_lr_ratio=2.0), "min_lr_ratio"),
])
def test_bad_arguments_name_the_argument(kwargs, argument):
    optimizer = mopt.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=argument):
        mopt.WarmupSchedule(optimizer, **kwargs)
