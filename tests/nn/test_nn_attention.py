"""Scaled dot-product and multi-head attention: vs the NumPy reference (reference/attention.py,
reference/multihead_attention.py), vs torch.nn.MultiheadAttention with the same weights, across the
"eager" | "torch" | "fused" backends, fully masked rows, dropout, gradcheck, bad input, and the backend
resolver (nn/backends.py)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.nn import backends
from minitransformer.nn.attention import eager_attention, scaled_dot_product_attention
from minitransformer.reference.multihead_attention import mha_backward, mha_forward
from _nn_helpers import mha_params
from helpers import relative_error, to_numpy


needs_fused = pytest.mark.skipif(backends.resolve_backend("auto") != "fused",
                                 reason="the compiled extension is not built")


@st.composite
def attention_case(draw):
    batch, nhead, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    n_queries, n_keys = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    causal = draw(st.booleans())
    padding = draw(st.none() | st.lists(st.lists(st.booleans(), min_size=n_keys, max_size=n_keys),
                                        min_size=batch, max_size=batch))
    return batch, nhead, head_dim, n_queries, n_keys, causal, padding, draw(st.integers(0, 2**16))


@given(case=attention_case())
def test_multihead_attention_matches_numpy_forward_and_backward(case):
    batch, nhead, head_dim, n_queries, n_keys, causal, padding, seed = case
    torch.manual_seed(seed)
    d_model = nhead * head_dim
    mha = mnn.MultiHeadAttention(d_model, nhead).double()
    query = torch.randn(batch, n_queries, d_model, dtype=torch.float64, requires_grad=True)
    key = torch.randn(batch, n_keys, d_model, dtype=torch.float64, requires_grad=True)
    value = torch.randn(batch, n_keys, d_model, dtype=torch.float64, requires_grad=True)
    mask = None if padding is None else torch.tensor(padding)
    out = mha(query, key, value, key_padding_mask=mask, is_causal=causal)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)

    expected, cache = mha_forward(to_numpy(query), to_numpy(key), to_numpy(value), mha_params(mha), nhead,
                                  causal=causal, key_padding_mask=padding)
    grads = mha_backward(to_numpy(grad_out), cache)
    assert not torch.isnan(out).any()
    assert relative_error(out, expected) < 1e-10
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        assert relative_error(tensor.grad, grads[name]) < 1e-9, name
    for prefix, proj in (("q", mha.q_proj), ("k", mha.k_proj), ("v", mha.v_proj), ("out", mha.out_proj)):
        assert relative_error(proj.weight.grad, grads[f"{prefix}_weight"]) < 1e-9, prefix
        # k's bias gradient is 0: softmax is shift-invariant
        assert relative_error(proj.bias.grad, grads[f"{prefix}_bias"]) < 1e-9, prefix


@given(n_queries=st.integers(1, 6), n_keys=st.integers(1, 6), use_padding=st.booleans(), use_attn_mask=st.booleans(),
       seed=st.integers(0, 2**16))
def test_multihead_attention_matches_torch_with_copied_weights(n_queries, n_keys, use_padding, use_attn_mask, seed):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    mine = mnn.MultiHeadAttention(8, 2)
    mine.load_from_torch(theirs)
    query, key = torch.randn(2, n_queries, 8, requires_grad=True), torch.randn(2, n_keys, 8, requires_grad=True)
    padding = torch.rand(2, n_keys) < 0.3 if use_padding else None
    if padding is not None:
        padding[:, 0] = False  # torch gives NaN on fully masked rows; that case is tested separately
    attn_mask = (torch.rand(n_queries, n_keys) < 0.3).index_fill_(1, torch.tensor([0]), False) if use_attn_mask \
        else None
    ours = mine(query, key, key_padding_mask=padding, attn_mask=attn_mask)
    expected = theirs(query, key, key, key_padding_mask=padding, attn_mask=attn_mask, need_weights=False)[0]
    assert relative_error(ours, expected) < 1e-5
    grad = torch.randn_like(ours)
    ours_grads = torch.autograd.grad(ours, (query, key, mine.q_proj.weight), grad)
    their_grads = torch.autograd.grad(expected, (query, key, theirs.in_proj_weight), grad)
    assert relative_error(ours_grads[0], their_grads[0]) < 1e-5
    assert relative_error(ours_grads[1], their_grads[1]) < 1e-5
    assert relative_error(ours_grads[2], their_grads[2][:8]) < 1e-5


BACKENDS = ["eager", "torch", pytest.param("fused", marks=needs_fused)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("causal", [False, True])
def test_backends_agree_and_fully_masked_rows_are_zero(backend, causal):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, requires_grad=True) for _ in range(3))
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[1] = True  # batch 1: every key masked
    padding[0, :2] = True  # batch 0 with causal: queries 0 and 1 see no key
    out = scaled_dot_product_attention(q, k, v, key_padding_mask=padding, is_causal=causal, backend=backend)
    reference = scaled_dot_product_attention(q, k, v, key_padding_mask=padding, is_causal=causal)
    assert not torch.isnan(out).any()
    assert torch.count_nonzero(out[1]) == 0
    assert relative_error(out, reference) < 1e-5
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), grad_out)
    reference_grads = torch.autograd.grad(reference, (q, k, v), grad_out)
    for grad, reference_grad in zip(grads, reference_grads):
        assert torch.isfinite(grad).all()
        assert relative_error(grad, reference_grad) < 1e-5
    assert torch.count_nonzero(grads[0][1]) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_agree_on_multihead_attention(backend):
    torch.manual_seed(1)
    reference = mnn.MultiHeadAttention(16, 4)
    other = mnn.MultiHeadAttention(16, 4, backend=backend)
    other.load_state_dict(reference.state_dict())
    x, memory = torch.randn(3, 7, 16), torch.randn(3, 5, 16)
    padding = torch.rand(3, 7) < 0.3
    grad = torch.randn(3, 7, 16)
    # self-attention (one stacked q, k, v product off eager), causal or not, and cross-attention (three products)
    for call in (lambda m: m(x, key_padding_mask=padding), lambda m: m(x, key_padding_mask=padding, is_causal=True),
                 lambda m: m(x, memory)):
        outputs = []
        for module in (other, reference):
            module.zero_grad()
            out = call(module)
            out.backward(grad)
            outputs.append(out)
        assert relative_error(*outputs) < 1e-5
        for (name, mine), theirs in zip(other.named_parameters(), reference.parameters()):
            # atol: the key bias's gradient is zero in exact arithmetic (it shifts a whole row of scores)
            assert torch.allclose(mine.grad, theirs.grad, rtol=1e-5, atol=1e-6), name


@needs_fused
def test_fused_backend_refuses_attention_dropout_at_construction_and_attn_mask():
    with pytest.raises(ValueError, match="backend='fused' has no attention dropout"):
        mnn.MultiHeadAttention(8, 2, dropout=0.1, backend="fused")
    with pytest.raises(ValueError, match="attention_dropout=0.0"):
        mnn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, backend="fused")  # attention_dropout defaults to 0.1
    with pytest.raises(ValueError, match="attention_dropout=0.0"):
        mnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, attention_dropout=0.2, backend="fused")
    mnn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, attention_dropout=0.0, backend="fused")  # residual dropout
    q = k = v = torch.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match="no attention dropout"):
        scaled_dot_product_attention(q, k, v, dropout_p=0.1, backend="fused")  # the functional form, in training
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, dropout_p=0.1, training=False, backend="fused"),
                               scaled_dot_product_attention(q, k, v))
    with pytest.raises(ValueError, match="attn_mask"):
        mnn.MultiHeadAttention(8, 2, backend="fused")(torch.randn(1, 3, 8), attn_mask=torch.ones(3, 3).bool())


def test_fused_request_without_the_extension_fails_at_once_with_the_reason(monkeypatch):
    def not_built(name):
        raise ImportError("minitransformer's C++ extension is not built (No module named 'minitransformer._C')")
    monkeypatch.setattr(backends, "load_fused_op", not_built)
    for make in (lambda: mnn.MultiHeadAttention(8, 2, backend="fused"),
                 lambda: mnn.TransformerEncoderLayer(8, 2, 16, attention_dropout=0.0, backend="fused"),
                 lambda: backends.resolve_backend("fused")):
        with pytest.raises(RuntimeError) as error:
            make()
        message = str(error.value)
        assert "\n" not in message and "backend='fused'" in message
        assert "No module named 'minitransformer._C'" in message
    assert backends.resolve_backend("auto") == "eager"
    assert "backend=eager\n" in repr(mnn.MultiHeadAttention(8, 2, backend="auto"))


def test_a_broken_build_is_not_silently_replaced_by_eager(monkeypatch):
    def stale(name):
        raise RuntimeError("operator minitransformer::attention_forward does not exist")
    monkeypatch.setattr(backends, "load_fused_op", stale)
    with pytest.raises(RuntimeError, match="does not exist"):
        backends.resolve_backend("auto")


def test_auto_resolves_at_construction_and_shows_in_the_repr():
    chosen = backends.resolve_backend("auto")
    assert chosen in backends.BACKENDS
    mha = mnn.MultiHeadAttention(8, 2, backend="auto")
    assert mha.backend == chosen and f"backend={chosen}\n" in repr(mha)
    layer = mnn.TransformerEncoderLayer(8, 2, 16, attention_dropout=0.0, backend="auto")
    assert layer.self_attn.backend == chosen and f"backend={chosen}\n" in repr(layer)


def test_the_former_name_reference_means_eager_and_unknown_names_are_refused():
    assert backends.resolve_backend("reference") == "eager"
    assert mnn.MultiHeadAttention(8, 2, backend="reference").backend == "eager"
    with pytest.raises(ValueError, match="backend must be 'auto' or one of"):
        backends.resolve_backend("flash")
    with pytest.raises(ValueError, match="backend"):
        scaled_dot_product_attention(*(torch.randn(1, 1, 2, 4) for _ in range(3)), backend="sdpa")


def test_attention_dropout_zeroes_weights_and_keeps_expectation():
    torch.manual_seed(0)
    q, k = torch.zeros(1, 1, 1, 4), torch.zeros(1, 1, 50, 4)  # uniform weights 1/50
    v = torch.ones(1, 1, 50, 4)
    outs = torch.stack([scaled_dot_product_attention(q, k, v, dropout_p=0.5) for _ in range(400)])
    assert abs(outs.mean().item() - 1.0) < 0.03  # inverted dropout keeps E[out]
    assert outs.std().item() > 0.05  # ... but it is random
    assert torch.allclose(scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=False), v[:, :, :1])


def test_gradcheck_float64_with_masks_and_rotary():
    torch.manual_seed(0)
    mha = mnn.MultiHeadAttention(8, 2, rotary=True).double()
    query = torch.randn(2, 4, 8, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    padding = torch.tensor([[False, True, False], [True, True, True]])
    assert torch.autograd.gradcheck(lambda a, b: mha(a, b, key_padding_mask=padding), (query, memory))
    assert torch.autograd.gradcheck(lambda a: mha(a, is_causal=True), (query,))


def test_float_attn_mask_is_added_to_scores():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 2, 3, 4) for _ in range(3))
    bias = torch.randn(3, 3)
    scores = q @ k.transpose(-1, -2) / 2.0 + bias
    expected = torch.softmax(scores, -1) @ v
    assert relative_error(scaled_dot_product_attention(q, k, v, attn_mask=bias), expected) < 1e-6
    assert relative_error(scaled_dot_product_attention(q, k, v, attn_mask=bias, backend="torch"), expected) < 1e-6


@pytest.mark.parametrize("call, argument", [
    (lambda m: m(torch.randn(2, 3, 7)), "query"),
    (lambda m: m(torch.randn(2, 3)), "query"),
    (lambda m: m(torch.randn(2, 3, 8), torch.randn(2, 4, 5)), "key"),
    (lambda m: m(torch.randn(2, 3, 8), key_padding_mask=torch.zeros(2, 4, dtype=torch.bool)), "key_padding_mask"),
    (lambda m: m(torch.randn(2, 3, 8), key_padding_mask=torch.zeros(2, 3)), "key_padding_mask"),
    (lambda m: m(torch.randn(2, 3, 8), attn_mask=torch.zeros(4, 4, dtype=torch.bool)), "attn_mask"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call(mnn.MultiHeadAttention(8, 2))


@pytest.mark.parametrize("kwargs, argument", [
    (dict(d_model=10, nhead=3), "divisible"),
    (dict(d_model=8, nhead=0), "nhead"),
    (dict(d_model=8, nhead=2, backend="flash"), "backend"),
    (dict(d_model=8, nhead=2, dropout=1.5), "dropout"),
])
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        mnn.MultiHeadAttention(**kwargs)


def test_eager_weights_are_a_distribution():
    q, k, v = (torch.randn(2, 2, 4, 3) for _ in range(3))
    _, weights = eager_attention(q, k, v)
    assert np.allclose(to_numpy(weights.sum(-1)), 1.0)


@pytest.mark.parametrize("backend", ["torch", pytest.param("fused", marks=needs_fused)])
def test_gradcheck_float64_other_backends(backend):
    torch.manual_seed(0)
    mha = mnn.MultiHeadAttention(8, 2, backend=backend).double()
    x = torch.randn(2, 4, 8, dtype=torch.float64, requires_grad=True)
    padding = torch.tensor([[False, False, True, False], [True, True, True, True]])
    assert torch.autograd.gradcheck(lambda a: mha(a, key_padding_mask=padding, is_causal=True), (x,))
