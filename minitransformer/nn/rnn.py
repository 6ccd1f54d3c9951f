"""Recurrent layers: Elman RNN and LSTM (Hochreiter & Schmidhuber 1997; the forget-gate form of Gers et al.
2000, with the gate order i, f, g, o of torch.nn.LSTM).

RNN cell:   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)          (or relu)
LSTM cell:  [i, f, g, o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (4 H rows)
            c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g),          h_t = sigmoid(o) * tanh(c_t)

A multi-layer RNN feeds layer l's h_t sequence (with dropout between layers in training) to layer l + 1.
Parameter names match torch (weight_ih, weight_hh, bias_ih, bias_hh on cells; weight_ih_l{k} etc. on
the stacks), so ``load_state_dict(torch_lstm.state_dict())`` copies weights. All init U(-1/sqrt(H), 1/sqrt(H)).
"""

import math

import torch
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_probability, check_tensor
from minitransformer.nn.dropout import dropout

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def rnn_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """One Elman step: x (B, I), h (B, H) -> h' (B, H)."""
    pre_activation = x @ weight_ih.T + h @ weight_hh.T  # (B, H)
    if bias_ih is not None:
        pre_activation = pre_activation + bias_ih + bias_hh
    return NONLINEARITIES[nonlinearity](pre_activation)


def lstm_cell(x, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step: x (B, I), state (h, c) each (B, H) -> (h', c')."""
    h, c = state
    gates = x @ weight_ih.T + h @ weight_hh.T  # (B, 4H)
    if bias_ih is not None:
        gates = gates + bias_ih + bias_hh
    input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=-1)  # each (B, H)
    c = torch.sigmoid(forget_gate) * c + torch.sigmoid(input_gate) * torch.tanh(candidate)
    return torch.sigmoid(output_gate) * torch.tanh(c), c


def _uniform_parameters(module, hidden_size):
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-bound, bound)


class _Cell(nn.Module):
    def __init__(self, input_size, hidden_size, bias, gates):
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size)) if bias else None
        _uniform_parameters(self, hidden_size)

    def _zeros(self, x):
        check_tensor("x", x, ndim=2, last_dim=self.input_size)
        return x.new_zeros(x.shape[0], self.hidden_size)


class RNNCell(_Cell):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__(input_size, hidden_size, bias, gates=1)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        h = self._zeros(x) if h is None else h
        return rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)


class LSTMCell(_Cell):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, gates=4)

    def forward(self, x, state=None):
        state = (self._zeros(x), self._zeros(x)) if state is None else state
        return lstm_cell(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class _Stack(nn.Module):
    """Layers of cells unrolled over time; x (B, N, input_size) when batch_first else (N, B, input_size)."""

    def __init__(self, input_size, hidden_size, num_layers, bias, batch_first, dropout_p, gates):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            check_positive_int(name, value)
        check_probability("dropout", dropout_p)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout_p
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(gates * hidden_size, layer_input)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(gates * hidden_size, hidden_size)))
            if bias:
                self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(gates * hidden_size)))
                self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(gates * hidden_size)))
        _uniform_parameters(self, hidden_size)

    def _layer_parameters(self, layer):
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        return [getattr(self, f"{name}_l{layer}") for name in names]

    def _check_input(self, x):
        check_tensor("x", x, ndim=3, last_dim=self.input_size)
        return x if self.batch_first else x.transpose(0, 1)  # (B, N, input_size)

    def _check_state(self, name, state, batch):
        expected = (self.num_layers, batch, self.hidden_size)
        if tuple(state.shape) != expected:
            raise ValueError(f"{name} must have shape (num_layers, B, hidden_size) = {expected}, "
                             f"got {tuple(state.shape)}")

    def _unroll(self, x, initial_states, step):
        """Run ``step(x_t, state, layer_parameters)`` over layers and time; returns outputs and final states."""
        layer_input, final_states = x, []
        for layer, state in enumerate(initial_states):
            parameters, outputs = self._layer_parameters(layer), []
            for t in range(layer_input.shape[1]):
                state = step(layer_input[:, t], state, parameters)
                outputs.append(state[0] if isinstance(state, tuple) else state)
            layer_input = torch.stack(outputs, dim=1)  # (B, N, H)
            if layer < self.num_layers - 1:
                layer_input = dropout(layer_input, self.dropout, self.training)
            final_states.append(state)
        output = layer_input if self.batch_first else layer_input.transpose(0, 1)
        return output, final_states


class RNN(_Stack):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True,
                 dropout=0.0):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, gates=1)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, x, h0=None):
        """-> (output (B, N, H), h_n (num_layers, B, H))."""
        x = self._check_input(x)
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        self._check_state("h0", h0, x.shape[0])
        output, final = self._unroll(x, list(h0), lambda x_t, h, p: rnn_cell(x_t, h, *p, nonlinearity=self.nonlinearity))
        return output, torch.stack(final)


class LSTM(_Stack):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, gates=4)

    def forward(self, x, state=None):
        """-> (output (B, N, H), (h_n, c_n) each (num_layers, B, H))."""
        x = self._check_input(x)
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        self._check_state("h0", state[0], x.shape[0])
        self._check_state("c0", state[1], x.shape[0])
        output, final = self._unroll(x, list(zip(state[0], state[1])), lambda x_t, s, p: lstm_cell(x_t, s, *p))
        return output, (torch.stack([h for h, _ in final]), torch.stack([c for _, c in final]))
