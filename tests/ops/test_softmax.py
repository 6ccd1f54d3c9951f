"""minitransformer.ops.softmax (the C++ op) and the hand-written torch version (nn/softmax.py) against the
NumPy reference, plus the op's contract: gradcheck, opcheck, torch.compile, bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minitransformer.ops as ops
from minitransformer.nn.softmax import softmax as eager_softmax
from minitransformer.ops.dtypes import CPU_DTYPES
from minitransformer.reference import softmax as ref
from helpers import TOLERANCE, relative_error, to_numpy

# Sides include 1, primes and non-multiples of 8/32/128/1024 (SIMD width, warp, block, tile sizes).
SIDES = [1, 2, 3, 7, 8, 31, 33, 127, 129, 257, 1000, 1025]


@st.composite
def softmax_inputs(draw, max_dims=3, max_numel=40_000, scales=(1.0, 30.0, 1e4)):
    """(x as float64 numpy, dim): random shapes, values up to ±``max(scales)``, sprinkled -inf entries."""
    ndim = draw(st.integers(1, max_dims))
    shape = [draw(st.sampled_from(SIDES)) for _ in range(ndim)]
    while math.prod(shape) > max_numel:
        shape[shape.index(max(shape))] = draw(st.sampled_from(SIDES[:6]))
    dim = draw(st.integers(-ndim, ndim - 1))
    scale = draw(st.sampled_from(scales))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape) * scale
    if draw(st.booleans()):
        x[rng.random(shape) < 0.2] = -np.inf
    return x, dim


IMPLEMENTATIONS = {"fused": ops.softmax, "eager": eager_softmax}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=softmax_inputs())
def test_matches_numpy_reference(implementation, case):
    x, dim = case
    y = IMPLEMENTATIONS[implementation](torch.tensor(x, dtype=torch.float32), dim)
    expected = ref.softmax(x.astype(np.float32), dim)  # the same float32-rounded inputs
    assert y.dtype == torch.float32 and y.shape == x.shape
    assert relative_error(y.numpy(), expected) <= TOLERANCE[torch.float32]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("dtype", CPU_DTYPES)
@given(case=softmax_inputs(max_numel=5_000, scales=(1.0, 30.0, 1e3)), seed=st.integers(0, 1000))
def test_every_dtype_matches_numpy_reference(device, dtype, case, seed):
    """bfloat16 and float16 are computed in float32 and rounded once, by the CPU op and by the CUDA kernels
    (which take float32, float16 and bfloat16): against the reference on the same dtype-rounded inputs, what
    remains is about one rounding of the output (values up to 1e3: float16 holds them)."""
    if device == "cuda" and dtype == torch.float64:
        pytest.skip("the CUDA kernels take float32, float16 and bfloat16")
    x, dim = case
    xt = torch.tensor(x).to(device=device, dtype=dtype).requires_grad_()
    y = ops.softmax(xt, dim)
    expected = ref.softmax(to_numpy(xt), dim)
    assert y.dtype == dtype and relative_error(y, expected) <= TOLERANCE[dtype]
    grad_y = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)).to(device=device, dtype=dtype)
    y.backward(grad_y)
    g = to_numpy(grad_y)
    terms = expected * (np.abs(g) + np.abs(np.sum(expected * g, axis=dim, keepdims=True)))  # see the test above
    assert xt.grad.dtype == dtype
    assert np.linalg.norm(to_numpy(xt.grad) - ref.softmax_backward(expected, g, dim)) \
        <= TOLERANCE[dtype] * max(np.linalg.norm(terms), 1e-30)


@given(case=softmax_inputs())
def test_rows_sum_to_one_and_are_invariant_to_a_constant_shift(case):
    x, dim = case
    x = torch.tensor(x, dtype=torch.float32)
    y = ops.softmax(x, dim)
    row_sums = y.sum(dim)
    has_finite_entry = torch.isfinite(x).any(dim)
    torch.testing.assert_close(row_sums[has_finite_entry], torch.ones_like(row_sums[has_finite_entry]),
                               rtol=0, atol=1e-5)
    assert (row_sums[~has_finite_entry] == 0).all()
    shift = torch.randn(row_sums.shape, generator=torch.Generator().manual_seed(0)).unsqueeze(dim) * 50
    torch.testing.assert_close(ops.softmax(x + shift, dim), y, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=softmax_inputs(max_numel=5_000), seed=st.integers(0, 1000))
def test_backward_matches_numpy_reference(implementation, case, seed):
    x, dim = case
    x[~np.isfinite(x)] = -30.0  # the gradient of an all -inf row is not interesting here
    grad_y = np.random.default_rng(seed).standard_normal(x.shape)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    y = IMPLEMENTATIONS[implementation](xt, dim)
    y.backward(torch.tensor(grad_y, dtype=torch.float32))
    y32, g32 = ref.softmax(x.astype(np.float32), dim), grad_y.astype(np.float32)
    expected = ref.softmax_backward(y32, g32, dim)
    # y * (g - sum(y g)) cancels when g is nearly constant over a row: bound the error by the size of
    # the terms that cancel, not by the (possibly tiny) result.
    terms = y32 * (np.abs(g32) + np.abs(np.sum(y32 * g32, axis=dim, keepdims=True)))
    assert np.linalg.norm(xt.grad.numpy() - expected) <= TOLERANCE[torch.float32] * max(np.linalg.norm(terms), 1e-30)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_all_minus_inf_row_is_zeros_with_zero_gradient(implementation):
    x = torch.tensor([[-math.inf, -math.inf, -math.inf], [0.0, 1.0, -math.inf]], requires_grad=True)
    y = IMPLEMENTATIONS[implementation](x, -1)
    assert torch.equal(y[0], torch.zeros(3))
    y.sum().backward()
    assert torch.equal(x.grad[0], torch.zeros(3))
    assert torch.isfinite(x.grad).all()


def test_large_logits_match_torch():
    x = torch.tensor([[1e4, 1e4 - 1, -1e4, 0.0], [-1e4, -1e4, -1e4 + 3, -1e4]])
    torch.testing.assert_close(ops.softmax(x), torch.softmax(x, -1))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_implementations_agree_with_torch(implementation):
    x = torch.randn(33, 129, generator=torch.Generator().manual_seed(1)) * 10
    torch.testing.assert_close(IMPLEMENTATIONS[implementation](x, -1), torch.softmax(x, -1), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape,dim", [((4, 5), -1), ((3, 4, 5), 1), ((2, 3, 4), 0), ((7,), 0)])
def test_gradcheck_and_gradgradcheck_float64(shape, dim):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: ops.softmax(t, dim), (x,))
    assert torch.autograd.gradgradcheck(lambda t: ops.softmax(t, dim), (x,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 17), -1), ((2, 3, 5), 1), ((1,), 0)])
def test_opcheck(shape, dim, requires_grad, dtype):
    x = torch.randn(shape, dtype=dtype, requires_grad=requires_grad)
    torch.library.opcheck(torch.ops.minitransformer.softmax.default, (x, dim))
    y = torch.softmax(x.detach(), dim)
    grad_y = torch.randn(shape, dtype=dtype)
    torch.library.opcheck(torch.ops.minitransformer.softmax_backward.default,
                          (y.requires_grad_(requires_grad), grad_y, dim))


def test_torch_compile_fullgraph():
    compiled = torch.compile(lambda t: ops.softmax(t, -1) * 2, fullgraph=True, backend="aot_eager")
    x = torch.randn(6, 10)
    torch.testing.assert_close(compiled(x), torch.softmax(x, -1) * 2)


def test_non_contiguous_input_gives_the_right_result():
    x = torch.randn(12, 9).t()  # (9, 12), strides (1, 9)
    assert not x.is_contiguous()
    torch.testing.assert_close(ops.softmax(x, -1), torch.softmax(x, -1))
    torch.testing.assert_close(ops.softmax(x[:, ::2], 0), torch.softmax(x[:, ::2], 0))


def test_empty_input_gives_an_empty_result():
    for shape, dim in [((0, 5), -1), ((4, 0), -1), ((0,), 0)]:
        y = ops.softmax(torch.empty(shape), dim)
        assert y.shape == shape


def test_float64_is_supported_on_cpu():
    x = torch.randn(5, 6, dtype=torch.float64)
    y = ops.softmax(x)
    assert y.dtype == torch.float64
    np.testing.assert_allclose(y.numpy(), ref.softmax(x.numpy()), rtol=1e-12)


@pytest.mark.parametrize("x,dim,match", [
    (torch.arange(6).reshape(2, 3), -1, "x must be a floating-point tensor"),
    (torch.randn(2, 3), 2, "dim=2 is out of range"),
    (torch.randn(2, 3), -3, "dim=-3 is out of range"),
    (torch.randn(2, 3).to(torch.float8_e4m3fn), -1, "float32, float64, bfloat16 or float16 on the CPU"),
])
def test_bad_input_raises_a_clear_error(x, dim, match):
    with pytest.raises(RuntimeError, match=match):
        ops.softmax(x, dim)


@pytest.mark.parametrize("value", [3.0, -1e4, -math.inf])
@pytest.mark.parametrize("dim", [0, -1])
def test_a_0d_tensor_is_a_one_element_row_as_in_torch(value, dim):
    x = torch.tensor(value, requires_grad=True)
    y = ops.softmax(x, dim)
    assert y.shape == () and y.item() == (0.0 if value == -math.inf else 1.0)  # torch: 1.0, and NaN for -inf
    if value != -math.inf:
        assert y.item() == torch.softmax(x.detach(), dim).item()
    y.backward()
    assert x.grad.item() == 0.0
    with pytest.raises(ValueError, match="dim=1 is out of range for a 0-d x"):
        ops.softmax(x, 1)
    with pytest.raises(RuntimeError, match="at least one dimension"):  # the op itself keeps its contract
        torch.ops.minitransformer.softmax(x, 0)


def test_bad_arguments_of_the_python_face():
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="backend must be one of"):
        ops.softmax(x, backend="cudnn")
    with pytest.raises(ValueError, match="version must be one of"):
        ops.softmax(x, version=9)
    with pytest.raises(ValueError, match="selects a CUDA kernel"):
        ops.softmax(x, version=1)
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        ops.softmax(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="same shape"):
        torch.ops.minitransformer.softmax_backward(torch.randn(2, 3), torch.randn(3, 2), -1)


@pytest.mark.cuda
@pytest.mark.parametrize("version", [None, *ops.kernel_versions("softmax")])
@given(case=softmax_inputs())
def test_cuda_matches_numpy_reference(version, case):
    x, dim = case
    y = ops.softmax(torch.tensor(x, dtype=torch.float32, device="cuda"), dim, version=version)
    assert relative_error(y.cpu().numpy(), ref.softmax(x.astype(np.float32), dim)) <= TOLERANCE[torch.float32]


@pytest.mark.cuda
def test_cuda_backward_and_opcheck():
    x = torch.randn(37, 1000, device="cuda", requires_grad=True)
    y = ops.softmax(x)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    expected = ref.softmax_backward(y.detach().cpu().numpy(), grad_y.cpu().numpy())
    assert relative_error(x.grad.cpu().numpy(), expected) <= TOLERANCE[torch.float32]
    torch.library.opcheck(torch.ops.minitransformer.softmax.default, (x, -1))
    torch.library.opcheck(torch.ops.minitransformer.softmax_kernel.default, (x.detach(), -1, 2))
