"""minitransformer.ops.bias_gelu (the fused C++ op: bias add + GELU) against the NumPy reference, torch's
F.gelu and the hand-written nn.gelu, plus the op's contract: gradcheck, opcheck, deterministic bias
gradients across thread counts, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer import ops
from minitransformer.ops.dtypes import CPU_DTYPES, compute_dtype
from minitransformer.reference.activations import gelu as ref_gelu, gelu_backward as ref_gelu_backward
from helpers import TOLERANCE, relative_error

WIDTHS = [1, 3, 7, 8, 17, 33, 512, 1000]  # 1 and non-multiples of the SIMD widths (8 and 16 floats)


@st.composite
def bias_gelu_inputs(draw):
    width = draw(st.sampled_from(WIDTHS))
    leading = draw(st.sampled_from([(1,), (5,), (33,), (2, 40)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 4.0, 30.0]))  # 30: the tails, where gelu -> 0 or z and gelu' -> 0 or 1
    return (rng.standard_normal((*leading, width)) * scale, rng.standard_normal(width), rng.standard_normal((*leading,
                                                                                                              width)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", CPU_DTYPES)
@given(case=bias_gelu_inputs())
def test_forward_and_backward_match_numpy_reference(dtype, approximate, case):
    x, bias, grad_y = (torch.tensor(a, dtype=dtype) for a in case)
    inputs = [t.clone().requires_grad_() for t in (x, bias)]
    y = ops.bias_gelu(*inputs, approximate=approximate)
    y.backward(grad_y)
    compute = compute_dtype(dtype)
    z = (x.to(compute) + bias.to(compute)).double().numpy()  # the sum the kernel sees, rounded to its compute dtype
    expected_dx = ref_gelu_backward(z, grad_y.double().numpy(), approximate)
    assert y.dtype == inputs[0].grad.dtype == inputs[1].grad.dtype == dtype
    assert relative_error(y, ref_gelu(z, approximate)) <= TOLERANCE[dtype]
    assert relative_error(inputs[0].grad, expected_dx) <= TOLERANCE[dtype]
    assert relative_error(inputs[1].grad, expected_dx.reshape(-1, x.shape[-1]).sum(0)) <= TOLERANCE[dtype]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(case=bias_gelu_inputs())
def test_matches_torch_and_the_eager_activation(approximate, case):
    x, bias, grad_y = (torch.tensor(a, dtype=torch.float32) for a in case)
    results = []
    for forward in (lambda a, b: ops.bias_gelu(a, b, approximate), lambda a, b: F.gelu(a + b, approximate=approximate),
                    lambda a, b: mnn.gelu(a + b, approximate)):
        inputs = [t.clone().requires_grad_() for t in (x, bias)]
        y = forward(*inputs)
        y.backward(grad_y)
        results.append([y.detach()] + [t.grad for t in inputs])
    for other in results[1:]:
        for ours, theirs in zip(results[0], other):
            assert relative_error(ours, theirs) <= TOLERANCE[torch.float32]


def test_bias_gradient_is_the_same_bits_for_any_thread_count():
    generator = torch.Generator().manual_seed(0)
    x, grad_y, bias = (torch.randn(*shape, generator=generator) for shape in ((3, 700, 40), (3, 700, 40), (40,)))
    threads = torch.get_num_threads()
    grads = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            grads.append(torch.ops.minitransformer.bias_gelu_backward(grad_y, x, bias, "none"))
    finally:
        torch.set_num_threads(threads)
    for other in grads[1:]:
        assert all(torch.equal(a, b) for a, b in zip(grads[0], other))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gradcheck_in_float64(approximate):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 9, dtype=torch.float64, generator=generator, requires_grad=True)
    bias = torch.randn(9, dtype=torch.float64, generator=generator, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: ops.bias_gelu(a, b, approximate), (x, bias))


def test_opcheck():
    for dtype in CPU_DTYPES:
        x, bias = torch.randn(5, 7, 12, dtype=dtype), torch.randn(12, dtype=dtype)
        torch.library.opcheck(torch.ops.minitransformer.bias_gelu_forward,
                              (x.requires_grad_(), bias.requires_grad_(), "tanh"))
        torch.library.opcheck(torch.ops.minitransformer.bias_gelu_backward,
                              (torch.randn_like(x), x.detach(), bias.detach(), "none"))


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(RuntimeError, match=r"bias must be \(4,\)"):
        ops.bias_gelu(torch.randn(2, 4), torch.zeros(3))
    with pytest.raises(ValueError, match="approximate must be one of"):
        ops.bias_gelu(torch.randn(2, 4), torch.zeros(4), approximate="sigmoid")
    with pytest.raises(RuntimeError, match="float32, float64, bfloat16 or float16"):
        ops.bias_gelu(torch.randn(2, 4).to(torch.float8_e4m3fn), torch.zeros(4).to(torch.float8_e4m3fn))
