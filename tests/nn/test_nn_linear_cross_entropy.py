"""nn.linear_cross_entropy (linear + cross-entropy in row chunks): loss and dx, dW, db against the NumPy
reference and F.cross_entropy(x @ Wᵀ + b) for chunk sizes that do not divide the rows, one row, ignored
targets, no bias, "sum"; gradcheck in float64; only a chunk of logits alive; bad input. Each for the eager
backend (torch ops per chunk) and the fused one (the fused cross-entropy op, gradient over the logits)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

from minitransformer.nn.linear_cross_entropy import linear_cross_entropy
from minitransformer.reference import losses as reference
from helpers import relative_error, to_numpy


def _inputs(rows, d, vocab, seed=0, ignored=0.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x, weight, bias = (torch.randn(*shape, generator=g, dtype=dtype) for shape in ((rows, d), (vocab, d), (vocab,)))
    targets = torch.randint(0, vocab, (rows,), generator=g)
    targets[torch.rand(rows, generator=g) < ignored] = -100
    return x.requires_grad_(), weight.requires_grad_(), bias.requires_grad_(), targets


def _reference(x, weight, bias, targets, reduction):
    """Loss and (dx, dW, db) in NumPy float64: the reference cross-entropy of the full logits."""
    x, weight, bias = to_numpy(x), to_numpy(weight), to_numpy(bias)
    logits = x @ weight.T + bias
    grad_logits = reference.cross_entropy_backward(logits, targets.numpy(), reduction=reduction)
    loss = reference.cross_entropy(logits, targets.numpy(), reduction=reduction)
    return loss, (grad_logits @ weight, grad_logits.T @ x, grad_logits.sum(0))


BACKENDS = ["eager", "fused"]


@pytest.mark.parametrize("backend", BACKENDS)
@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 50), st.sampled_from([0.0, 0.3, 1.0]),
       st.sampled_from(["mean", "sum"]), st.integers(0, 2**31 - 1))
def test_loss_and_gradients_match_the_reference(backend, rows, chunk_size, vocab, ignored, reduction, seed):
    x, weight, bias, targets = _inputs(rows, 7, vocab, seed, ignored)
    loss = linear_cross_entropy(x, weight, bias, targets, chunk_size=chunk_size, reduction=reduction,
                                backend=backend)
    loss.backward()
    expected_loss, expected_grads = _reference(x, weight, bias, targets, reduction)
    assert abs(loss.item() - expected_loss) <= 1e-5 * max(abs(expected_loss), 1.0)
    for grad, expected in zip((x.grad, weight.grad, bias.grad), expected_grads):
        assert relative_error(grad, expected) < 1e-5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rows, chunk_size", [(1, 4), (13, 5), (64, 64), (100, 1000)])
def test_matches_torch_on_the_full_logits(rows, chunk_size, backend):
    x, weight, bias, targets = _inputs(rows, 16, 300, seed=rows, ignored=0.2)
    upstream = torch.tensor(0.7)
    (linear_cross_entropy(x, weight, bias, targets, chunk_size, backend=backend) * upstream).backward()
    ours = [x.grad, weight.grad, bias.grad]
    x, weight, bias = (t.detach().clone().requires_grad_() for t in (x, weight, bias))
    (F.cross_entropy(x @ weight.T + bias, targets) * upstream).backward()
    for grad, expected in zip(ours, (x.grad, weight.grad, bias.grad)):
        torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_bias_batched_inputs_and_only_some_gradients(backend):
    x, weight, _, targets = _inputs(12, 8, 30, seed=3)
    x3, targets3 = x.detach().reshape(3, 4, 8), targets.reshape(3, 4)
    loss = linear_cross_entropy(x3, weight, None, targets3, chunk_size=5, backend=backend)
    loss.backward()
    expected = F.cross_entropy(x3.reshape(12, 8) @ weight.detach().T, targets)
    torch.testing.assert_close(loss.detach(), expected)
    torch.testing.assert_close(weight.grad, torch.autograd.grad(
        F.cross_entropy(x.detach() @ weight.T, targets), weight)[0], rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # nothing needs a gradient: the losses only
        torch.testing.assert_close(linear_cross_entropy(x, weight, None, targets, chunk_size=5, backend=backend),
                                   expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_target_ignored_gives_zero_loss_and_gradients(backend):
    x, weight, bias, targets = _inputs(5, 4, 10)
    loss = linear_cross_entropy(x, weight, bias, torch.full_like(targets, -100), chunk_size=2, backend=backend)
    loss.backward()
    assert loss.item() == 0.0 and not x.grad.any() and not weight.grad.any() and not bias.grad.any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_float64(backend):
    x, weight, bias, targets = _inputs(7, 5, 11, seed=4, ignored=0.3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, w, b: linear_cross_entropy(a, w, b, targets, chunk_size=3,
                                                                         backend=backend), (x, weight, bias))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_logits_are_never_whole(backend):
    """Saved for the backward: dx, dW, db only; the largest tensor made is one chunk's logits (chunk, V)."""
    x, weight, bias, targets = _inputs(64, 8, 500)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        linear_cross_entropy(x, weight, bias, targets, chunk_size=16, backend=backend)
    assert sorted(saved) == sorted([x.numel(), weight.numel(), bias.numel()])
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        F.cross_entropy(x @ weight.T + bias, targets)
    assert max(saved) == 64 * 500  # the unfused form keeps (rows, V)


def test_the_fused_backend_runs_the_fused_op_once_per_chunk(monkeypatch):
    from minitransformer import ops
    calls = []
    fused = ops.cross_entropy_and_gradient_
    monkeypatch.setattr(ops, "cross_entropy_and_gradient_", lambda *args: calls.append(args[0].shape) or fused(*args))
    x, weight, bias, targets = _inputs(13, 8, 50)
    linear_cross_entropy(x, weight, bias, targets, chunk_size=5, backend="fused").backward()
    assert calls == [(5, 50), (5, 50), (3, 50)]


def test_bad_input_is_rejected():
    x, weight, bias, targets = _inputs(4, 3, 6)
    with pytest.raises(ValueError, match="weight must have last dimension 3"):
        linear_cross_entropy(x, weight[:, :2], bias, targets)
    with pytest.raises(ValueError, match="bias must have 6 elements"):
        linear_cross_entropy(x, weight, bias[:5], targets)
    with pytest.raises(ValueError, match="targets must have shape"):
        linear_cross_entropy(x, weight, bias, targets[:3])
    with pytest.raises(ValueError, match="targets must be an int64/int32"):
        linear_cross_entropy(x, weight, bias, targets.float())
    with pytest.raises(ValueError, match=r"targets must be in \[0, 6\)"):
        linear_cross_entropy(x, weight, bias, torch.tensor([0, 1, 6, 2]))
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        linear_cross_entropy(x, weight, bias, targets, chunk_size=0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        linear_cross_entropy(x, weight, bias, targets, reduction="none")
    with pytest.raises(ValueError, match="backend must be one of"):
        linear_cross_entropy(x, weight, bias, targets, backend="fast")
    assert np.isfinite(linear_cross_entropy(x * 1e4, weight, bias, targets).item())  # large logits: stable

