"""Helpers for the tests of minitransformer.nn: a MultiHeadAttention's weights as the NumPy reference's."""

from helpers import to_numpy


def mha_params(mha):
    """The parameters of a minitransformer MultiHeadAttention as the NumPy reference's dict."""
    names = {"q": mha.q_proj, "k": mha.k_proj, "v": mha.v_proj, "out": mha.out_proj}
    params = {}
    for prefix, proj in names.items():
        params[f"{prefix}_weight"] = to_numpy(proj.weight)
        params[f"{prefix}_bias"] = to_numpy(proj.bias)
    return params
