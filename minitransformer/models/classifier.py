"""Sequence classification on top of a pre-trained encoder (BERT, Devlin et al. 2019, section 4.1):

    cls pooling:   z = tanh(W_p h_L[CLS] + b_p)                      (BERT's pooler)
    mean pooling:  z = Σ_i m_i h_L[i] / Σ_i m_i,   m_i = 1 for real tokens, 0 for [PAD]
    logits = W_c Dropout(z) + b_c,     L = CE(logits, label)

``encoder`` is any ``BertModel`` (pre-trained or freshly initialised).
"""

from torch import nn

from minitransformer.nn import Dropout, Linear
from minitransformer.nn.losses import cross_entropy

POOLINGS = ("cls", "mean")


def mean_pool(hidden, padding_mask):
    """The mean of ``hidden`` (B, N, d) over each row's real tokens (``padding_mask`` True at [PAD]): (B, d)."""
    keep = (~padding_mask).unsqueeze(-1).to(hidden.dtype)  # (B, N, 1)
    return (hidden * keep).sum(1) / keep.sum(1).clamp(min=1.0)


class SequenceClassifier(nn.Module):
    def __init__(self, encoder, num_classes, pooling="cls", dropout=0.1):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.encoder, self.pooling = encoder, pooling
        self.dropout = Dropout(dropout)
        self.head = Linear(encoder.config.d_model, num_classes, backend=encoder.backend)

    def forward(self, input_ids, padding_mask):
        hidden = self.encoder(input_ids, padding_mask=padding_mask)  # (B, N, d_model)
        if self.pooling == "cls":
            pooled = self.encoder.pool(hidden)
        else:
            pooled = mean_pool(hidden, padding_mask)  # (B, d_model)
        return self.head(self.dropout(pooled))  # (B, C)

    def loss(self, batch):
        """``(loss, {})`` for a batch ``(input_ids, padding_mask, labels)``."""
        input_ids, padding_mask, labels = batch
        return cross_entropy(self(input_ids, padding_mask), labels), {}
