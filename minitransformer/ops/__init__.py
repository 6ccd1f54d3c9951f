"""Custom ops of minitransformer (``torch.ops.minitransformer.*``) and their Python faces.

Each op has a ``backend=`` argument: ``"fused"`` (our C++/CUDA kernel) or ``"emulated"`` (a CUDA kernel
run on the CPU by csrc/emu/). Their torch counterparts live in nn/ (nn may import ops, never the reverse):
the safe softmax in nn/softmax.py, attention's eager and SDPA backends in nn/attention.py.
"""

from minitransformer.ops import softmax as _softmax_module
from minitransformer.ops._extension import HAS_CUDA_KERNELS
from minitransformer.ops.attention import CUDA_VERSIONS as _ATTENTION_VERSIONS, attention
from minitransformer.ops.softmax import softmax

_CUDA_VERSIONS = {
    "softmax": _softmax_module.CUDA_VERSIONS,
    "attention": _ATTENTION_VERSIONS,
}


def kernel_versions(op):
    """The numbered CUDA kernel versions of ``op`` (csrc/kernels/<op>_v<k>.cuh), oldest first."""
    if op not in _CUDA_VERSIONS:
        raise ValueError(f"kernel_versions: unknown op {op!r}; known: {sorted(_CUDA_VERSIONS)}")
    return _CUDA_VERSIONS[op]


__all__ = ["HAS_CUDA_KERNELS", "attention", "kernel_versions", "softmax"]
