"""TransformerEncoderLayer and TransformerDecoderLayer vs torch.nn's with copied weights (pre- and
post-norm, masks), the encoder vs its NumPy composition, gradcheck, dropout behaviour."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.reference.decoder_layer import decoder_layer_forward
from minitransformer.reference.encoder_layer import encoder_layer_forward
from _nn_helpers import mha_params
from helpers import relative_error, to_numpy


@given(norm_first=st.booleans(), activation=st.sampled_from(["relu", "gelu"]), length=st.integers(1, 6),
       causal=st.booleans(), seed=st.integers(0, 2**16))
def test_encoder_layer_matches_torch(norm_first, activation, length, causal, seed):
    torch.manual_seed(seed)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                              norm_first=norm_first)
    mine = mnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, norm_first=norm_first)
    mine.load_from_torch(theirs)
    x = torch.randn(3, length, 8, requires_grad=True)
    padding = torch.rand(3, length) < 0.3
    padding[:, 0] = False
    mask = torch.ones(length, length, dtype=torch.bool).triu(1) if causal else None
    expected = theirs(x, src_mask=mask, src_key_padding_mask=padding, is_causal=causal)
    ours = mine(x, key_padding_mask=padding, is_causal=causal)
    assert relative_error(ours, expected) < 1e-5
    grad = torch.randn_like(ours)
    ours_grad = torch.autograd.grad(ours, (x, mine.feed_forward.linear1.weight), grad)
    their_grad = torch.autograd.grad(expected, (x, theirs.linear1.weight), grad)
    assert relative_error(ours_grad[0], their_grad[0]) < 1e-5 and relative_error(ours_grad[1], their_grad[1]) < 1e-5


@given(norm_first=st.booleans(), n_target=st.integers(1, 5), n_source=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_decoder_layer_matches_torch(norm_first, n_target, n_source, seed):
    torch.manual_seed(seed)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
    mine = mnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    mine.load_from_torch(theirs)
    tgt, memory = torch.randn(2, n_target, 8, requires_grad=True), torch.randn(2, n_source, 8, requires_grad=True)
    memory_padding = torch.rand(2, n_source) < 0.3
    memory_padding[:, 0] = False
    causal_mask = torch.nn.Transformer.generate_square_subsequent_mask(n_target)
    expected = theirs(tgt, memory, tgt_mask=causal_mask, memory_key_padding_mask=memory_padding, tgt_is_causal=True)
    ours = mine(tgt, memory, memory_key_padding_mask=memory_padding)
    assert relative_error(ours, expected) < 1e-5
    grad = torch.randn_like(ours)
    ours_grad = torch.autograd.grad(ours, (tgt, memory), grad)
    their_grad = torch.autograd.grad(expected, (tgt, memory), grad)
    assert relative_error(ours_grad[0], their_grad[0]) < 1e-5 and relative_error(ours_grad[1], their_grad[1]) < 1e-5


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_numpy_forward_and_backward(norm_first):
    torch.manual_seed(0)
    layer = mnn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, norm_first=norm_first).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    padding = torch.tensor([[False] * 5, [False, False, True, True, True]])
    params = mha_params(layer.self_attn)
    ff = layer.feed_forward
    params.update(w1=to_numpy(ff.linear1.weight), b1=to_numpy(ff.linear1.bias), w2=to_numpy(ff.linear2.weight),
                  b2=to_numpy(ff.linear2.bias), norm1_weight=to_numpy(layer.norm1.weight),
                  norm1_bias=to_numpy(layer.norm1.bias), norm2_weight=to_numpy(layer.norm2.weight),
                  norm2_bias=to_numpy(layer.norm2.bias))
    expected, backward = encoder_layer_forward(to_numpy(x), params, nhead=2, norm_first=norm_first,
                                               key_padding_mask=to_numpy(padding).astype(bool), return_backward=True)
    y = layer(x, key_padding_mask=padding)
    grad = torch.randn_like(y)
    y.backward(grad)
    assert relative_error(y, expected) < 1e-12
    assert relative_error(x.grad, backward(to_numpy(grad))) < 1e-10


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_numpy_forward_and_backward(norm_first):
    torch.manual_seed(0)
    layer = mnn.TransformerDecoderLayer(8, 2, 12, dropout=0.0, norm_first=norm_first).double()
    tgt = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    padding = torch.tensor([[False, False, True], [False, False, False]])
    ff = layer.feed_forward
    params = {"self_attn": mha_params(layer.self_attn), "cross_attn": mha_params(layer.multihead_attn),
              "w1": to_numpy(ff.linear1.weight), "b1": to_numpy(ff.linear1.bias),
              "w2": to_numpy(ff.linear2.weight), "b2": to_numpy(ff.linear2.bias)}
    for index in (1, 2, 3):
        norm = getattr(layer, f"norm{index}")
        params[f"norm{index}_weight"], params[f"norm{index}_bias"] = to_numpy(norm.weight), to_numpy(norm.bias)
    expected, backward = decoder_layer_forward(to_numpy(tgt), to_numpy(memory), params, 2, norm_first,
                                               memory_key_padding_mask=to_numpy(padding).astype(bool))
    y = layer(tgt, memory, memory_key_padding_mask=padding)
    grad = torch.randn_like(y)
    y.backward(grad)
    grad_tgt, grad_memory = backward(to_numpy(grad))
    assert relative_error(y, expected) < 1e-12
    assert relative_error(tgt.grad, grad_tgt) < 1e-10 and relative_error(memory.grad, grad_memory) < 1e-10


def test_gradcheck_float64():
    torch.manual_seed(0)
    encoder = mnn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    decoder = mnn.TransformerDecoderLayer(4, 2, 6, dropout=0.0).double()
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: encoder(a, is_causal=True), (x,))
    assert torch.autograd.gradcheck(decoder, (x, memory))


def test_dropout_is_active_in_training_only():
    torch.manual_seed(0)
    layer = mnn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = torch.randn(2, 4, 8)
    assert not torch.allclose(layer(x), layer(x))
    layer.eval()
    assert torch.equal(layer(x), layer(x))


def test_bad_input_names_the_argument():
    layer = mnn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match="src"):
        layer(torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match="memory"):
        mnn.TransformerDecoderLayer(8, 2, 16)(torch.randn(2, 4, 8), torch.randn(2, 3))
    with pytest.raises(ValueError, match="dim_feedforward"):
        mnn.TransformerEncoderLayer(8, 2, 0)
