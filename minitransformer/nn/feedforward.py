"""Position-wise feed-forward network (Vaswani et al. 2017, "Attention Is All You Need", eq. 2):

    FFN(x) = W2 dropout(act(W1 x + b1)) + b2,    W1: (dim_feedforward, d_model),  W2: (d_model, dim_feedforward)

The original uses act = ReLU; BERT and GPT use GELU. Applied to every position independently.

``backend`` (nn/backends.py): "eager" runs the modules (Linear, the activation) in torch ops; "torch" calls
``F.linear`` and ``F.gelu`` / ``F.relu``; "fused" computes W1 x (``minitransformer.ops.linear``), then adds b1
and applies GELU in one pass of our C++ op (``minitransformer.ops.bias_gelu``) — a ReLU network, or one without
biases, runs the eager path.
"""

import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_probability
from minitransformer.nn.activations import make_activation
from minitransformer.nn.backends import load_fused_op, on_device, resolve_backend
from minitransformer.nn.dropout import Dropout
from minitransformer.nn.linear import Linear, linear

GELU_FORMS = {"gelu": "none", "gelu_tanh": "tanh"}  # activation name -> the ``approximate`` of GELU


class FeedForward(nn.Module):
    """linear2(dropout(activation(linear1(x)))): the sub-layer of ``nn.TransformerEncoderLayer``."""

    def __init__(self, d_model, dim_feedforward=2048, dropout=0.0, activation="gelu", bias=True, backend="eager"):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("dim_feedforward", dim_feedforward)
        check_probability("dropout", dropout)
        self.backend = resolve_backend(backend)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, backend=self.backend)
        self.activation_name, self.activation = activation, make_activation(activation)
        self.dropout = Dropout(dropout, self.backend)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, backend=self.backend)

    def _activated(self, x):
        """act(W1 x + b1), (..., dim_feedforward)."""
        backend = on_device(self.backend, x)
        if backend == "fused" and self.activation_name in GELU_FORMS and self.linear1.bias is not None:
            return load_fused_op("bias_gelu")(linear(x, self.linear1.weight, backend="fused"), self.linear1.bias,
                                              GELU_FORMS[self.activation_name])
        if backend == "torch":
            hidden = F.linear(x, self.linear1.weight, self.linear1.bias)
            if self.activation_name in GELU_FORMS:
                return F.gelu(hidden, approximate=GELU_FORMS[self.activation_name])
            return F.relu(hidden)
        return self.activation(self.linear1(x))

    def forward(self, x):
        hidden = self.dropout(self._activated(x))  # (..., dim_feedforward)
        return self.linear2(hidden)  # (..., d_model)

    def extra_repr(self):
        return f"backend={self.backend}"
