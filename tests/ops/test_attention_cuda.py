"""The CUDA attention ladder on a GPU (skipped without one): every version and dtype against the NumPy
reference, the backward against SDPA's, the current stream, and the head-dimension check."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from minitransformer import ops
from minitransformer.ops.attention import TENSOR_CORE_TOLERANCE, TENSOR_CORE_VERSIONS
from minitransformer.reference.attention import attention_forward
from helpers import TOLERANCE, relative_error

pytestmark = pytest.mark.cuda
_ops = torch.ops.minitransformer


def make_case(n_q, n_k, dim, dtype, masked, seed=0):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, 3, n, dim, generator=gen).to(dtype) for n in (n_q, n_k, n_k))
    mask = torch.rand(2, n_k, generator=gen) < 0.3 if masked else None
    if mask is not None:
        mask[1] = True
    return q, k, v, mask


@pytest.mark.parametrize("version", ops.kernel_versions("attention"))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n_q, n_k, dim, causal, masked", [(77, 130, 64, True, True), (200, 33, 40, False, True),
                                                           (1, 1, 16, True, False), (300, 300, 128, True, False)])
def test_every_version_and_dtype_matches_reference(version, dtype, n_q, n_k, dim, causal, masked):
    q, k, v, mask = make_case(n_q, n_k, dim, dtype, masked)
    expected, ref_lse = attention_forward(*(t.double().numpy() for t in (q, k, v)), causal,
                                          None if mask is None else mask.numpy())
    cuda_mask = None if mask is None else mask.cuda()
    out, lse = _ops.attention_kernel(q.cuda(), k.cuda(), v.cuda(), causal, cuda_mask, None, version)
    assert out.dtype == dtype and lse.dtype == torch.float32
    assert torch.isfinite(out).all()
    # A tensor-core rung rounds float32 inputs to float16: float16's tolerance at least.
    tolerance = max(TOLERANCE[dtype], TENSOR_CORE_TOLERANCE) if version in TENSOR_CORE_VERSIONS else TOLERANCE[dtype]
    assert relative_error(out.float().cpu(), expected, floor=1.0) < tolerance
    np.testing.assert_array_equal(np.isneginf(lse.cpu().numpy()), np.isneginf(ref_lse))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("causal", [False, True])
def test_backward_matches_sdpa(dtype, causal):
    q, k, v, _ = make_case(150, 150, 64, dtype, masked=False)
    grad = torch.randn(2, 3, 150, 64).to(dtype).cuda()
    results = []
    for attention in (lambda *qkv: ops.attention(*qkv, causal=causal),
                      lambda *qkv: F.scaled_dot_product_attention(*qkv, is_causal=causal)):
        leaves = [t.cuda().requires_grad_() for t in (q, k, v)]
        attention(*leaves).backward(grad)
        results.append([t.grad.float().cpu() for t in leaves])
    for ours, theirs in zip(*results):
        assert relative_error(ours, theirs, floor=1.0) < 5 * TOLERANCE[dtype]


def test_runs_on_the_current_stream():
    q, k, v, _ = make_case(64, 64, 32, torch.float32, masked=False)
    q, k, v = q.cuda(), k.cuda(), v.cuda()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        out = ops.attention(q, k, v, causal=True)
    stream.synchronize()
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dim", [8, 12, 136])
def test_unsupported_head_dims_raise(dim):
    q = torch.randn(1, 1, 4, dim, device="cuda")
    with pytest.raises(RuntimeError, match="multiple of 8 in 16..128"):
        _ops.attention_forward(q, q, q, False, None, None)
