"""cross_entropy (ignore_index, label smoothing) and binary_cross_entropy_with_logits: vs the NumPy
reference and F.cross_entropy / F.binary_cross_entropy_with_logits, stability, gradcheck, bad input."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.reference import losses as ref
from helpers import relative_error, to_numpy


@given(rows=st.integers(1, 8), classes=st.integers(1, 6), smoothing=st.sampled_from([0.0, 0.1, 0.5]),
       ignore_some=st.booleans(), reduction=st.sampled_from(["mean", "sum"]), seed=st.integers(0, 999))
def test_cross_entropy_matches_numpy_and_torch(rows, classes, smoothing, ignore_some, reduction, seed):
    torch.manual_seed(seed)
    logits = (3 * torch.randn(rows, classes, dtype=torch.float64)).requires_grad_()
    targets = torch.randint(0, classes, (rows,))
    if ignore_some:
        targets[torch.rand(rows) < 0.4] = -100
        targets[0] = 0  # at least one kept: torch's "mean" over nothing is NaN (ours is 0)
    loss = mnn.cross_entropy(logits, targets, label_smoothing=smoothing, reduction=reduction)
    loss.backward()
    arrays = (to_numpy(logits), targets.numpy())
    assert relative_error(loss, ref.cross_entropy(*arrays, label_smoothing=smoothing, reduction=reduction)) < 1e-12
    assert relative_error(logits.grad, ref.cross_entropy_backward(*arrays, label_smoothing=smoothing,
                                                                  reduction=reduction)) < 1e-12
    expected = F.cross_entropy(logits, targets, label_smoothing=smoothing, reduction=reduction)
    assert relative_error(loss, expected) < 1e-12


def test_cross_entropy_class_dim_last_for_sequences_and_all_ignored():
    torch.manual_seed(0)
    logits, targets = torch.randn(2, 5, 7), torch.randint(0, 7, (2, 5))
    assert relative_error(mnn.cross_entropy(logits, targets), F.cross_entropy(logits.transpose(1, 2), targets)) < 1e-6
    per_token = mnn.cross_entropy(logits, targets, reduction="none")
    assert per_token.shape == (2, 5)
    nothing = mnn.cross_entropy(logits.requires_grad_(), torch.full((2, 5), -100))
    assert nothing.item() == 0.0
    nothing.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_cross_entropy_is_stable_for_huge_logits():
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]])
    loss = mnn.cross_entropy(logits, torch.tensor([1, 1]), reduction="none")
    assert torch.isfinite(loss).all()
    assert torch.allclose(loss, torch.tensor([1000.0, 0.0]))


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=2), scale=st.sampled_from([1.0, 50.0]),
       use_pos_weight=st.booleans(), seed=st.integers(0, 999))
def test_bce_with_logits_matches_numpy_and_torch(shape, scale, use_pos_weight, seed):
    torch.manual_seed(seed)
    logits = (scale * torch.randn(*shape, dtype=torch.float64)).requires_grad_()
    targets = torch.rand(*shape, dtype=torch.float64)
    pos_weight = torch.tensor(2.5, dtype=torch.float64) if use_pos_weight else None
    loss = mnn.binary_cross_entropy_with_logits(logits, targets, pos_weight)
    loss.backward()
    weight = 2.5 if use_pos_weight else 1.0
    arrays = (to_numpy(logits), to_numpy(targets), weight)
    assert relative_error(loss, ref.binary_cross_entropy_with_logits(*arrays)) < 1e-12
    assert relative_error(logits.grad, ref.binary_cross_entropy_with_logits_backward(*arrays)) < 1e-12
    assert relative_error(loss, F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight)) < 1e-12


def test_gradcheck_float64():
    torch.manual_seed(0)
    logits = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([0, -100, 4, 2])
    assert torch.autograd.gradcheck(lambda x: mnn.cross_entropy(x, targets, label_smoothing=0.1), (logits,))
    binary = torch.rand(4, 5, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: mnn.binary_cross_entropy_with_logits(x, binary), (logits,))


@pytest.mark.parametrize("call, argument", [
    (lambda: mnn.cross_entropy(torch.randn(3, 4), torch.tensor([0, 1])), "targets"),
    (lambda: mnn.cross_entropy(torch.randn(3, 4), torch.tensor([0.0, 1.0, 2.0])), "targets"),
    (lambda: mnn.cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 4])), "targets"),
    (lambda: mnn.cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 2]), label_smoothing=2.0), "label_smoothing"),
    (lambda: mnn.cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 2]), reduction="avg"), "reduction"),
    (lambda: mnn.binary_cross_entropy_with_logits(torch.randn(3), torch.rand(4)), "targets"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


@pytest.mark.parametrize("backend", ["torch", "fused"])
@given(rows=st.integers(1, 9), classes=st.sampled_from([1, 2, 7, 17, 300]), smoothing=st.sampled_from([0.0, 0.1]),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 999))
def test_cross_entropy_backends_agree_with_eager(backend, rows, classes, smoothing, reduction, seed):
    torch.manual_seed(seed)
    logits, targets = 5 * torch.randn(3, rows, classes), torch.randint(0, classes, (3, rows))
    targets[torch.rand(3, rows) < 0.3] = -100
    results = []
    for name in ("eager", backend):
        x = logits.clone().requires_grad_()
        loss = mnn.cross_entropy(x, targets, label_smoothing=smoothing, reduction=reduction, backend=name)
        loss.sum().backward()
        results.append((loss.detach(), x.grad))
    for eager, other in zip(*results):
        assert relative_error(other, eager) < 1e-5


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_eager_cross_entropy_reduces_half_logits_in_float32(dtype):
    """As the fused op and autocast do: the loss in the logits' dtype, float32 under autocast, and in both cases
    within one rounding of the float32 loss of the same (rounded) logits."""
    torch.manual_seed(0)
    logits, targets = (8 * torch.randn(64, 1000)).to(dtype), torch.randint(0, 1000, (64,))
    expected = F.cross_entropy(logits.float(), targets)
    loss = mnn.cross_entropy(logits, targets)
    assert loss.dtype == dtype and relative_error(loss.float(), expected) < 1e-2
    with torch.autocast("cpu", dtype=dtype):
        loss = mnn.cross_entropy(logits, targets)
    assert loss.dtype == torch.float32 and relative_error(loss, expected) < 1e-6


def test_cross_entropy_loss_module_resolves_its_backend():
    assert mnn.CrossEntropyLoss(backend="auto").backend in ("fused", "eager")
    with pytest.raises(ValueError, match="backend must be"):
        mnn.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), backend="reference-ish")
