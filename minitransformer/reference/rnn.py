"""Elman RNN and LSTM forward in NumPy float64, multi-layer, batch-first (gate order i, f, g, o).

    RNN:   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    LSTM:  [i, f, g, o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
           c_t = s(f) c_{t-1} + s(i) tanh(g),   h_t = s(o) tanh(c_t),   s = logistic sigmoid

``layers`` is a list of (W_ih, W_hh, b_ih, b_hh) per layer. Returns the top layer's h for every step
(B, N, H) and the final states (num_layers, B, H).

Backpropagation through time walks t from N down to 1 carrying dL/dh (and dL/dc):
    RNN:   da_t = (dh_t + carry) (1 - h_t^2),   carry <- da_t W_hh
    LSTM:  dc_t = carry_c + dh_t o_t (1 - tanh^2 c_t);  di = dc_t g_t, df = dc_t c_{t-1}, dg = dc_t i_t,
           do = dh_t tanh c_t;  each through its nonlinearity (s' = s (1 - s), tanh' = 1 - tanh^2) gives da_t;
           carry_c <- dc_t f_t,  carry_h <- da_t W_hh
and in both dx_t = da_t W_ih, dW_ih += da_t^T x_t, dW_hh += da_t^T h_{t-1}, db += sum da_t.
"""

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def rnn_forward(x, layers, h0=None):
    layer_input = np.asarray(x, dtype=np.float64)
    batch, hidden = layer_input.shape[0], layers[0][1].shape[1]
    finals = []
    for index, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
        h = np.zeros((batch, hidden)) if h0 is None else np.asarray(h0[index], dtype=np.float64)
        outputs = []
        for t in range(layer_input.shape[1]):
            h = np.tanh(layer_input[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            outputs.append(h)
        layer_input = np.stack(outputs, axis=1)
        finals.append(h)
    return layer_input, np.stack(finals)


def rnn_backward(x, layer, outputs, grad_outputs, h0=None):
    """BPTT for one tanh layer: return (dx, dW_ih, dW_hh, db) given its outputs (B, N, H) and dL/doutputs."""
    w_ih, w_hh = layer[0], layer[1]
    x = np.asarray(x, dtype=np.float64)
    batch, steps = x.shape[:2]
    previous = np.concatenate([np.zeros((batch, 1, w_hh.shape[0])) if h0 is None else h0[:, None], outputs[:, :-1]],
                              axis=1)
    grad_x, grad_w_ih, grad_w_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
    grad_bias, grad_h = np.zeros(w_hh.shape[0]), np.zeros((batch, w_hh.shape[0]))
    for t in reversed(range(steps)):
        grad_pre = (grad_outputs[:, t] + grad_h) * (1.0 - outputs[:, t] ** 2)  # (B, H)
        grad_x[:, t] = grad_pre @ w_ih
        grad_w_ih += grad_pre.T @ x[:, t]
        grad_w_hh += grad_pre.T @ previous[:, t]
        grad_bias += grad_pre.sum(axis=0)
        grad_h = grad_pre @ w_hh
    return grad_x, grad_w_ih, grad_w_hh, grad_bias


def lstm_forward(x, layers, state=None):
    """Return (outputs (B, N, H), h_n, c_n)."""
    layer_input = np.asarray(x, dtype=np.float64)
    batch, hidden = layer_input.shape[0], layers[0][1].shape[1]
    final_h, final_c = [], []
    for index, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
        if state is None:
            h, c = np.zeros((batch, hidden)), np.zeros((batch, hidden))
        else:
            h, c = np.asarray(state[0][index], dtype=np.float64), np.asarray(state[1][index], dtype=np.float64)
        outputs = []
        for t in range(layer_input.shape[1]):
            gates = layer_input[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (B, 4H)
            i, f, g, o = np.split(gates, 4, axis=-1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            outputs.append(h)
        layer_input = np.stack(outputs, axis=1)
        final_h.append(h)
        final_c.append(c)
    return layer_input, np.stack(final_h), np.stack(final_c)


def _lstm_layer_steps(x, layer):
    """The per-step gates and states of one LSTM layer from zero state (for the backward)."""
    w_ih, w_hh, b_ih, b_hh = layer
    batch, hidden = x.shape[0], w_hh.shape[1]
    h, c, steps = np.zeros((batch, hidden)), np.zeros((batch, hidden)), []
    for t in range(x.shape[1]):
        a_i, a_f, a_g, a_o = np.split(x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
        steps.append((h, c, i, f, g, o))  # h, c are the states before step t
        c = f * c + i * g
        h = o * np.tanh(c)
    return steps


def lstm_backward(x, layers, grad_outputs):
    """BPTT for a stack of LSTM layers from zero state: return (dx, [(dW_ih, dW_hh, db) per layer]) given
    dL/d(outputs of the top layer). db is the gradient of b_ih and of b_hh alike."""
    inputs = [np.asarray(x, dtype=np.float64)]
    for layer in layers[:-1]:  # the input sequence of every layer
        inputs.append(lstm_forward(inputs[-1], [layer])[0])
    grad_sequence, layer_grads = np.asarray(grad_outputs, dtype=np.float64), []
    for layer, layer_input in reversed(list(zip(layers, inputs))):
        w_ih, w_hh = layer[0], layer[1]
        steps = _lstm_layer_steps(layer_input, layer)
        grad_x, grad_w_ih, grad_w_hh = np.zeros_like(layer_input), np.zeros_like(w_ih), np.zeros_like(w_hh)
        grad_bias = np.zeros(w_ih.shape[0])
        carry_h, carry_c = np.zeros_like(steps[0][0]), np.zeros_like(steps[0][0])
        for t in reversed(range(layer_input.shape[1])):
            h_prev, c_prev, i, f, g, o = steps[t]
            c = f * c_prev + i * g
            grad_h = grad_sequence[:, t] + carry_h
            grad_c = carry_c + grad_h * o * (1.0 - np.tanh(c) ** 2)
            grad_a = np.concatenate([grad_c * g * i * (1 - i), grad_c * c_prev * f * (1 - f),
                                     grad_c * i * (1 - g ** 2), grad_h * np.tanh(c) * o * (1 - o)], axis=-1)
            grad_x[:, t] = grad_a @ w_ih
            grad_w_ih += grad_a.T @ layer_input[:, t]
            grad_w_hh += grad_a.T @ h_prev
            grad_bias += grad_a.sum(axis=0)
            carry_h, carry_c = grad_a @ w_hh, grad_c * f
        layer_grads.insert(0, (grad_w_ih, grad_w_hh, grad_bias))
        grad_sequence = grad_x
    return grad_sequence, layer_grads
