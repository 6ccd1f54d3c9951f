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


# The bound on the relative error ||got − expected|| / ||expected|| of a result computed in a dtype and
# compared with the NumPy float64 reference on the same rounded inputs (or with PyTorch in the same dtype);
# the tests (tests/helpers.py) and the GPU benchmarks' checks (bench/cuda_checks.py) use it. u is the
# dtype's unit round-off, 2^-(mantissa bits + 1).
TOLERANCE = {
    # u = 1.1e-16. The fused CPU attention's forward and backward against the reference (up to 300 keys):
    # ≤ 1.2e-15 measured. 1e-10 is far above round-off and far below what any wrong formula gives.
    torch.float64: 1e-10,
    # u = 6.0e-8. The same comparison in float32: ≤ 4e-7 measured. 1e-5 ≈ 170 u leaves room for sums over
    # thousands of terms, whose round-off grows like √n·u (n·u at worst).
    torch.float32: 1e-5,
    # u = 4.9e-4. The CUDA kernels compute in float32 from the float16 inputs (csrc/kernels/common.cuh:
    # to_float), and so do the CPU kernels (compute_dtype above), so what remains is
    # the output's rounding, ≈ 0.4 u (RMS, measured on randn values; every CPU op's forward and backward
    # ≤ 5.2e-4, the largest the cross-entropy's mean of rounded per-row losses); 2e-3 ≈ 4 u.
    torch.float16: 2e-3,
    # u = 3.9e-3. The same argument (CPU ops ≤ 3.6e-3 measured): 2e-2 ≈ 5 u.
    torch.bfloat16: 2e-2,
}
