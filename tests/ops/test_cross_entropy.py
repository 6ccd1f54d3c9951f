"""minitransformer.ops.cross_entropy (the fused C++ op) against the NumPy reference, PyTorch and the
hand-written torch loss (nn/losses.py), plus the op's contract: gradcheck, opcheck, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops.dtypes import CPU_DTYPES
from minitransformer.nn.losses import cross_entropy as eager_cross_entropy
from minitransformer.reference import losses as ref
from helpers import TOLERANCE, relative_error

# Class counts include 1 and non-multiples of the SIMD widths (8 and 16 floats); rows include 1.
CLASSES = [1, 2, 3, 7, 8, 15, 17, 33, 100, 1000, 8003]
IGNORE = -100


@st.composite
def cross_entropy_inputs(draw, max_numel=60_000):
    """(logits float64 (rows, C), targets (rows,) with some ignore_index, label_smoothing)."""
    classes = draw(st.sampled_from(CLASSES))
    rows = draw(st.integers(1, max(1, min(40, max_numel // classes))))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal((rows, classes)) * draw(st.sampled_from([1.0, 30.0, 1e3]))
    targets = rng.integers(0, classes, rows)
    if draw(st.booleans()):
        targets[rng.random(rows) < 0.3] = IGNORE
    return logits, targets, draw(st.sampled_from([0.0, 0.1, 1.0]))


@pytest.mark.parametrize("dtype", CPU_DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=cross_entropy_inputs())
def test_forward_and_backward_match_numpy_reference(dtype, reduction, case):
    logits, targets, smoothing = case
    x = torch.tensor(logits, dtype=dtype, requires_grad=True)
    loss = ops.cross_entropy(x, torch.tensor(targets), IGNORE, smoothing, reduction)
    rounded = x.detach().double().numpy()  # the reference sees the same dtype-rounded logits
    expected = ref.cross_entropy(rounded, targets, IGNORE, smoothing, reduction)
    assume(np.abs(expected).max() < torch.finfo(dtype).max)  # a float16 sum of large losses overflows, as torch's
    assert loss.dtype == dtype and relative_error(loss, expected) <= TOLERANCE[dtype]
    if reduction == "none":
        return
    loss.backward()
    assert relative_error(x.grad, ref.cross_entropy_backward(rounded, targets, IGNORE, smoothing, reduction)) \
        <= TOLERANCE[dtype]


@given(case=cross_entropy_inputs())
def test_matches_torch_and_the_eager_loss(case):
    logits, targets, smoothing = case
    results = []
    for loss_fn in (ops.cross_entropy, eager_cross_entropy, F.cross_entropy):
        x = torch.tensor(logits, dtype=torch.float32, requires_grad=True)
        loss = loss_fn(x, torch.tensor(targets), ignore_index=IGNORE, label_smoothing=smoothing)
        loss.backward()
        results.append((loss.detach(), x.grad))
    if (targets == IGNORE).all():  # F.cross_entropy gives NaN for "mean" over nothing; ours gives 0
        results.pop()
    for loss, grad in results[1:]:
        assert relative_error(results[0][0], loss) <= TOLERANCE[torch.float32]
        assert relative_error(results[0][1], grad) <= TOLERANCE[torch.float32]


def test_leading_dimensions_and_all_ignored():
    logits = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[0, 4, IGNORE], [1, 2, 3]])
    flat = ops.cross_entropy(logits.reshape(6, 5), targets.reshape(6), reduction="none")
    torch.testing.assert_close(ops.cross_entropy(logits, targets, reduction="none"), flat.reshape(2, 3))
    x = torch.randn(4, 7, requires_grad=True)
    loss = ops.cross_entropy(x, torch.full((4,), IGNORE))
    loss.backward()
    assert loss.item() == 0.0 and (x.grad == 0).all()


def test_gradcheck_in_float64():
    x = torch.randn(5, 11, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([0, 10, IGNORE, 3, 3])
    for smoothing in (0.0, 0.2):
        assert torch.autograd.gradcheck(lambda t: ops.cross_entropy(t, targets, IGNORE, smoothing, "none"), (x,))
        assert torch.autograd.gradcheck(lambda t: ops.cross_entropy(t, targets, IGNORE, smoothing), (x,))


def test_opcheck():
    for dtype in CPU_DTYPES:
        logits = torch.randn(6, 9, dtype=dtype, requires_grad=True)
        targets = torch.tensor([0, 8, IGNORE, 2, 2, 5])
        torch.library.opcheck(torch.ops.minitransformer.cross_entropy_forward, (logits, targets, IGNORE, 0.1))
        _, row_max, log_sum = torch.ops.minitransformer.cross_entropy_forward(logits.detach(), targets, IGNORE, 0.1)
        torch.library.opcheck(torch.ops.minitransformer.cross_entropy_backward,
                              (logits.detach(), targets, row_max, log_sum, torch.ones(6, dtype=dtype), IGNORE, 0.1))


@pytest.mark.parametrize("dtype", CPU_DTYPES)
@given(case=cross_entropy_inputs(), transposed=st.booleans())
def test_in_place_backward_writes_the_same_gradient_over_the_logits(dtype, case, transposed):
    """cross_entropy_backward_ = cross_entropy_backward, bit for bit, on contiguous logits (written directly in
    float32 and float64) and on transposed views (computed apart and copied back)."""
    logits, targets, smoothing = case
    x = torch.tensor(logits.T, dtype=dtype).t() if transposed else torch.tensor(logits, dtype=dtype)
    targets, grad_losses = torch.tensor(targets), torch.rand(len(targets)).to(dtype)
    _, row_max, log_sum = torch.ops.minitransformer.cross_entropy_forward(x, targets, IGNORE, smoothing)
    expected = torch.ops.minitransformer.cross_entropy_backward(x, targets, row_max, log_sum, grad_losses, IGNORE,
                                                                smoothing)
    torch.ops.minitransformer.cross_entropy_backward_(x, targets, row_max, log_sum, grad_losses, IGNORE, smoothing)
    assert torch.equal(x, expected)


def test_loss_and_gradient_in_place_matches_the_op_and_its_autograd():
    x = torch.randn(9, 40, requires_grad=True)
    targets, weights = torch.tensor([0, 39, IGNORE, 3, 3, 7, 1, 2, 5]), torch.rand(9)
    losses = ops.cross_entropy(x, targets, IGNORE, reduction="none")
    (losses * weights).sum().backward()
    logits = x.detach().clone()
    torch.testing.assert_close(ops.cross_entropy_and_gradient_(logits, targets, weights, IGNORE), losses.detach(),
                               rtol=0, atol=0)
    torch.testing.assert_close(logits, x.grad, rtol=0, atol=0)
    torch.library.opcheck(torch.ops.minitransformer.cross_entropy_backward_,
                          (x.detach().clone(), targets, *torch.ops.minitransformer.cross_entropy_forward(
                              x.detach(), targets, IGNORE, 0.0)[1:], weights, IGNORE, 0.0))


@pytest.mark.parametrize("dtype", CPU_DTYPES)
@given(case=cross_entropy_inputs(), transposed=st.booleans())
def test_bias_in_the_loss_is_adding_it_first_and_its_gradient_the_sum_over_rows(dtype, case, transposed):
    """cross_entropy_bias_gradient_(x, .., b, .., grad_b) = the forward and in-place backward of x + b, bit for
    bit (float32 and float64 contiguous: the fused kernel; the others: those steps), and grad_b gains the
    gradient's sum over rows (the fused kernel sums 32-row blocks in order: equal to rounding)."""
    logits, targets, _ = case
    x = torch.tensor(logits.T, dtype=dtype).t() if transposed else torch.tensor(logits, dtype=dtype)
    g = torch.Generator().manual_seed(len(targets))
    bias = torch.randn(x.shape[1], generator=g).to(dtype)
    targets, grad_losses = torch.tensor(targets), torch.rand(len(targets), generator=g).to(dtype)
    expected = (x + bias).contiguous()
    expected_losses, row_max, log_sum = torch.ops.minitransformer.cross_entropy_forward(expected, targets, IGNORE, 0.0)
    torch.ops.minitransformer.cross_entropy_backward_(expected, targets, row_max, log_sum, grad_losses, IGNORE, 0.0)
    grad_bias = torch.ones_like(bias)  # it accumulates
    losses = torch.ops.minitransformer.cross_entropy_bias_gradient_(x, targets, bias, grad_losses, grad_bias, IGNORE)
    assert torch.equal(losses, expected_losses) and torch.equal(x, expected)
    widened = expected.double()
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(grad_bias.double(), 1 + widened.sum(0), rtol=tolerance,
                               atol=tolerance * max(1.0, widened.abs().sum(0).max().item()))


