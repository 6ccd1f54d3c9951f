"""Helpers for the tests of minitransformer.nn: relative errors and weight extraction."""

import numpy as np
import torch


def to_numpy(x):
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def rel_err(actual, expected, floor=1e-6):
    """||actual - expected|| / max(||expected||, floor): relative, but absolute for (near-)zero expectations
    such as the exactly-zero gradients of a key bias or of a one-key attention's query."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"shapes differ: {actual.shape} vs {expected.shape}"
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), floor))


def mha_params(mha):
    """The parameters of a minitransformer MultiHeadAttention as the NumPy reference's dict."""
    names = {"q": mha.q_proj, "k": mha.k_proj, "v": mha.v_proj, "out": mha.out_proj}
    params = {}
    for prefix, proj in names.items():
        params[f"{prefix}_weight"] = to_numpy(proj.weight)
        params[f"{prefix}_bias"] = to_numpy(proj.bias)
    return params


