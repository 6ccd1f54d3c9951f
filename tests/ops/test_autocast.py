"""The ops' autocast rules (ops/autocast.py): under torch.autocast("cpu", dtype=torch.bfloat16) each op runs in
the dtype its PyTorch counterpart runs in, and the gradients reach float32 leaves in float32."""

import pytest
import torch
import torch.nn.functional as F

from minitransformer import ops
from minitransformer.ops.autocast import CPU_AUTOCAST_RULES


def leaves(*shapes, dtype=torch.float32):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(*shape, generator=generator).to(dtype).requires_grad_() for shape in shapes]


def bf16_autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def test_attention_runs_in_bfloat16_like_sdpa():
    q, k, v = leaves((2, 2, 9, 8), (2, 2, 11, 8), (2, 2, 11, 8))
    with bf16_autocast():
        out = ops.attention(q, k, v, causal=True)
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected, rtol=2e-2, atol=2e-2)
    out.float().sum().backward()
    assert all(t.grad.dtype == torch.float32 for t in (q, k, v))


def test_cross_entropy_runs_in_float32_like_torch():
    (logits,) = leaves((6, 10), dtype=torch.bfloat16)
    targets = torch.tensor([0, 9, 3, 3, 1, 2])
    with bf16_autocast():
        loss = ops.cross_entropy(logits, targets)
        assert loss.dtype == F.cross_entropy(logits, targets).dtype == torch.float32
    loss.backward()
    assert logits.grad.dtype == torch.bfloat16  # the gradient goes back through the cast


def test_mixed_inputs_of_the_elementwise_ops_meet_in_float32():
    """A bfloat16 activation meets a float32 parameter or residual: float32, as torch's type promotion gives."""
    (activation,) = leaves((4, 8), dtype=torch.bfloat16)
    weight, bias, residual = leaves((8,), (8,), (4, 8))
    with bf16_autocast():
        results = [ops.layer_norm(activation, weight, bias), ops.bias_gelu(activation, bias),
                   ops.dropout_add(activation, residual, 0.1)]
    assert all(result.dtype == torch.float32 for result in results)
    sum(result.sum() for result in results).backward()
    assert weight.grad.dtype == bias.grad.dtype == residual.grad.dtype == torch.float32
    assert activation.grad.dtype == torch.bfloat16


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_softmax_has_no_rule_and_keeps_its_input_dtype_like_torch(dtype):
    (x,) = leaves((3, 5), dtype=dtype)
    with bf16_autocast():
        assert ops.softmax(x).dtype == torch.softmax(x, -1).dtype == dtype


def test_every_rule_names_a_registered_op():
    for name in CPU_AUTOCAST_RULES:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"minitransformer::{name}", "AutocastCPU")
