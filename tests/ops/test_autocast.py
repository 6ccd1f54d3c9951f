"""The ops' autocast rules (ops/autocast.py): under torch.autocast(device, dtype=torch.bfloat16 or torch.float16)
each op runs in the dtype its PyTorch counterpart runs in, and the gradients reach float32 leaves in float32.
Every test runs on the CPU and, marked ``cuda``, on a GPU; the CUDA rules are also checked without a GPU, on
fake CUDA tensors."""

import contextlib

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

from minitransformer import ops
from minitransformer.ops.autocast import AUTOCAST_RULES, autocast_key

HALF_DTYPES = [torch.bfloat16, torch.float16]
region = pytest.mark.parametrize("device, dtype", [("cpu", dtype) for dtype in HALF_DTYPES]
                                 + [pytest.param("cuda", dtype, marks=pytest.mark.cuda) for dtype in HALF_DTYPES])


def leaves(device, *shapes, dtype=torch.float32):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(*shape, generator=generator).to(device, dtype).requires_grad_() for shape in shapes]


@region
def test_attention_runs_in_the_regions_dtype_like_sdpa(device, dtype):
    q, k, v = leaves(device, (2, 2, 9, 16), (2, 2, 11, 16), (2, 2, 11, 16))
    with torch.autocast(device, dtype=dtype):
        out = ops.attention(q, k, v, causal=True)
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.dtype == expected.dtype == dtype
    torch.testing.assert_close(out, expected, rtol=2e-2, atol=2e-2)
    out.float().sum().backward()
    assert all(t.grad.dtype == torch.float32 for t in (q, k, v))


@region
def test_cross_entropy_runs_in_float32_like_torch(device, dtype):
    (logits,) = leaves(device, (6, 10), dtype=dtype)
    targets = torch.tensor([0, 9, 3, 3, 1, 2], device=device)
    with torch.autocast(device, dtype=dtype):
        loss = ops.cross_entropy(logits, targets)
        assert loss.dtype == F.cross_entropy(logits, targets).dtype == torch.float32
    loss.backward()
    assert logits.grad.dtype == dtype  # the gradient goes back through the cast


@region
def test_mixed_inputs_of_the_elementwise_ops_meet_in_float32(device, dtype):
    """A half-precision activation meets a float32 parameter or residual: float32, as torch's type promotion
    (and CUDA autocast's layer_norm) gives."""
    (activation,) = leaves(device, (4, 8), dtype=dtype)
    weight, bias, residual = leaves(device, (8,), (8,), (4, 8))
    with torch.autocast(device, dtype=dtype):
        results = [ops.layer_norm(activation, weight, bias), ops.bias_gelu(activation, bias),
                   ops.dropout_add(activation, residual, 0.1)]
    assert all(result.dtype == torch.float32 for result in results)
    sum(result.sum() for result in results).backward()
    assert weight.grad.dtype == bias.grad.dtype == residual.grad.dtype == torch.float32
    assert activation.grad.dtype == dtype


@region
@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_softmax_runs_in_the_dtype_torchs_softmax_runs_in(device, dtype, input_dtype):
    """No rule on the CPU (its input's dtype); float32 on CUDA, as CUDA autocast runs torch.softmax."""
    (x,) = leaves(device, (3, 5), dtype=input_dtype)
    with torch.autocast(device, dtype=dtype):
        assert ops.softmax(x).dtype == torch.softmax(x, -1).dtype


@contextlib.contextmanager
def cuda_autocast_state(dtype):
    """CUDA autocast on, in ``dtype``: what ``torch.autocast("cuda")`` sets, which turns itself off where no
    GPU is visible."""
    before = torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")
    torch.set_autocast_enabled("cuda", True)
    torch.set_autocast_dtype("cuda", dtype)
    try:
        yield
    finally:
        torch.set_autocast_enabled("cuda", before[0])
        torch.set_autocast_dtype("cuda", before[1])


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_the_cuda_rules_give_cuda_autocasts_dtypes_on_fake_tensors(dtype):
    """Fake CUDA tensors (dtype, shape and device, no data) go through the AutocastCUDA kernels on any machine:
    each op's output dtype is its PyTorch counterpart's."""
    with FakeTensorMode(), cuda_autocast_state(dtype):
        q = torch.empty(1, 2, 8, 16, device="cuda")
        h, weight = torch.empty(3, 5, device="cuda", dtype=dtype), torch.empty(5, device="cuda")
        targets = torch.zeros(3, dtype=torch.long, device="cuda")
        assert ops.attention(q, q, q).dtype == F.scaled_dot_product_attention(q, q, q).dtype == dtype
        assert ops.cross_entropy(h, targets).dtype == F.cross_entropy(h, targets).dtype == torch.float32
        assert ops.layer_norm(h, weight, weight).dtype == F.layer_norm(h, (5,), weight, weight).dtype \
            == torch.float32
        assert ops.bias_gelu(h, weight).dtype == F.gelu(h + weight).dtype == torch.float32
        assert ops.softmax(h).dtype == torch.softmax(h, -1).dtype == torch.float32


def test_every_rule_names_a_registered_op():
    for name, rules in AUTOCAST_RULES.items():
        for device in rules:
            assert torch._C._dispatch_has_kernel_for_dispatch_key(f"minitransformer::{name}", autocast_key(device))


def test_the_rules_trace_under_torch_compile():
    """The rule reads the region's dtype while torch.compile traces the region, as it does in eager mode."""
    q, k, v = leaves("cpu", (1, 2, 5, 16), (1, 2, 5, 16), (1, 2, 5, 16))

    def attend(q, k, v):
        with torch.autocast("cpu", dtype=torch.float16):
            return ops.attention(q, k, v)
    out = torch.compile(attend, backend="aot_eager", fullgraph=True)(q, k, v)
    assert out.dtype == torch.float16
    torch.testing.assert_close(out, attend(q, k, v))
