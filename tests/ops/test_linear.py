"""minitransformer.ops.linear (the linear layer's products on oneDNN) against the NumPy float64 reference and F.linear:
values and all three gradients, the op's contract (opcheck, torch.compile), when it falls back to F.linear,
and bad input."""

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.reference.linear import linear_backward, linear_forward
from helpers import TOLERANCE, relative_error

linear_module = sys.modules["minitransformer.ops.linear"]  # the package's ``linear`` is the function

needs_onednn = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this torch has no oneDNN")


@st.composite
def linear_inputs(draw):
    """x (..., in), weight (out, in), bias or None, and dy: sizes 1, odd, and not multiples of SIMD widths."""
    leading = draw(st.sampled_from([(1,), (7,), (2, 33), (3, 1, 5)]))
    n_in, n_out = draw(st.sampled_from([1, 5, 16, 33, 130])), draw(st.sampled_from([1, 3, 17, 64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 1e3]))
    has_bias = draw(st.booleans())
    arrays = (rng.standard_normal((*leading, n_in)) * scale, rng.standard_normal((n_out, n_in)),
              rng.standard_normal(n_out) if has_bias else None, rng.standard_normal((*leading, n_out)))
    return [None if a is None else torch.tensor(a, dtype=torch.float32) for a in arrays]


@needs_onednn
@given(case=linear_inputs())
def test_values_and_gradients_match_the_numpy_reference(case):
    x, weight, bias, grad_y = case
    leaves = [None if t is None else t.clone().requires_grad_() for t in (x, weight, bias)]
    assert linear_module.runs_on_onednn(x, weight)
    y = ops.linear(*leaves)
    y.backward(grad_y)
    x64, w64, dy64 = x.double().numpy(), weight.double().numpy(), grad_y.double().numpy()
    expected = linear_forward(x64, w64, bias.double().numpy() if bias is not None else None)
    expected_grads = linear_backward(x64, w64, dy64)
    assert y.shape == expected.shape and y.dtype == torch.float32
    assert relative_error(y, expected, floor=1.0) < TOLERANCE[torch.float32]
    for leaf, want in zip(leaves, expected_grads):
        if leaf is not None:
            assert relative_error(leaf.grad, want, floor=1.0) < TOLERANCE[torch.float32]


@needs_onednn
def test_matches_f_linear_at_a_model_shape():
    x, weight, bias = torch.randn(4, 256, 128), torch.randn(512, 128), torch.randn(512)
    ours = [t.clone().requires_grad_() for t in (x, weight, bias)]
    theirs = [t.clone().requires_grad_() for t in (x, weight, bias)]
    grad_y = torch.randn(4, 256, 512)
    ops.linear(*ours).backward(grad_y)
    F.linear(*theirs).backward(grad_y)
    torch.testing.assert_close(ops.linear(x, weight, bias), F.linear(x, weight, bias), rtol=1e-5, atol=1e-5)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_opcheck():
    x, weight, bias = torch.randn(3, 5, 12), torch.randn(7, 12), torch.randn(7)
    torch.library.opcheck(torch.ops.minitransformer.linear, (x.requires_grad_(), weight.requires_grad_(),
                                                             bias.requires_grad_()))
    torch.library.opcheck(torch.ops.minitransformer.linear, (torch.randn(4, 12), torch.randn(7, 12), None))


@needs_onednn
def test_torch_compile_fullgraph():
    x, weight, bias = torch.randn(6, 12), torch.randn(7, 12, requires_grad=True), torch.randn(7)
    compiled = torch.compile(lambda a, w, b: ops.linear(a, w, b).square().sum(), fullgraph=True, backend="eager")
    compiled(x, weight, bias).backward()
    expected = torch.autograd.grad(F.linear(x, weight, bias).square().sum(), weight)[0]
    torch.testing.assert_close(weight.grad, expected)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_other_dtypes_call_f_linear(dtype):
    x, weight = torch.randn(4, 6, dtype=dtype), torch.randn(3, 6, dtype=dtype)
    assert not linear_module.runs_on_onednn(x, weight)
    assert torch.equal(ops.linear(x, weight), F.linear(x, weight))


def test_float64_gradcheck():
    args = (torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True),
            torch.randn(5, 4, dtype=torch.float64, requires_grad=True), torch.randn(5, dtype=torch.float64,
                                                                                    requires_grad=True))
    assert torch.autograd.gradcheck(ops.linear, args)


def test_autocast_and_one_dimensional_inputs_call_f_linear():
    x, weight = torch.randn(4, 6), torch.randn(3, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not linear_module.runs_on_onednn(x, weight)
        assert ops.linear(x, weight).dtype == torch.bfloat16  # autocast's rule for F.linear
    assert torch.equal(ops.linear(x[0], weight), F.linear(x[0], weight))
    assert ops.linear(x[:0], weight).shape == (0, 3)


@needs_onednn
@pytest.mark.parametrize("x_shape, weight_shape, bias_shape", [((4, 6), (3, 5), None), ((4, 6), (3, 6), (4,)),
                                                               ((4, 6), (3, 6, 1), None)])
def test_bad_shapes_give_one_line_errors(x_shape, weight_shape, bias_shape):
    bias = torch.randn(bias_shape) if bias_shape else None
    with pytest.raises(ValueError, match=r"linear: x \(\.\.\., in\), weight \(out, in\)"):
        ops.linear(torch.randn(x_shape), torch.randn(weight_shape), bias)
