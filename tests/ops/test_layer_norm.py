"""minitransformer.ops.layer_norm (the fused C++ op) against the NumPy reference, torch's F.layer_norm and
the hand-written nn.LayerNorm, plus the op's contract: gradcheck, opcheck, deterministic parameter
gradients across thread counts, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer import ops
from minitransformer.ops.dtypes import CPU_DTYPES
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from helpers import TOLERANCE, relative_error

# Widths include 1 and non-multiples of the SIMD widths (8 and 16 floats); rows cross the 32-row blocks.
WIDTHS = [1, 2, 3, 7, 8, 17, 33, 128, 257, 768]


def condition_number(x):
    """max over rows of |x| / std(x), at least 1. x - mean loses the bits that x and its mean share, so
    round-off bounds scale with it: large for rows with a big offset and a small spread (1e2 vs 1e-3 in the
    draws), infinite for constant rows (one feature), whose normalised value is 0 and whose float result is
    whatever the rounding of the mean leaves."""
    rows = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    with np.errstate(divide="ignore"):
        return max(1.0, float(np.max(np.abs(rows).max(-1) / rows.std(-1))))


@st.composite
def layer_norm_inputs(draw):
    width = draw(st.sampled_from(WIDTHS))
    leading = draw(st.sampled_from([(1,), (5,), (33,), (2, 40), (3, 1, 7)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale, shift = draw(st.sampled_from([(1.0, 0.0), (1e3, 0.0), (1.0, 1e2), (1e-3, 1.0)]))
    x = rng.standard_normal((*leading, width)) * scale + shift
    return x, rng.standard_normal(width), rng.standard_normal(width), rng.standard_normal(x.shape)


@pytest.mark.parametrize("dtype", CPU_DTYPES)
@given(case=layer_norm_inputs())
def test_forward_and_backward_match_numpy_reference(dtype, case):
    x, gamma, beta, grad_y = (torch.tensor(a, dtype=dtype) for a in case)
    inputs = [t.clone().requires_grad_() for t in (x, gamma, beta)]
    y = ops.layer_norm(*inputs, eps=1e-5)
    y.backward(grad_y)
    rounded = [t.double().numpy() for t in (x, gamma, beta, grad_y)]  # the same dtype-rounded values
    expected_y, cache = layernorm_forward(*rounded[:3], eps=1e-5)
    expected_grads = layernorm_backward(rounded[3], cache)
    bound = TOLERANCE[dtype] * condition_number(rounded[0])
    assert y.dtype == dtype and relative_error(y, expected_y) <= bound
    for tensor, expected in zip(inputs, expected_grads):
        assert tensor.grad.dtype == dtype
        # dx cancels (g - mean(g) - xh mean(g xh)): bound its error by the size of the terms, as for softmax
        assert relative_error(tensor.grad, expected, floor=np.linalg.norm(rounded[3] * rounded[1]) + 1e-30) \
            <= 10 * bound


@given(case=layer_norm_inputs())
def test_matches_torch_and_the_eager_module(case):
    x, gamma, beta, grad_y = (torch.tensor(a, dtype=torch.float32) for a in case)
    module = mnn.LayerNorm(x.shape[-1])
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
    results = []
    for forward in (lambda t: ops.layer_norm(t, module.weight, module.bias),
                    lambda t: F.layer_norm(t, t.shape[-1:], module.weight, module.bias), module):
        module.zero_grad()
        xx = x.clone().requires_grad_()
        y = forward(xx)
        y.backward(grad_y)
        results.append([y.detach(), xx.grad, module.weight.grad.clone(), module.bias.grad.clone()])
    for other in results[1:]:
        for ours, theirs in zip(results[0], other):
            assert relative_error(ours, theirs, floor=1e-3) <= 10 * TOLERANCE[torch.float32] * condition_number(x)


def test_parameter_gradients_are_the_same_bits_for_any_thread_count():
    generator = torch.Generator().manual_seed(0)
    x, grad_y = torch.randn(2, 1000, 96, generator=generator), torch.randn(2, 1000, 96, generator=generator)
    weight, bias = torch.randn(96, generator=generator), torch.randn(96, generator=generator)
    threads = torch.get_num_threads()
    grads = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            _, mean, rstd = torch.ops.minitransformer.layer_norm_forward(x, weight, bias, 1e-5)
            grads.append(torch.ops.minitransformer.layer_norm_backward(grad_y, x, weight, mean, rstd))
    finally:
        torch.set_num_threads(threads)
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            assert torch.equal(a, b)


def test_gradcheck_in_float64():
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randn(*shape, dtype=torch.float64, generator=generator, requires_grad=True)
              for shape in ((4, 3, 9), (9,), (9,))]
    assert torch.autograd.gradcheck(lambda x, w, b: ops.layer_norm(x, w, b), inputs)


def test_opcheck():
    for dtype in CPU_DTYPES:
        x, weight, bias = torch.randn(5, 7, 12, dtype=dtype), torch.randn(12, dtype=dtype), torch.randn(12, dtype=dtype)
        torch.library.opcheck(torch.ops.minitransformer.layer_norm_forward,
                              (x.requires_grad_(), weight.requires_grad_(), bias.requires_grad_(), 1e-5))
        _, mean, rstd = torch.ops.minitransformer.layer_norm_forward(x.detach(), weight.detach(), bias.detach(), 1e-5)
        torch.library.opcheck(torch.ops.minitransformer.layer_norm_backward,
                              (torch.randn_like(x), x.detach(), weight.detach(), mean, rstd))


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(RuntimeError, match=r"weight and bias must be \(4,\)"):
        ops.layer_norm(torch.randn(2, 4), torch.ones(3), torch.zeros(3))
    with pytest.raises(RuntimeError, match="eps must be positive"):
        ops.layer_norm(torch.randn(2, 4), torch.ones(4), torch.zeros(4), eps=0.0)
    with pytest.raises(RuntimeError, match="float32, float64, bfloat16 or float16"):
        ops.layer_norm(*(t.to(torch.float8_e4m3fn) for t in (torch.randn(2, 4), torch.ones(4), torch.zeros(4))))


def test_a_single_feature_normalises_to_zero():
    x = torch.randn(6, 1) * 100
    torch.testing.assert_close(ops.layer_norm(x, torch.full((1,), 3.0), torch.full((1,), 0.5)), torch.full((6, 1), 0.5),
                               rtol=0, atol=0)