def test_bias_gradient_steps_for_other_devices_give_the_cpu_kernels_bits():
    """What CUDA and other devices run (ops/cross_entropy.py: the bias added, the two ops, the sum), here on the
    CPU against the fused kernel: the same losses and gradient, the bias gradient equal to rounding."""
    from minitransformer.ops.cross_entropy import bias_gradient_steps_
    g = torch.Generator().manual_seed(3)
    x, bias = torch.randn(70, 33, generator=g), torch.randn(33, generator=g)
    targets, grad_losses = torch.randint(0, 33, (70,), generator=g), torch.rand(70, generator=g)
    targets[::7] = IGNORE
    fused_x, steps_x, fused_db, steps_db = x.clone(), x.clone(), torch.zeros(33), torch.zeros(33)
    fused = torch.ops.minitransformer.cross_entropy_bias_gradient_(fused_x, targets, bias, grad_losses, fused_db, IGNORE)
    steps = bias_gradient_steps_(steps_x, targets, bias, grad_losses, steps_db, IGNORE)
    assert torch.equal(fused, steps) and torch.equal(fused_x, steps_x)
    torch.testing.assert_close(fused_db, steps_db, rtol=1e-6, atol=1e-6)


def test_bias_gradient_op_contract_and_bad_input():
    x, targets = torch.randn(37, 19), torch.tensor([IGNORE] + list(range(18)) * 2)
    bias, grad_losses, grad_bias = torch.randn(19), torch.rand(37), torch.zeros(19)
    torch.library.opcheck(torch.ops.minitransformer.cross_entropy_bias_gradient_,
                          (x, targets, bias, grad_losses, grad_bias, IGNORE))
    with pytest.raises(RuntimeError, match=r"bias and grad_bias must be \(classes,\) = \(19,\)"):
        torch.ops.minitransformer.cross_entropy_bias_gradient_(x, targets, bias[:5], grad_losses, grad_bias, IGNORE)
    with pytest.raises(RuntimeError, match="must have logits' dtype"):
        torch.ops.minitransformer.cross_entropy_bias_gradient_(x, targets, bias.double(), grad_losses, grad_bias,
                                                                IGNORE)
    with pytest.raises(RuntimeError, match=r"grad_losses must be \(rows,\) = \(37,\)"):
        torch.ops.minitransformer.cross_entropy_bias_gradient_(x, targets, bias, grad_losses[:3], grad_bias, IGNORE)


@pytest.mark.parametrize("targets, match", [
    (torch.tensor([0, 5]), r"target 5 at row 1 is not in \[0, 5\)"),
    (torch.tensor([0, -1]), r"target -1 at row 1"),
])
def test_out_of_range_targets_are_named(targets, match):
    with pytest.raises(RuntimeError, match=match):
        ops.cross_entropy(torch.randn(2, 5), targets)


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(ValueError, match="targets must have shape"):
        ops.cross_entropy(torch.randn(2, 5), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        ops.cross_entropy(torch.randn(2, 5), torch.tensor([0, 1]), reduction="max")
    with pytest.raises(RuntimeError, match="label_smoothing must be in"):
        ops.cross_entropy(torch.randn(2, 5), torch.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="float32, float64, bfloat16 or float16"):
        ops.cross_entropy(torch.randn(2, 5).to(torch.float8_e4m3fn), torch.tensor([0, 1]))
