"""The fused attention op (CPU) against the NumPy reference, SDPA and our eager attention (nn/attention.py),
gradcheck, opcheck and torch.compile."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.nn.attention import scaled_dot_product_attention
from minitransformer.ops.dtypes import compute_dtype
from minitransformer.reference.attention import attention_backward, attention_forward
from helpers import TOLERANCE, relative_error

_ops = torch.ops.minitransformer


def make_inputs(batch, heads, n_q, n_k, dim, dtype=torch.float64, seed=0, masked_fraction=None):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, n, dim, generator=gen, dtype=dtype) for n in (n_q, n_k, n_k))
    mask = None if masked_fraction is None else torch.rand(batch, n_k, generator=gen) < masked_fraction
    return q, k, v, mask


def check_against_reference(q, k, v, mask, causal, scale, tolerance):
    """Forward and backward of the op in q's dtype against the reference on the same dtype-rounded inputs."""
    out, lse = _ops.attention_forward(q, k, v, causal, mask, scale)
    assert out.dtype == q.dtype and lse.dtype == compute_dtype(q.dtype)
    mask_np = None if mask is None else mask.numpy()
    arrays = [t.double().numpy() for t in (q, k, v)]
    ref_out, ref_lse = attention_forward(*arrays, causal, mask_np, scale)
    assert relative_error(out, ref_out, floor=1.0) < tolerance
    np.testing.assert_array_equal(np.isneginf(lse.numpy()), np.isneginf(ref_lse))
    finite = np.isfinite(ref_lse)
    assert relative_error(lse.numpy()[finite], ref_lse[finite], floor=1.0) < tolerance
    grad_out = torch.randn_like(out)
    grads = _ops.attention_backward(q, k, v, out, lse, grad_out, causal, mask, scale)
    ref_grads = attention_backward(*arrays, ref_out, ref_lse, grad_out.double().numpy(), causal, mask_np, scale)
    for got, expected in zip(grads, ref_grads):
        assert got.dtype == q.dtype and torch.isfinite(got).all()
        assert relative_error(got, expected, floor=1.0) < tolerance


@st.composite
def shapes(draw, max_n=40):
    return dict(batch=draw(st.integers(1, 2)), heads=draw(st.integers(1, 3)), n_q=draw(st.integers(1, max_n)),
                n_k=draw(st.integers(1, max_n)), dim=draw(st.integers(1, 40)))


@given(shapes(), st.booleans(), st.sampled_from([None, 0.0, 0.3, 1.0]), st.sampled_from([None, 0.25, 3.0]),
       st.integers(0, 1000))
def test_float64_matches_reference(shape, causal, masked_fraction, scale, seed):
    q, k, v, mask = make_inputs(**shape, seed=seed, masked_fraction=masked_fraction)
    check_against_reference(q, k, v, mask, causal, scale, TOLERANCE[torch.float64])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@given(shapes(), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_float32_and_half_dtypes_match_reference(dtype, shape, causal, masked, seed):
    """bfloat16 and float16 run the float32 kernel on widened inputs: what remains is the outputs' rounding."""
    q, k, v, mask = make_inputs(**shape, dtype=dtype, seed=seed, masked_fraction=0.3 if masked else None)
    check_against_reference(q, k, v, mask, causal, None, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n_q, n_k, dim, causal", [(300, 600, 24, True), (300, 600, 24, False),
                                                    (700, 130, 72, True), (129, 513, 64, False), (1, 1, 5, True)])
def test_several_tiles_and_ragged_edges(dtype, n_q, n_k, dim, causal):
    """N_q, N_k across several query (128) and key (512 / 256) tiles, not multiples of either; dims that are
    and are not multiples of the tile products' column block (2 SIMD vectors)."""
    q, k, v, mask = make_inputs(1, 2, n_q, n_k, dim, dtype=dtype, masked_fraction=0.2)
    check_against_reference(q, k, v, mask, causal, None, TOLERANCE[dtype])


