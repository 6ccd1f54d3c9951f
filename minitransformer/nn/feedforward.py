"""Position-wise feed-forward network (Vaswani et al. 2017, "Attention Is All You Need", eq. 2):

    FFN(x) = W2 dropout(act(W1 x + b1)) + b2,    W1: (dim_feedforward, d_model),  W2: (d_model, dim_feedforward)

The original uses act = ReLU; BERT and GPT use GELU. Applied to every position independently.
"""

from torch import nn

from minitransformer.nn._checks import check_positive_int, check_probability
from minitransformer.nn.activations import make_activation
from minitransformer.nn.dropout import Dropout
from minitransformer.nn.linear import Linear


class FeedForward(nn.Module):
    """linear2(dropout(activation(linear1(x)))): the sub-layer of ``nn.TransformerEncoderLayer``."""

    def __init__(self, d_model, dim_feedforward=2048, dropout=0.0, activation="gelu", bias=True):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("dim_feedforward", dim_feedforward)
        check_probability("dropout", dropout)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.activation = make_activation(activation)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)

    def forward(self, x):
        hidden = self.dropout(self.activation(self.linear1(x)))  # (..., dim_feedforward)
        return self.linear2(hidden)  # (..., d_model)
