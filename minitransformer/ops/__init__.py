"""Custom ops of minitransformer (``torch.ops.minitransformer.*``) and their Python faces.

softmax and attention have a ``backend=`` argument: ``"fused"`` (our C++/CUDA kernel) or ``"emulated"`` (a
CUDA kernel of their ladder run on the CPU by csrc/emu/). The training ops — ``layer_norm``, ``bias_gelu``,
``dropout_add``, ``cross_entropy`` — are C++ CPU kernels and CUDA ladders, each with a NumPy reference in
reference/; ops/emulated_training.py runs their CUDA rungs on the CPU through the emulator. Their
torch counterparts live in nn/ (nn may import ops, never the reverse): the safe softmax in nn/softmax.py,
attention's eager and SDPA backends in nn/attention.py, LayerNorm, GELU, Dropout and the losses beside them.
On the CPU every op takes float32, float64, bfloat16 and float16 (dtypes.py), and autocast has rules for them
(autocast.py). ``linear`` has no kernel of its own: it sends the linear layers' products to oneDNN, PyTorch's
other CPU GEMM library, where that was measured faster (linear.py).
"""

from minitransformer.ops import autocast  # noqa: F401  (the ops' autocast rules)
from minitransformer.ops._extension import HAS_CUDA_KERNELS, kernel_versions
from minitransformer.ops.attention import attention
from minitransformer.ops.bias_gelu import bias_gelu
from minitransformer.ops.cross_entropy import cross_entropy, cross_entropy_and_gradient_
from minitransformer.ops.dropout import dropout_add
from minitransformer.ops.layer_norm import layer_norm
from minitransformer.ops.linear import linear
from minitransformer.ops.softmax import softmax

__all__ = ["HAS_CUDA_KERNELS", "attention", "bias_gelu", "cross_entropy", "cross_entropy_and_gradient_",
           "dropout_add", "kernel_versions", "layer_norm", "linear", "softmax"]
