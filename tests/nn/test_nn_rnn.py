"""RNN, LSTM (cells and multi-layer stacks): vs the NumPy reference (forward and BPTT) and nn.RNN / nn.LSTM
with the same weights (load_state_dict), gradcheck and bad input."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.reference import rnn as ref_rnn
from helpers import relative_error, to_numpy


def _layers(module):
    return [tuple(to_numpy(getattr(module, f"{name}_l{k}")) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for k in range(module.num_layers)]


@given(num_layers=st.integers(1, 3), steps=st.integers(1, 6), hidden=st.integers(1, 5), batch_first=st.booleans(),
       seed=st.integers(0, 999))
def test_lstm_matches_numpy_and_torch(num_layers, steps, hidden, batch_first, seed):
    torch.manual_seed(seed)
    mine = mnn.LSTM(3, hidden, num_layers, batch_first=batch_first)
    theirs = torch.nn.LSTM(3, hidden, num_layers, batch_first=batch_first)
    theirs.load_state_dict(mine.state_dict())
    x = torch.randn(2, steps, 3) if batch_first else torch.randn(steps, 2, 3)
    x.requires_grad_()
    state = (torch.randn(num_layers, 2, hidden), torch.randn(num_layers, 2, hidden))
    ours, (h_n, c_n) = mine(x, state)
    expected, (h_ref, c_ref) = theirs(x, state)
    assert max(relative_error(ours, expected), relative_error(h_n, h_ref), relative_error(c_n, c_ref)) < 1e-5
    grad = torch.randn_like(ours)
    assert relative_error(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(expected, x, grad)[0]) < 1e-5

    x_batch_first = to_numpy(x) if batch_first else to_numpy(x).transpose(1, 0, 2)
    outputs, h_np, c_np = ref_rnn.lstm_forward(x_batch_first, _layers(mine), (to_numpy(state[0]), to_numpy(state[1])))
    assert relative_error(ours if batch_first else ours.transpose(0, 1), outputs) < 1e-6
    assert max(relative_error(h_n, h_np), relative_error(c_n, c_np)) < 1e-6


@given(num_layers=st.integers(1, 2), steps=st.integers(1, 6), nonlinearity=st.sampled_from(["tanh", "relu"]),
       seed=st.integers(0, 999))
def test_rnn_matches_torch(num_layers, steps, nonlinearity, seed):
    torch.manual_seed(seed)
    mine = mnn.RNN(3, 4, num_layers, nonlinearity=nonlinearity)
    theirs = torch.nn.RNN(3, 4, num_layers, nonlinearity=nonlinearity, batch_first=True)
    theirs.load_state_dict(mine.state_dict())
    x = torch.randn(2, steps, 3)
    ours, h_n = mine(x)
    expected, h_ref = theirs(x)
    assert relative_error(ours, expected) < 1e-5 and relative_error(h_n, h_ref) < 1e-5


@given(steps=st.integers(1, 6), seed=st.integers(0, 999))
def test_rnn_matches_numpy_forward_and_backprop_through_time(steps, seed):
    torch.manual_seed(seed)
    rnn = mnn.RNN(3, 4).double()
    x = torch.randn(2, steps, 3, dtype=torch.float64, requires_grad=True)
    out, _ = rnn(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    layer = _layers(rnn)[0]
    outputs, _ = ref_rnn.rnn_forward(to_numpy(x), [layer])
    grad_x, grad_w_ih, grad_w_hh, grad_b = ref_rnn.rnn_backward(to_numpy(x), layer, outputs, to_numpy(grad))
    assert relative_error(out, outputs) < 1e-12
    assert relative_error(x.grad, grad_x) < 1e-10
    assert relative_error(rnn.weight_ih_l0.grad, grad_w_ih) < 1e-10
    assert relative_error(rnn.weight_hh_l0.grad, grad_w_hh) < 1e-10
    assert relative_error(rnn.bias_ih_l0.grad, grad_b) < 1e-10 and relative_error(rnn.bias_hh_l0.grad, grad_b) < 1e-10


@given(num_layers=st.integers(1, 2), steps=st.integers(1, 5), seed=st.integers(0, 999))
def test_lstm_backward_matches_numpy_bptt(num_layers, steps, seed):
    torch.manual_seed(seed)
    lstm = mnn.LSTM(3, 4, num_layers).double()
    x = torch.randn(2, steps, 3, dtype=torch.float64, requires_grad=True)
    out, _ = lstm(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    grad_x, layer_grads = ref_rnn.lstm_backward(to_numpy(x), _layers(lstm), to_numpy(grad))
    assert relative_error(x.grad, grad_x) < 1e-10
    for k, (grad_w_ih, grad_w_hh, grad_b) in enumerate(layer_grads):
        assert relative_error(getattr(lstm, f"weight_ih_l{k}").grad, grad_w_ih) < 1e-10
        assert relative_error(getattr(lstm, f"weight_hh_l{k}").grad, grad_w_hh) < 1e-10
        assert relative_error(getattr(lstm, f"bias_ih_l{k}").grad, grad_b) < 1e-10


def test_cells_match_torch_cells():
    torch.manual_seed(0)
    lstm, torch_lstm = mnn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)
    torch_lstm.load_state_dict(lstm.state_dict())
    rnn, torch_rnn = mnn.RNNCell(3, 4), torch.nn.RNNCell(3, 4)
    torch_rnn.load_state_dict(rnn.state_dict())
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    assert all(relative_error(a, b) < 1e-6 for a, b in zip(lstm(x, (h, c)), torch_lstm(x, (h, c))))
    assert relative_error(rnn(x, h), torch_rnn(x, h)) < 1e-6


def test_gradcheck_float64():
    torch.manual_seed(0)
    lstm = mnn.LSTM(2, 3, num_layers=2).double()
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: lstm(t)[0], (x,))


@pytest.mark.parametrize("call, argument", [
    (lambda: mnn.LSTM(3, 4)(torch.randn(2, 5, 2)), "x"),
    (lambda: mnn.LSTM(3, 4)(torch.randn(2, 5, 3), (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4))), "c0"),
    (lambda: mnn.RNN(3, 4)(torch.randn(2, 5, 3), torch.zeros(1, 3, 4)), "h0"),
    (lambda: mnn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
    (lambda: mnn.LSTM(3, 4, num_layers=0), "num_layers"),
    (lambda: mnn.LSTMCell(3, 4)(torch.randn(2, 4)), "x"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()
