"""The dtypes of the CPU kernels: what they take, and what they compute in.

The kernels take float32, float64, bfloat16 and float16 and compute in

    compute_dtype(dtype) = float64 if dtype is float64 else float32

so a bfloat16 or float16 input is widened to float32, every sum and exp runs in float32, and each output is
rounded once to the input's dtype. What an op saves for its backward (attention's logsumexp, layer norm's mean
and 1/std, cross-entropy's row max and log-sum) stays in the compute dtype. Any other dtype is refused with an
error that names these four. The C++ side of the same rule is csrc/cpu/rows.h.
"""

import torch

CPU_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def compute_dtype(dtype):
    """The dtype the CPU kernels compute in (and save statistics in) for inputs of ``dtype``."""
    return torch.float64 if dtype == torch.float64 else torch.float32
