"""The CUDA cross-entropy ladder (csrc/kernels/cross_entropy_v*.cuh) run by the CUDA emulator, forward and
backward, every version in every resume order, against the NumPy float64 reference: one row, one class,
class counts that are not multiples of a block, ignored rows, label smoothing, logits near 1e3. In float16
and bfloat16 (computed in float32; the row max and log-sum float32) within helpers.TOLERANCE[dtype] against
the reference on the same rounded logits."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops import emulated_training
from minitransformer.ops.emulated import ORDERS
from minitransformer.reference.losses import cross_entropy, cross_entropy_backward
from helpers import TOLERANCE, relative_error

_ops = torch.ops.minitransformer
VERSIONS = ops.kernel_versions("cross_entropy")
IGNORE = -100

# (rows, classes, scale of the logits, label smoothing): 300 and 1000 classes are ragged against 256 threads.
CASES = [(1, 1, 1.0, 0.0), (1, 37, 1.0, 0.1), (37, 1, 1.0, 0.0), (6, 300, 3.0, 0.0), (9, 1000, 1.0, 0.2),
         (4, 50, 1e3, 0.1)]


def make_case(rows, classes, scale, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(rows, classes, generator=generator) * scale
    targets = torch.randint(0, classes, (rows,), generator=generator)
    if rows > 2:
        targets[1] = IGNORE
    return logits, targets, torch.randn(rows, generator=generator)


def reference(logits, targets, grad_losses, smoothing):
    x, y, g = logits.double().numpy(), targets.numpy(), grad_losses.double().numpy()
    losses = cross_entropy(x, y, IGNORE, smoothing, reduction="none")
    return losses, g[:, None] * cross_entropy_backward(x, y, IGNORE, smoothing, reduction="sum")


def check_row_statistics(logits, row_max, log_sum):
    """row_max is the float32 max of the logits, bit for bit; log_sum within float32 round-off."""
    assert row_max.dtype == log_sum.dtype == torch.float32
    np.testing.assert_array_equal(row_max.numpy(), logits.float().max(dim=1).values.numpy())
    x = logits.double().numpy()
    ref_log_sum = np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1))
    assert relative_error(log_sum, ref_log_sum, floor=1.0) < TOLERANCE[torch.float32]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_of_every_version_in_every_order(version, order, case):
    rows, classes, scale, smoothing = case
    logits, targets, grad_losses = make_case(rows, classes, scale, seed=version)
    ref_losses, ref_grad = reference(logits, targets, grad_losses, smoothing)
    losses, row_max, log_sum = _ops.emulated_cross_entropy_forward(logits, targets, IGNORE, smoothing, version, order,
                                                                   7, "fibers")
    assert relative_error(losses, ref_losses, floor=1.0) < TOLERANCE[torch.float32]
    np.testing.assert_array_equal(losses.numpy()[targets.numpy() == IGNORE], 0.0)
    check_row_statistics(logits, row_max, log_sum)
    grad = _ops.emulated_cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses, IGNORE, smoothing,
                                                version, order, 7, "fibers")
    assert relative_error(grad, ref_grad, floor=1.0) < TOLERANCE[torch.float32]


# Half-precision cases: one row with smoothing, one class, 300 classes (ragged), logits near 1e3.
HALF_CASES = [CASES[1], CASES[2], CASES[3], CASES[5]]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case_index", range(len(HALF_CASES)))
def test_half_forward_and_backward_of_every_version(case_index, version, dtype, error_report):
    """Losses and gradient in the logits' dtype: the first case in every resume order, the others shuffled."""
    rows, classes, scale, smoothing = HALF_CASES[case_index]
    logits, targets, grad_losses = make_case(rows, classes, scale, seed=version)
    logits, grad_losses = logits.to(dtype), grad_losses.to(dtype)
    ref_losses, ref_grad = reference(logits, targets, grad_losses, smoothing)
    name = f"cross_entropy_v{version} {str(dtype).removeprefix('torch.')}"
    for order in ORDERS if case_index == 0 else ("shuffle",):
        losses, row_max, log_sum = _ops.emulated_cross_entropy_forward(logits, targets, IGNORE, smoothing, version,
                                                                       order, 7, "fibers")
        check_row_statistics(logits, row_max, log_sum)
        grad = _ops.emulated_cross_entropy_backward(logits, targets, row_max, log_sum, grad_losses, IGNORE, smoothing,
                                                    version, order, 7, "fibers")
        for label, got, expected in (("", losses, ref_losses), (" backward", grad, ref_grad)):
            assert got.dtype == dtype
            error = relative_error(got, expected, floor=1.0)
            error_report(name + label, error)
            assert error < TOLERANCE[dtype]