@given(shapes(max_n=24), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_float32_matches_sdpa(shape, causal, masked, seed):
    q, k, v, mask = make_inputs(**shape, dtype=torch.float32, seed=seed, masked_fraction=0.4 if masked else None)
    if mask is not None:
        mask[:, 0] = False  # key 0 visible to every query: SDPA would give NaN on empty rows
    got = ops.attention(q, k, v, causal=causal, key_padding_mask=mask)
    for backend in ("torch", "eager"):  # SDPA, and the formula in torch ops (nn/attention.py)
        expected = scaled_dot_product_attention(q, k, v, key_padding_mask=mask, is_causal=causal, backend=backend)
        assert relative_error(got, expected, floor=1.0) < TOLERANCE[torch.float32]


def test_gradients_match_sdpa_autograd():
    q, k, v, _ = make_inputs(2, 2, 37, 45, 16, dtype=torch.float32)
    grad = torch.randn(2, 2, 37, 16)
    results = []
    for attention in (lambda *qkv: ops.attention(*qkv, causal=True),
                      lambda *qkv: F.scaled_dot_product_attention(*qkv, is_causal=True)):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        attention(*leaves).backward(grad)
        results.append([t.grad for t in leaves])
    for ours, theirs in zip(*results):
        assert relative_error(ours, theirs, floor=1.0) < TOLERANCE[torch.float32]


def test_gradcheck_float64_with_masks():
    q, k, v, mask = make_inputs(2, 1, 4, 5, 3, masked_fraction=0.3, seed=3)
    mask[0] = True  # batch 0: every key masked
    leaves = [t.requires_grad_() for t in (q, k, v)]
    for causal in (False, True):
        assert torch.autograd.gradcheck(
            lambda q, k, v: ops.attention(q, k, v, causal=causal, key_padding_mask=mask, scale=0.7), leaves)


def test_fully_masked_rows_give_zero_output_and_zero_gradients():
    q, k, v, _ = make_inputs(2, 2, 6, 5, 8, dtype=torch.float32)
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[1] = True
    leaves = [t.requires_grad_() for t in (q, k, v)]
    out = ops.attention(*leaves, key_padding_mask=mask)
    out.sum().backward()
    assert torch.all(out[1] == 0) and torch.isfinite(out).all()
    for leaf in leaves:
        assert torch.isfinite(leaf.grad).all() and torch.all(leaf.grad[1] == 0)
    _, lse = _ops.attention_forward(q, k, v, False, mask, None)
    assert torch.isneginf(lse[1]).all() and torch.isfinite(lse[0]).all()


def test_large_logits_stay_finite_and_exact():
    q, k, v, _ = make_inputs(1, 2, 20, 30, 16, dtype=torch.float32)
    out = ops.attention(q * 60, k * 60, v)
    expected = scaled_dot_product_attention(q.double() * 60, k.double() * 60, v.double(), backend="eager")
    assert torch.isfinite(out).all()
    assert relative_error(out, expected, floor=1.0) < TOLERANCE[torch.float32]


def test_non_contiguous_inputs():
    """(B, N, H, D) tensors transposed to (B, H, N, D), as a model's projections produce them."""
    q, k, v = (torch.randn(2, 33, 3, 16).transpose(1, 2) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert relative_error(ops.attention(q, k, v, causal=True), expected, floor=1.0) < TOLERANCE[torch.float32]


def test_output_and_gradients_are_heads_last_views():
    """The output and dq, dk, dv are (B, H, N, D) views of (B, N, H, D) memory, so merging the heads back into
    (B, N, E), and splitting them in the backward, needs no copy."""
    q, k, v = (torch.randn(2, 33, 3, 16).transpose(1, 2).requires_grad_() for _ in range(3))
    out = ops.attention(q, k, v)
    assert out.transpose(1, 2).is_contiguous()
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), grad_out)
    assert all(grad.transpose(1, 2).is_contiguous() for grad in grads)
    expected = torch.autograd.grad(F.scaled_dot_product_attention(q, k, v), (q, k, v), grad_out)
    for got, want in zip(grads, expected):
        assert relative_error(got, want, floor=1.0) < TOLERANCE[torch.float32]


def test_empty_key_sequence_gives_zeros():
    q, k, v, _ = make_inputs(1, 1, 4, 0, 8)
    out, lse = _ops.attention_forward(q, k, v, False, None, None)
    assert torch.all(out == 0) and torch.isneginf(lse).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_opcheck(dtype):
    q, k, v, mask = make_inputs(2, 2, 9, 11, 8, dtype=dtype, masked_fraction=0.3)
    for requires_grad in (False, True):
        args = [t.clone().requires_grad_(requires_grad) for t in (q, k, v)]
        torch.library.opcheck(_ops.attention_forward, (*args, True, mask, None))
        torch.library.opcheck(_ops.attention_forward, (*args, False, None, 0.5))
    out, lse = _ops.attention_forward(q, k, v, True, mask, None)
    torch.library.opcheck(_ops.attention_backward, (q, k, v, out, lse, torch.randn_like(out), True, mask, None))


