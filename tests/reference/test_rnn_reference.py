"""reference/rnn.py: RNN and LSTM BPTT vs central differences; the LSTM forward against one step by hand."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import rnn
from minitransformer.reference.numerical import numerical_gradient


@given(steps=st.integers(1, 4), seed=st.integers(0, 999))
def test_rnn_backward_matches_finite_differences(steps, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, steps, 3))
    layer = (rng.normal(size=(4, 3)), rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4), rng.normal(size=4))
    outputs, _ = rnn.rnn_forward(x, [layer])
    grad_outputs = rng.normal(size=outputs.shape)
    grad_x, grad_w_ih, grad_w_hh, grad_b = rnn.rnn_backward(x, layer, outputs, grad_outputs)

    def with_w_hh(t):
        return rnn.rnn_forward(x, [(layer[0], t, layer[2], layer[3])])[0]

    assert np.allclose(grad_x, numerical_gradient(lambda t: rnn.rnn_forward(t, [layer])[0], x, grad_outputs), atol=1e-6)
    assert np.allclose(grad_w_hh, numerical_gradient(with_w_hh, layer[1], grad_outputs), atol=1e-6)


def test_lstm_one_step_by_hand():
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(1, 1, 2)), rng.normal(size=(1, 1, 3)), rng.normal(size=(1, 1, 3))
    w_ih, w_hh, b_ih, b_hh = rng.normal(size=(12, 2)), rng.normal(size=(12, 3)), rng.normal(size=12), rng.normal(size=12)
    gates = w_ih @ x[0, 0] + b_ih + w_hh @ h[0, 0] + b_hh

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    c_new = sigmoid(gates[3:6]) * c[0, 0] + sigmoid(gates[0:3]) * np.tanh(gates[6:9])
    h_new = sigmoid(gates[9:12]) * np.tanh(c_new)
    outputs, h_n, c_n = rnn.lstm_forward(x, [(w_ih, w_hh, b_ih, b_hh)], (h, c))
    assert np.allclose(outputs[0, 0], h_new) and np.allclose(h_n[0, 0], h_new) and np.allclose(c_n[0, 0], c_new)


@given(steps=st.integers(1, 3), num_layers=st.integers(1, 2), seed=st.integers(0, 999))
def test_lstm_backward_matches_finite_differences(steps, num_layers, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, steps, 3))
    layers = [(rng.normal(size=(8, 3 if k == 0 else 2)), rng.normal(size=(8, 2)), rng.normal(size=8), rng.normal(size=8))
              for k in range(num_layers)]
    outputs = rnn.lstm_forward(x, layers)[0]
    grad_outputs = rng.normal(size=outputs.shape)
    grad_x, layer_grads = rnn.lstm_backward(x, layers, grad_outputs)

    def with_first_w_hh(t):
        return rnn.lstm_forward(x, [(layers[0][0], t, layers[0][2], layers[0][3])] + layers[1:])[0]

    def with_first_bias(t):
        return rnn.lstm_forward(x, [(layers[0][0], layers[0][1], t, layers[0][3])] + layers[1:])[0]

    assert np.allclose(grad_x, numerical_gradient(lambda t: rnn.lstm_forward(t, layers)[0], x, grad_outputs), atol=1e-6)
    assert np.allclose(layer_grads[0][1], numerical_gradient(with_first_w_hh, layers[0][1], grad_outputs), atol=1e-6)
    assert np.allclose(layer_grads[0][2], numerical_gradient(with_first_bias, layers[0][2], grad_outputs), atol=1e-6)