@settings(max_examples=8)
@given(st.integers(1, 12), st.integers(1, 600), st.sampled_from(VERSIONS), st.sampled_from([0.0, 0.1]),
       st.integers(0, 100))
def test_random_shapes_with_autograd(rows, classes, version, smoothing, seed):
    logits, targets, grad_losses = make_case(rows, classes, 2.0, seed)
    leaf = logits.clone().requires_grad_()
    losses = emulated_training.cross_entropy(leaf, targets, IGNORE, smoothing, version=version, order="shuffle",
                                             order_seed=seed)
    losses.backward(grad_losses)
    ref_losses, ref_grad = reference(logits, targets, grad_losses, smoothing)
    assert relative_error(losses.detach(), ref_losses, floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaf.grad, ref_grad, floor=1.0) < TOLERANCE[torch.float32]


def test_thread_scheduler_and_an_empty_batch():
    logits, targets, grad_losses = make_case(5, 300, 1.0, seed=5)
    ref_losses, _ = reference(logits, targets, grad_losses, 0.0)
    for version in VERSIONS:
        losses, _, _ = _ops.emulated_cross_entropy_forward(logits, targets, IGNORE, 0.0, version, "forward", 0,
                                                           "threads")
        assert relative_error(losses, ref_losses, floor=1.0) < TOLERANCE[torch.float32]
        empty = emulated_training.cross_entropy(torch.empty(0, 7), torch.empty(0, dtype=torch.long), version=version)
        assert empty.shape == (0,)


def test_opcheck_of_the_emulated_ops():
    logits, targets, grad_losses = make_case(6, 19, 1.0, seed=2)
    for requires_grad in (False, True):
        x = logits.clone().requires_grad_(requires_grad)
        torch.library.opcheck(_ops.emulated_cross_entropy_forward,
                              (x, targets, IGNORE, 0.1, VERSIONS[0], "reverse", 0, "fibers"))
    _, row_max, log_sum = _ops.emulated_cross_entropy_forward(logits, targets, IGNORE, 0.0, VERSIONS[-1], "forward",
                                                              0, "fibers")
    torch.library.opcheck(_ops.emulated_cross_entropy_backward,
                          (logits, targets, row_max, log_sum, grad_losses, IGNORE, 0.0, VERSIONS[-1], "shuffle", 4,
                           "fibers"))
    # the fake's dtypes in bfloat16: the losses in the logits' dtype, row_max and log_sum float32
    torch.library.opcheck(_ops.emulated_cross_entropy_forward,
                          (logits.bfloat16(), targets, IGNORE, 0.1, VERSIONS[-1], "forward", 0, "fibers"),
                          test_utils="test_faketensor")


def test_bad_arguments_give_one_line_errors():
    logits = torch.randn(3, 5)
    with pytest.raises(RuntimeError, match=r"target 7 at row 0 is not in \[0, 5\)"):
        emulated_training.cross_entropy(logits, torch.tensor([7, 0, 1]))
    with pytest.raises(RuntimeError, match="targets must be"):
        emulated_training.cross_entropy(logits, torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="logits must be float32, float16 or bfloat16 .*got Double"):
        emulated_training.cross_entropy(logits.double(), torch.tensor([0, 1, 2]))
    targets = torch.tensor([0, 1, 2])
    _, row_max, log_sum = _ops.emulated_cross_entropy_forward(logits.half(), targets, IGNORE, 0.0, VERSIONS[-1],
                                                              "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="row_max and log_sum must be float32, got Half"):
        _ops.emulated_cross_entropy_backward(logits.half(), targets, row_max.half(), log_sum, row_max.half(), IGNORE,
                                             0.0, VERSIONS[-1], "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="label_smoothing must be in"):
        emulated_training.cross_entropy(logits, torch.tensor([0, 1, 2]), label_smoothing=2.0)
    with pytest.raises(RuntimeError, match=re.escape(f"version must be one of {list(VERSIONS)}, got 0")):
        _ops.emulated_cross_entropy_forward(logits, torch.tensor([0, 1, 2]), IGNORE, 0.0, 0, "forward", 0, "fibers")
