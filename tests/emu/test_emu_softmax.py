"""Every CUDA softmax kernel (csrc/kernels/softmax_v*.cuh and the backward) executed by the emulator,
in all three fiber orders, against the NumPy float64 reference: in float32 on hypothesis-chosen small
shapes, in float16 and bfloat16 (computed in float32, stored in the input's dtype) on edge shapes."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops import emulated
from minitransformer.reference import softmax as reference
from helpers import TOLERANCE, relative_error

COLS = (1, 2, 3, 4, 7, 8, 31, 32, 33, 64, 100, 255, 256, 257, 1000)
VERSIONS = ops.kernel_versions("softmax")


@st.composite
def softmax_inputs(draw):
    """(rows, cols) float32 with some -inf entries and, sometimes, rows that are all -inf."""
    rows = draw(st.integers(1, 9))
    cols = draw(st.sampled_from(COLS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(scale=draw(st.sampled_from([0.1, 1.0, 10.0])), size=(rows, cols)).astype(np.float32)
    x[rng.random((rows, cols)) < draw(st.sampled_from([0.0, 0.1, 0.5]))] = -np.inf
    if draw(st.booleans()):
        x[rng.integers(rows)] = -np.inf
    return x


def check(kernel, out, ref, error_report, cancelling_terms=None, dtype=torch.float32):
    """Relative error within ``dtype``'s tolerance. The backward's dx = y (g - sum y g) cancels: there the error
    is relative to the norm of the terms that cancel as well (float32 rounds those, not their difference)."""
    assert np.all(np.isfinite(out)), f"{kernel}: non-finite output"
    scale = np.linalg.norm(ref) + (0.0 if cancelling_terms is None else np.linalg.norm(cancelling_terms))
    error = relative_error(out, ref, floor=max(scale, 1e-30))
    error_report(kernel if dtype == torch.float32 else f"{kernel} {dtype}".replace("torch.", ""), error)
    assert error <= TOLERANCE[dtype], f"{kernel} in {dtype}: relative error {error:.3e}"


@pytest.mark.parametrize("version", VERSIONS)
@given(x=softmax_inputs(), seed=st.integers(0, 2**32 - 1))
def test_forward_all_orders(version, x, seed, error_report):
    ref = reference.softmax(x.astype(np.float64))
    for order in emulated.ORDERS:
        out = emulated.softmax(torch.from_numpy(x), version=version, order=order, seed=seed).numpy()
        check(f"softmax_v{version}", out, ref, error_report)
        zero_rows = np.all(np.isneginf(x), axis=1)
        assert np.all(out[zero_rows] == 0), "a row of all -inf must give zeros"


@given(x=softmax_inputs(), seed=st.integers(0, 2**32 - 1))
def test_backward_all_orders(x, seed, error_report):
    y = reference.softmax(x.astype(np.float64)).astype(np.float32)
    grad_y = np.random.default_rng(seed).normal(size=x.shape).astype(np.float32)
    ref = reference.softmax_backward(y.astype(np.float64), grad_y.astype(np.float64))  # same inputs, float64
    for order in emulated.ORDERS:
        out = emulated.softmax_backward(torch.from_numpy(y), torch.from_numpy(grad_y), order=order, seed=seed)
        check("softmax_backward", out.numpy(), ref, error_report, cancelling_terms=y * grad_y)


HALF_DTYPES = (torch.float16, torch.bfloat16)
# (rows, cols, scale) of the half-precision cases: a one-element row; widths ragged against the warp, the
# 256-thread block and the four-element loads of v3 (33, 257), and multiples of four (v3's vector path);
# logits up to ±6e4, near float16's largest finite 65504 (bfloat16 takes them too).
HALF_SHAPES = [(1, 1, 1.0), (4, 33, 3.0), (3, 256, 10.0), (2, 257, 1.0), (3, 100, 6e4)]


def half_input(rows, cols, scale, dtype, seed):
    """(rows, cols) in ``dtype``, with some -inf entries and the last row all -inf when there are several."""
    rng = np.random.default_rng(seed)
    x = np.clip(rng.normal(scale=scale, size=(rows, cols)), -6e4, 6e4)
    x[rng.random((rows, cols)) < 0.1] = -np.inf
    if rows > 1:
        x[-1] = -np.inf
    return torch.tensor(x).to(dtype)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", HALF_SHAPES)
def test_half_forward_all_orders(shape, version, dtype, error_report):
    """Against the reference on the same dtype-rounded inputs: one rounding of the output remains."""
    x = half_input(*shape, dtype, seed=version)
    ref = reference.softmax(x.double().numpy())
    for order in emulated.ORDERS:
        out = emulated.softmax(x, version=version, order=order, seed=3)
        assert out.dtype == dtype
        check(f"softmax_v{version}", out.double().numpy(), ref, error_report, dtype=dtype)
        assert torch.all(out[torch.isneginf(x).all(dim=1)] == 0), "a row of all -inf must give zeros"


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("shape", HALF_SHAPES)
def test_half_backward_all_orders(shape, dtype, error_report):
    y = emulated.softmax(half_input(*shape, dtype, seed=1))
    grad_y = torch.randn(y.shape, generator=torch.Generator().manual_seed(2)).to(dtype)
    y64, g64 = y.double().numpy(), grad_y.double().numpy()
    ref = reference.softmax_backward(y64, g64)  # the same rounded inputs, float64
    for order in emulated.ORDERS:
        out = emulated.softmax_backward(y, grad_y, order=order, seed=4)
        assert out.dtype == dtype
        check("softmax_backward", out.double().numpy(), ref, error_report, cancelling_terms=y64 * g64, dtype=dtype)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_half_autograd_and_opcheck(dtype):
    x = torch.randn(3, 40, dtype=dtype, requires_grad=True)
    y = ops.softmax(x, backend="emulated", version=VERSIONS[-1])
    y.backward(torch.ones_like(y))
    assert y.dtype == x.grad.dtype == dtype
    torch.library.opcheck(torch.ops.minitransformer.emulated_softmax, (x, -1, VERSIONS[-1], "shuffle", 5, "fibers"))


@pytest.mark.parametrize("version", VERSIONS)
def test_threads_scheduler(version, error_report):
    x = np.random.default_rng(version).normal(size=(3, 100)).astype(np.float32)
    out = emulated.softmax(torch.from_numpy(x), version=version, scheduler="threads").numpy()
    check(f"softmax_v{version}", out, reference.softmax(x.astype(np.float64)), error_report)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_any_dim_and_layout(dim):
    x = torch.randn(3, 5, 7)[:, ::2]  # non-contiguous (3, 3, 7)
    for version in VERSIONS:
        out = ops.softmax(x, dim, backend="emulated", version=version)
        np.testing.assert_allclose(out.numpy(), reference.softmax(x.double().numpy(), axis=dim), rtol=1e-5,
                                   atol=1e-7)


def test_empty_input():
    assert emulated.softmax(torch.empty(0, 5)).shape == (0, 5)
    assert emulated.softmax_backward(torch.empty(4, 0), torch.empty(4, 0)).shape == (4, 0)


def test_autograd_uses_emulated_backward():
    x = torch.randn(4, 33, requires_grad=True)
    grad_y = torch.randn(4, 33)
    emulated.softmax(x, version=2, order="reverse").backward(grad_y)
    y = reference.softmax(x.detach().double().numpy())
    expected = reference.softmax_backward(y, grad_y.double().numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_opcheck():
    for x in (torch.randn(3, 40), torch.randn(2, 3, 9, requires_grad=True)):
        torch.library.opcheck(torch.ops.minitransformer.emulated_softmax, (x, -1, VERSIONS[-1], "shuffle", 5, "fibers"))
    y = torch.softmax(torch.randn(3, 40), -1)
    torch.library.opcheck(torch.ops.minitransformer.emulated_softmax_backward,
                          (y, torch.randn(3, 40), -1, "forward", 0, "fibers"))


@pytest.mark.parametrize("call, error, words", [
    (lambda: emulated.softmax(torch.randn(2, 3), version=VERSIONS[-1] + 1), ValueError, "version"),
    (lambda: emulated.softmax(torch.randn(2, 3), order="sideways"), ValueError, "order"),
    (lambda: emulated.softmax(torch.randn(2, 3), scheduler="gpu"), ValueError, "scheduler"),
    (lambda: emulated.softmax(torch.randn(2, 3), order="reverse", scheduler="threads"), ValueError, "order"),
    (lambda: emulated.softmax(torch.randn(2, 3), seed=-1), ValueError, "seed"),
    (lambda: emulated.softmax([1.0, 2.0]), TypeError, "x"),
    (lambda: emulated.softmax(torch.randn(2, 3, dtype=torch.float64)), RuntimeError,
     "x must be float32, float16 or bfloat16 .*got Double"),
    (lambda: emulated.softmax_backward(*torch.randn(2, 2, 3, dtype=torch.float64)), RuntimeError,
     "y must be float32, float16 or bfloat16 .*got Double"),
    (lambda: emulated.softmax(torch.tensor(1.0)), RuntimeError, "0-d"),
    (lambda: emulated.softmax(torch.randn(2, 3), dim=2), RuntimeError, "dim=2"),
    (lambda: emulated.softmax_backward(torch.randn(2, 3), torch.randn(3, 2)), RuntimeError, "grad_y"),
    (lambda: emulated.softmax_backward(torch.randn(2, 3), None), TypeError, "grad_y"),
    (lambda: torch.ops.minitransformer.emulated_softmax(torch.randn(2, 3), -1, 0, "forward", 0, "fibers"),
     RuntimeError, "version"),
    (lambda: torch.ops.minitransformer.emulated_softmax(torch.randn(2, 3), -1, 1, "up", 0, "fibers"),
     RuntimeError, "order"),
    (lambda: torch.ops.minitransformer.emulated_softmax(torch.randn(2, 3), -1, 1, "forward", 0, "gpu"),
     RuntimeError, "scheduler"),
])
def test_bad_input_is_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()
