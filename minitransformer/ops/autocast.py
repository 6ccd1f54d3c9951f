"""Autocast rules of the custom ops: under ``torch.autocast(device, dtype=torch.bfloat16 or torch.float16)``, on
the CPU and on CUDA, each op runs in the dtype its PyTorch counterpart runs in there, so a model on the fused
backend computes in the same dtypes as on the eager one.

    op                                   inputs cast to,     as PyTorch's
                                         on CPU and CUDA
    attention_forward                    the region's dtype  scaled_dot_product_attention (its matmuls)
    cross_entropy_forward                float32             cross_entropy / nll_loss
    layer_norm_forward                   float32             layer_norm: CUDA autocast's float32 list; on the
                                                             CPU, type promotion with its float32 parameters
    bias_gelu_forward,                   float32             type promotion: a float32 parameter or residual
      dropout_add_forward                                    meets a half-precision activation
    softmax                              CUDA: float32       softmax: CUDA autocast's float32 list; the CPU
                                         CPU: no rule        has no rule, it runs in its input's dtype

"The region's dtype" is ``torch.get_autocast_dtype(device)``, read at each call: bfloat16 or float16, whichever
the region asks for. ``torch.library.register_autocast`` fixes one dtype per op and device, so the rules are
registered the way it registers one, with that dtype chosen per call: a kernel for the op's ``AutocastCPU`` /
``AutocastCUDA`` dispatch key (and the same function as its Python-dispatcher kernel, which ``torch.compile``
traces) casts the op's floating-point tensor inputs on that device (float64 excepted), then calls the op with
that autocast key excluded. Autograd records the casts, so the gradients reach the float32 parameters in
float32. The backward ops need no rule: they see the dtypes their forward saved.
"""

import torch

from minitransformer.ops import _extension  # noqa: F401  (registers torch.ops.minitransformer)

REGION_DTYPE = "the region's dtype"  # torch.get_autocast_dtype(device), read at each call
AUTOCAST_RULES = {  # op -> {device type: the dtype its floating-point tensor inputs are cast to}
    "attention_forward": {"cpu": REGION_DTYPE, "cuda": REGION_DTYPE},
    "cross_entropy_forward": {"cpu": torch.float32, "cuda": torch.float32},
    "layer_norm_forward": {"cpu": torch.float32, "cuda": torch.float32},
    "bias_gelu_forward": {"cpu": torch.float32, "cuda": torch.float32},
    "dropout_add_forward": {"cpu": torch.float32, "cuda": torch.float32},
    "softmax": {"cuda": torch.float32},
}


def autocast_key(device_type):
    """The name of ``device_type``'s autocast dispatch key: ``"AutocastCPU"``, ``"AutocastCUDA"``."""
    return "Autocast" + torch._C._dispatch_key_for_device(device_type)


def _cast(value, device_type, dtype):
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.device.type == device_type \
            and value.dtype != torch.float64:
        return value.to(dtype)
    return value


def _autocast_kernel(op, device_type, rule):
    """The kernel of ``op``'s autocast key on ``device_type``: cast, then run ``op`` below that key."""
    excluded = torch._C.DispatchKeySet(getattr(torch._C.DispatchKey, autocast_key(device_type)))

    def kernel(*args, **kwargs):
        dtype = torch.get_autocast_dtype(device_type) if rule is REGION_DTYPE else rule
        with torch._C._ExcludeDispatchKeyGuard(excluded):
            return op(*(_cast(arg, device_type, dtype) for arg in args),
                      **{name: _cast(arg, device_type, dtype) for name, arg in kwargs.items()})
    return kernel


_LIBRARY = torch.library.Library("minitransformer", "IMPL")  # holds the registrations for the process's life
for _name, _rules in AUTOCAST_RULES.items():
    _op = getattr(torch.ops.minitransformer, _name).default
    for _device, _rule in _rules.items():
        _kernel = _autocast_kernel(_op, _device, _rule)
        _op.py_impl(getattr(torch._C.DispatchKey, autocast_key(_device)))(_kernel)
        _LIBRARY.impl(_name, _kernel, autocast_key(_device))
