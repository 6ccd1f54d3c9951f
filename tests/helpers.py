"""What the tests share: one relative error, one tolerance per dtype, and the per-position view of a
masked-LM batch's fixed-size labels.

    relative_error(actual, expected) = ||actual − expected||₂ / max(||expected||₂, floor)

over all elements at once, in float64. Where the expectation is large this is the relative error; where
it is near zero (the exactly-zero gradient of a key bias, of a one-key attention's query, of a fully
masked row) it is the absolute error divided by ``floor``, the norm below which a result counts as zero.

Import it as ``from helpers import ...``: pytest puts tests/ on ``sys.path`` (tests/conftest.py lives there).
"""

import numpy as np
import torch

# The bound on relative_error for a result computed in a dtype and compared with the NumPy float64
# reference (or with PyTorch in the same dtype). u is the dtype's unit round-off, 2^-(mantissa bits + 1).
TOLERANCE = {
    # u = 1.1e-16. The fused CPU attention's forward and backward against the reference (up to 300 keys):
    # ≤ 1.2e-15 measured. 1e-10 is far above round-off and far below what any wrong formula gives.
    torch.float64: 1e-10,
    # u = 6.0e-8. The same comparison in float32: ≤ 4e-7 measured. 1e-5 ≈ 170 u leaves room for sums over
    # thousands of terms, whose round-off grows like √n·u (n·u at worst).
    torch.float32: 1e-5,
    # u = 4.9e-4. The CUDA kernels compute in float32 from the float16 inputs (csrc/kernels/
    # attention_common.cuh), and so do the CPU kernels (minitransformer/ops/dtypes.py), so what remains is
    # the output's rounding, ≈ 0.4 u (RMS, measured on randn values; every CPU op's forward and backward
    # ≤ 5.2e-4, the largest the cross-entropy's mean of rounded per-row losses); 2e-3 ≈ 4 u.
    torch.float16: 2e-3,
    # u = 3.9e-3. The same argument (CPU ops ≤ 3.6e-3 measured): 2e-2 ≈ 5 u.
    torch.bfloat16: 2e-2,
}


def to_numpy(x):
    """``x`` as a float64 NumPy array (a tensor is detached and copied to the CPU first)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def relative_error(actual, expected, floor=1e-6):
    """||actual − expected|| / max(||expected||, floor); tensors or arrays of the same shape."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"shapes differ: {actual.shape} vs {expected.shape}"
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), floor))


def labels_per_position(positions, labels, length):
    """MLM labels (B, N = ``length``), ``IGNORE_INDEX`` where nothing is predicted, from a batch's fixed-size
    ``mlm_positions`` and ``mlm_labels`` (B, P) (data/pretraining/mlm.py:masked_positions)."""
    from minitransformer.data.pretraining.mlm import IGNORE_INDEX
    per_position = torch.full((positions.shape[0], length + 1), IGNORE_INDEX)  # column N: the unused slots
    per_position.scatter_(1, torch.where(labels == IGNORE_INDEX, length, positions), labels)
    return per_position[:, :length]
