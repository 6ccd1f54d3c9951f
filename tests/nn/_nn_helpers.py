"""Helpers for the tests of minitransformer.nn: a MultiHeadAttention's weights as the NumPy reference's, and
one layer's backend against its eager form."""

import torch

from helpers import relative_error, to_numpy


def mha_params(mha):
    """The parameters of a minitransformer MultiHeadAttention as the NumPy reference's dict."""
    names = {"q": mha.q_proj, "k": mha.k_proj, "v": mha.v_proj, "out": mha.out_proj}
    params = {}
    for prefix, proj in names.items():
        params[f"{prefix}_weight"] = to_numpy(proj.weight)
        params[f"{prefix}_bias"] = to_numpy(proj.bias)
    return params


def assert_backend_matches_eager(make, backend, x, grad_y, tolerance=1e-5):
    """``make(name)`` builds the layer for a backend name from torch seed 0 (the same weights for every name).
    Runs ``x`` forward and ``grad_y`` backward through the "eager" layer and the ``backend`` one, and checks
    that the outputs, the input gradients and every parameter gradient agree within ``tolerance`` (relative
    error). Returns the ``backend`` layer."""
    results = []
    for name in ("eager", backend):
        torch.manual_seed(0)
        layer = make(name)
        inputs = x.clone().requires_grad_()
        y = layer(inputs)
        y.backward(grad_y)
        results.append([y.detach(), inputs.grad] + [p.grad for p in layer.parameters()])
    for eager, other in zip(*results):
        assert relative_error(other, eager) < tolerance
    return layer
