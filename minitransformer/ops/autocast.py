"""Autocast rules of the custom ops: under ``torch.autocast("cpu", dtype=torch.bfloat16)`` each op runs in the
dtype its PyTorch counterpart runs in there, so a model on the fused backend computes in the same dtypes as on
the eager one.

    op                                               inputs cast to    as PyTorch's
    attention_forward                                bfloat16          scaled_dot_product_attention (matmuls)
    cross_entropy_forward                            float32           cross_entropy / nll_loss
    layer_norm_forward, bias_gelu_forward,           float32           type promotion: a float32 parameter or
      dropout_add_forward                                              residual meets a bfloat16 activation
    softmax                                          (no rule)         softmax: runs in its input's dtype

Registered with ``torch.library.register_autocast``: inside an autocast region the op's floating-point tensor
inputs (float64 excepted) are cast, then the op runs with autocast off; autograd records the casts, so the
gradients reach the float32 parameters in float32. The backward ops need no rule: they see the dtypes their
forward saved. The rules are for CPU autocast only; the lower-precision dtype is bfloat16, CPU autocast's
default, whatever dtype the region asks for (a registration fixes one).
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)

CPU_AUTOCAST_RULES = {
    "attention_forward": torch.bfloat16,
    "cross_entropy_forward": torch.float32,
    "layer_norm_forward": torch.float32,
    "bias_gelu_forward": torch.float32,
    "dropout_add_forward": torch.float32,
}

for _name, _dtype in CPU_AUTOCAST_RULES.items():
    torch.library.register_autocast(f"minitransformer::{_name}", "cpu", _dtype)
