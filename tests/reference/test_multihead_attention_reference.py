"""reference/multihead_attention.py, encoder_layer.py, decoder_layer.py: backward vs central differences;
the encoder layer composes as its equation says."""

import numpy as np
import pytest

from minitransformer.reference import decoder_layer, encoder_layer, multihead_attention
from minitransformer.reference.numerical import numerical_gradient


def _params(rng, width):
    return {f"{name}_{kind}": rng.normal(size=(width, width) if kind == "weight" else width) * 0.5
            for name in ("q", "k", "v", "out") for kind in ("weight", "bias")}


@pytest.mark.parametrize("causal", [False, True])
def test_mha_backward_matches_finite_differences(causal):
    rng = np.random.default_rng(0)
    params = _params(rng, 4)
    query, memory = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    padding = np.array([[False, False, True], [True, True, True]])
    out, cache = multihead_attention.mha_forward(query, memory, memory, params, 2, causal, padding)
    assert np.all(out[1] == params["out_bias"])  # batch 1 sees no key: the heads are 0, out = b_o
    grad_out = rng.normal(size=out.shape)
    grads = multihead_attention.mha_backward(grad_out, cache)

    def with_query(t):
        return multihead_attention.mha_forward(t, memory, memory, params, 2, causal, padding)[0]

    def with_q_weight(t):
        return multihead_attention.mha_forward(query, memory, memory, dict(params, q_weight=t), 2, causal, padding)[0]

    assert np.allclose(grads["query"], numerical_gradient(with_query, query, grad_out), atol=1e-6)
    assert np.allclose(grads["q_weight"], numerical_gradient(with_q_weight, params["q_weight"], grad_out), atol=1e-6)


def test_encoder_layer_pre_norm_residual_structure():
    rng = np.random.default_rng(1)
    params = _params(rng, 4)
    params.update(w1=rng.normal(size=(6, 4)), b1=np.zeros(6), w2=np.zeros((4, 6)), b2=np.zeros(4),
                  norm1_weight=np.zeros(4), norm1_bias=np.zeros(4), norm2_weight=np.ones(4), norm2_bias=np.zeros(4))
    params["out_weight"], params["out_bias"] = np.zeros((4, 4)), np.zeros(4)
    x = rng.normal(size=(2, 3, 4))
    # zero attention and FFN outputs: the pre-norm layer is the identity (only the residual path remains)
    assert np.allclose(encoder_layer.encoder_layer_forward(x, params, 2, norm_first=True), x)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_backward_matches_finite_differences(norm_first):
    rng = np.random.default_rng(2)
    params = _params(rng, 4)
    params.update(w1=rng.normal(size=(6, 4)), b1=rng.normal(size=6), w2=rng.normal(size=(4, 6)), b2=rng.normal(size=4),
                  norm1_weight=rng.normal(size=4), norm1_bias=rng.normal(size=4), norm2_weight=rng.normal(size=4),
                  norm2_bias=rng.normal(size=4))
    x = rng.normal(size=(2, 3, 4))
    padding = np.array([[False, False, True], [False, False, False]])

    def forward(t):
        return encoder_layer.encoder_layer_forward(t, params, 2, norm_first, "gelu", key_padding_mask=padding)

    y, backward = encoder_layer.encoder_layer_forward(x, params, 2, norm_first, "gelu", key_padding_mask=padding,
                                                      return_backward=True)
    grad_y = rng.normal(size=y.shape)
    assert np.allclose(backward(grad_y), numerical_gradient(forward, x, grad_y), atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_backward_matches_finite_differences(norm_first):
    rng = np.random.default_rng(3)
    params = {"self_attn": _params(rng, 4), "cross_attn": _params(rng, 4), "w1": rng.normal(size=(6, 4)),
              "b1": rng.normal(size=6), "w2": rng.normal(size=(4, 6)), "b2": rng.normal(size=4)}
    params.update({f"norm{i}_{kind}": rng.normal(size=4) for i in (1, 2, 3) for kind in ("weight", "bias")})
    tgt, memory = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 2, 4))
    padding = np.array([[False, True], [False, False]])

    def forward(t, m):
        return decoder_layer.decoder_layer_forward(t, m, params, 2, norm_first, memory_key_padding_mask=padding)[0]

    y, backward = decoder_layer.decoder_layer_forward(tgt, memory, params, 2, norm_first,
                                                      memory_key_padding_mask=padding)
    grad_y = rng.normal(size=y.shape)
    grad_tgt, grad_memory = backward(grad_y)
    assert np.allclose(grad_tgt, numerical_gradient(lambda t: forward(t, memory), tgt, grad_y), atol=1e-6)
    assert np.allclose(grad_memory, numerical_gradient(lambda m: forward(tgt, m), memory, grad_y), atol=1e-6)
