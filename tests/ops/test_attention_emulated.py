"""Every CUDA attention kernel (csrc/kernels/attention_*.cuh), run by the CUDA emulator on the CPU in
every resume order, against the NumPy float64 reference: in float32 the rungs within TOLERANCE, the
tensor-core rungs (q, k, v and P rounded to float16) within TENSOR_CORE_TOLERANCE; in float16 and
bfloat16 (computed in float32, outputs rounded to the input's dtype) within helpers.TOLERANCE[dtype]
against the reference on the same rounded inputs, and the tensor-core bound where it is larger."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops.attention import TENSOR_CORE_TOLERANCE, TENSOR_CORE_VERSIONS
from minitransformer.ops.emulated import ORDERS
from minitransformer.reference.attention import attention_backward, attention_forward
import helpers
from helpers import relative_error

_ops = torch.ops.minitransformer
TOLERANCE = 2e-6  # float32 kernels against float64, relative to the norm of the result
VERSIONS = ops.kernel_versions("attention")
BEST = None  # the op's choice: the best rung for float32


HALF_DTYPES = (torch.float16, torch.bfloat16)


def tolerance(version, dtype=torch.float32):
    bound = TENSOR_CORE_TOLERANCE if version in TENSOR_CORE_VERSIONS else TOLERANCE
    return bound if dtype == torch.float32 else max(bound, helpers.TOLERANCE[dtype])


def make_case(batch, heads, n_q, n_k, dim, seed, masked, causal, dtype=torch.float32, q_scale=1.0):
    """q, k, v in ``dtype`` (q times ``q_scale``) and the float64 reference on those rounded values."""
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, n, dim, generator=gen) for n in (n_q, n_k, n_k))
    q, k, v = (q * q_scale).to(dtype), k.to(dtype), v.to(dtype)
    mask = torch.rand(batch, n_k, generator=gen) < 0.3 if masked else None
    if mask is not None and batch > 1:
        mask[-1] = True  # the last batch row has every key masked
    arrays = [t.double().numpy() for t in (q, k, v)]
    mask_np = None if mask is None else mask.numpy()
    ref_out, ref_lse = attention_forward(*arrays, causal, mask_np)
    return q, k, v, mask, arrays, mask_np, ref_out, ref_lse


# 37 x 45 with D = 24: ragged against the 32-row / 32-key tiles, D not a power of two; 70 keys: 3 tiles.
CASES = [(1, 2, 37, 45, 24, True, True), (2, 1, 33, 70, 16, False, True), (1, 1, 1, 1, 8, True, False),
         (2, 2, 9, 5, 40, False, False)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_forward_of_every_version_in_every_order(version, order, case):
    *shape, causal, masked = case
    q, k, v, mask, _, _, ref_out, ref_lse = make_case(*shape, seed=version, masked=masked, causal=causal)
    out, lse = _ops.emulated_attention_forward(q, k, v, causal, mask, None, version, order, 7, "fibers")
    assert torch.isfinite(out).all()
    assert relative_error(out, ref_out, floor=1.0) < tolerance(version)
    np.testing.assert_array_equal(np.isneginf(lse.numpy()), np.isneginf(ref_lse))
    finite = np.isfinite(ref_lse)
    assert relative_error(lse.numpy()[finite], ref_lse[finite], floor=1.0) < tolerance(version)


# Half-precision cases: every CASES shape (length 1, ragged tiles, a fully masked batch row) and one with
# scores in the hundreds (q x 30: a near one-hot softmax; float16 holds the values).
HALF_CASES = [(*case, 1.0) for case in CASES] + [(2, 1, 20, 35, 16, False, True, 30.0)]


def half_forward(version, dtype, case, order, error_report):
    """The emulated forward of ``case`` in ``dtype`` by rung ``version``, checked; its inputs and output."""
    *shape, causal, masked, q_scale = case
    q, k, v, mask, arrays, mask_np, ref_out, ref_lse = make_case(*shape, seed=version, masked=masked, causal=causal,
                                                                 dtype=dtype, q_scale=q_scale)
    out, lse = _ops.emulated_attention_forward(q, k, v, causal, mask, None, version, order, 7, "fibers")
    assert out.dtype == dtype and lse.dtype == torch.float32
    assert torch.isfinite(out).all()
    name = f"attention_v{version} {str(dtype).removeprefix('torch.')}"
    error = relative_error(out, ref_out, floor=1.0)
    error_report(name, error)
    assert error < tolerance(version, dtype)
    np.testing.assert_array_equal(np.isneginf(lse.numpy()), np.isneginf(ref_lse))
    finite = np.isfinite(ref_lse)
    assert relative_error(lse.numpy()[finite], ref_lse[finite], floor=1.0) < tolerance(version, dtype)
    return (q, k, v, mask, out, lse), (arrays, mask_np, ref_out, ref_lse), causal


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case_index", range(len(HALF_CASES)))
def test_half_forward_and_backward_of_every_version(case_index, version, dtype, error_report):
    """Each rung's forward, then the backward kernels on its out and lse, against the reference backward on
    the same inputs (the rounded out: with near one-hot rows dq cancels, and the rounding of out, which the
    backward cannot see past, would dominate it): the first case in every resume order, the others shuffled."""
    for order in ORDERS if case_index == 0 else ("shuffle",):
        (q, k, v, mask, out, lse), (arrays, mask_np, _, _), causal = half_forward(
            version, dtype, HALF_CASES[case_index], order, error_report)
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(case_index)).to(dtype)
        grads = _ops.emulated_attention_backward(q, k, v, out, lse, grad_out, causal, mask, None, order, 3, "fibers")
        expected = attention_backward(*arrays, out.double().numpy(), lse.double().numpy(), grad_out.double().numpy(),
                                      causal, mask_np)
        for name, got, ref in zip(("dq", "dk", "dv"), grads, expected):
            assert got.dtype == dtype and torch.isfinite(got).all()
            error = relative_error(got, ref, floor=1.0)
            error_report(f"attention_backward {name} after v{version} {str(dtype).removeprefix('torch.')}", error)
            assert error < tolerance(version, dtype)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_half_inputs_default_to_the_best_rung_with_autograd(dtype):
    q, k, v, mask, arrays, mask_np, ref_out, ref_lse = make_case(1, 2, 20, 33, 16, seed=4, masked=True,
                                                                 causal=True, dtype=dtype)
    best = VERSIONS[-1]  # for the half dtypes the tensor-core rungs are not skipped
    default = _ops.emulated_attention_forward(q, k, v, True, mask, None, None, "forward", 0, "fibers")
    chosen = _ops.emulated_attention_forward(q, k, v, True, mask, None, best, "forward", 0, "fibers")
    for got, expected in zip(default, chosen):
        assert torch.equal(got, expected)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    out = ops.attention(*leaves, causal=True, key_padding_mask=mask, backend="emulated")
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    out.backward(grad_out)
    expected = attention_backward(*arrays, ref_out, ref_lse, grad_out.double().numpy(), True, mask_np)
    for leaf, ref in zip(leaves, expected):
        assert leaf.grad.dtype == dtype
        assert relative_error(leaf.grad, ref, floor=1.0) < tolerance(best, dtype)


def test_float32_inputs_skip_the_tensor_core_rungs_by_default():
    q, k, v, mask, *_ = make_case(1, 2, 20, 33, 16, seed=4, masked=True, causal=False)
    best_float32 = max(set(VERSIONS) - set(TENSOR_CORE_VERSIONS))
    default = _ops.emulated_attention_forward(q, k, v, False, mask, None, None, "forward", 0, "fibers")
    chosen = _ops.emulated_attention_forward(q, k, v, False, mask, None, best_float32, "forward", 0, "fibers")
    for got, expected in zip(default, chosen):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert torch.equal(ops.attention(q, k, v, key_padding_mask=mask, backend="emulated"), default[0])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_backward_kernels_in_every_order(order, case):
    *shape, causal, masked = case
    q, k, v, mask, arrays, mask_np, ref_out, ref_lse = make_case(*shape, seed=11, masked=masked, causal=causal)
    out, lse = _ops.emulated_attention_forward(q, k, v, causal, mask, None, BEST, order, 3, "fibers")
    grad_out = torch.randn_like(out)
    grads = _ops.emulated_attention_backward(q, k, v, out, lse, grad_out, causal, mask, None, order, 3, "fibers")
    expected = attention_backward(*arrays, ref_out, ref_lse, grad_out.double().numpy(), causal, mask_np)
    for got, ref in zip(grads, expected):
        assert torch.isfinite(got).all()
        assert relative_error(got, ref, floor=1.0) < TOLERANCE


@settings(max_examples=8)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([8, 16, 24, 64]), st.booleans(), st.booleans(),
       st.integers(0, 100))
def test_best_version_on_random_shapes_with_autograd(n_q, n_k, dim, causal, masked, seed):
    q, k, v, mask, arrays, mask_np, ref_out, ref_lse = make_case(1, 2, n_q, n_k, dim, seed, masked, causal)
    leaves = [t.requires_grad_() for t in (q, k, v)]
    out = ops.attention(*leaves, causal=causal, key_padding_mask=mask, backend="emulated", order="shuffle",
                        seed=seed)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    assert relative_error(out.detach(), ref_out, floor=1.0) < TOLERANCE
    expected = attention_backward(*arrays, ref_out, ref_lse, grad_out.double().numpy(), causal, mask_np)
    for leaf, ref in zip(leaves, expected):
        assert relative_error(leaf.grad, ref, floor=1.0) < TOLERANCE


@pytest.mark.parametrize("version", [BEST, *TENSOR_CORE_VERSIONS])
def test_thread_scheduler_runs_the_best_and_the_tensor_core_versions(version):
    q, k, v, mask, _, _, ref_out, _ = make_case(1, 1, 20, 40, 16, seed=5, masked=True, causal=True)
    out, _ = _ops.emulated_attention_forward(q, k, v, True, mask, None, version, "forward", 0, "threads")
    assert relative_error(out, ref_out, floor=1.0) < tolerance(version)


def test_emulated_inputs_are_checked():
    q = torch.randn(1, 1, 4, 8)
    with pytest.raises(RuntimeError, match="q must be float32, float16 or bfloat16 .*got Double"):
        _ops.emulated_attention_forward(q.double(), q.double(), q.double(), False, None, None, 3, "forward", 0,
                                        "fibers")
    with pytest.raises(RuntimeError, match="q, k and v must have the same dtype"):
        _ops.emulated_attention_forward(q.half(), q, q, False, None, None, 3, "forward", 0, "fibers")
    out, lse = _ops.emulated_attention_forward(q.half(), q.half(), q.half(), False, None, None, 3, "forward", 0,
                                               "fibers")
    with pytest.raises(RuntimeError, match="lse must be float32"):
        _ops.emulated_attention_backward(q.half(), q.half(), q.half(), out, lse.half(), out, False, None, None,
                                         "forward", 0, "fibers")
    wide = torch.randn(1, 1, 4, 136)
    with pytest.raises(RuntimeError, match="head dimension D must be at most 128"):
        _ops.emulated_attention_forward(wide, wide, wide, False, None, None, 3, "forward", 0, "fibers")
    beyond = VERSIONS[-1] + 1
    with pytest.raises(RuntimeError, match=re.escape(f"version must be one of {list(VERSIONS)}, got {beyond}")):
        _ops.emulated_attention_forward(q, q, q, False, None, None, beyond, "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="order must be"):
        _ops.emulated_attention_forward(q, q, q, False, None, None, 3, "sideways", 0, "fibers")


def test_opcheck_of_the_emulated_ops():
    q, k, v, mask, *_ = make_case(1, 2, 9, 11, 8, seed=2, masked=True, causal=False)
    for requires_grad in (False, True):
        args = [t.clone().requires_grad_(requires_grad) for t in (q, k, v)]
        torch.library.opcheck(_ops.emulated_attention_forward, (*args, True, mask, None, 2, "reverse", 0, "fibers"))
    out, lse = _ops.emulated_attention_forward(q, k, v, True, mask, None, 3, "forward", 0, "fibers")
    torch.library.opcheck(_ops.emulated_attention_backward,
                          (q, k, v, out, lse, torch.randn_like(out), True, mask, None, "shuffle", 4, "fibers"))