def test_torch_compile_fullgraph():
    q, k, v, mask = make_inputs(1, 2, 10, 12, 8, dtype=torch.float32, masked_fraction=0.2)
    compiled = torch.compile(lambda q, k, v: ops.attention(q, k, v, causal=True, key_padding_mask=mask),
                             fullgraph=True, backend="aot_eager")
    expected = ops.attention(q, k, v, causal=True, key_padding_mask=mask)
    torch.testing.assert_close(compiled(q, k, v), expected)


@pytest.mark.parametrize("change, message", [
    (lambda q, k, v, m: (q[0], k, v, m), "q must have shape"),
    (lambda q, k, v, m: (q, k, v[:, :, :-1], m), "k and v must have the same shape"),
    (lambda q, k, v, m: (q, k[..., :-1], v[..., :-1], m), "must agree in B, H and D"),
    (lambda q, k, v, m: (q, k.double(), v, m), "same dtype"),
    (lambda q, k, v, m: tuple(t.to(torch.float8_e4m3fn) for t in (q, k, v)) + (m,),
     "float32, float64, bfloat16 or float16"),
    (lambda q, k, v, m: (q, k, v, m[:, :-1]), "key_padding_mask must have shape"),
    (lambda q, k, v, m: (q, k, v, m[0]), "key_padding_mask must have shape"),
    (lambda q, k, v, m: (q[..., :0], k[..., :0], v[..., :0], m), "head dimension"),
])
def test_bad_input_raises_a_clear_error(change, message):
    q, k, v, mask = make_inputs(2, 2, 4, 5, 8, dtype=torch.float32, masked_fraction=0.3)
    q, k, v, mask = change(q, k, v, mask)
    with pytest.raises(RuntimeError, match=message):
        _ops.attention_forward(q, k, v, False, mask, None)


def test_bad_arguments_of_the_python_face():
    q, k, v, _ = make_inputs(1, 1, 3, 3, 4, dtype=torch.float32)
    with pytest.raises(ValueError, match="backend"):
        ops.attention(q, k, v, backend="cudnn")
    with pytest.raises(ValueError, match="version"):
        ops.attention(q, k, v, version=9)
    with pytest.raises(ValueError, match="backend='emulated'"):
        ops.attention(q, k, v, version=1)
    with pytest.raises(ValueError, match="key_padding_mask must be a bool"):
        ops.attention(q, k, v, key_padding_mask=torch.zeros(1, 3))
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        ops.attention(q.numpy(), k, v)


def test_backward_rejects_a_mismatched_lse():
    q, k, v, _ = make_inputs(1, 2, 4, 5, 8, dtype=torch.float32)
    out, lse = _ops.attention_forward(q, k, v, False, None, None)
    with pytest.raises(RuntimeError, match="lse must have shape"):
        _ops.attention_backward(q, k, v, out, lse[:, :, :-1], out, False, None, None)
    with pytest.raises(RuntimeError, match="out .* and grad_out .* must have q's shape"):
        _ops.attention_backward(q, k, v, out, lse, out[:, :, :-1], False, None, None)
    half = [t.bfloat16() for t in (q, k, v, out)]
    with pytest.raises(RuntimeError, match="lse must be Float for q of dtype BFloat16"):
        _ops.attention_backward(*half, lse.bfloat16(), half[3], False, None, None)


def test_device_mismatch_raises():
    q, k, v, _ = make_inputs(1, 1, 4, 4, 8, dtype=torch.float32)
    with pytest.raises(RuntimeError, match="device"):
        _ops.attention_forward(q, k.to("meta"), v, False, None, None)


def test_a_cuda_rung_backward_runs_the_device_backward_op():
    """attention_kernel (one CUDA rung, chosen by version) differentiates through attention_backward, not the
    emulator's backward; traced here on meta tensors, where both ops have fake kernels."""
    q, k, v = (torch.empty(2, 3, 16, 32, device="meta", requires_grad=True) for _ in range(3))
    out, _ = _ops.attention_kernel(q, k, v, False, None, None, 1)
    grads = torch.autograd.grad(out, (q, k, v), torch.empty_like(out))
    assert [g.shape for g in grads] == [q.shape] * 3
