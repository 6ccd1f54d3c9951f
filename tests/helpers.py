"""What the tests share: one relative error, one tolerance per dtype, the per-position view of a
masked-LM batch's fixed-size labels, and the loading of a script of bench/ as a module.

    relative_error(actual, expected) = ||actual − expected||₂ / max(||expected||₂, floor)

over all elements at once, in float64. Where the expectation is large this is the relative error; where
it is near zero (the exactly-zero gradient of a key bias, of a one-key attention's query, of a fully
masked row) it is the absolute error divided by ``floor``, the norm below which a result counts as zero.

Import it as ``from helpers import ...``: pytest puts tests/ on ``sys.path`` (tests/conftest.py lives there).
"""

import importlib.util
import pathlib
import sys

import numpy as np
import torch

from minitransformer.ops.dtypes import TOLERANCE  # noqa: F401  (one bound per dtype, shared with bench/)


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


BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"


def load_bench_script(filename):
    """bench/<filename> as a module (the scripts are not a package; they import their neighbours, such as
    common.py, from their own folder)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_" + filename.removesuffix(".py"), BENCH / filename)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module
