"""A mini-BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers"), built only
from ``minitransformer.nn``:

    h_0 = LayerNorm(E_token[x] + P[position] + E_segment[s]),   h_l = EncoderLayer_l(h_{l-1})  (post-norm, GELU)
    pooled = tanh(W_p h_L[CLS] + b_p)                                  (the pooler, section 3, Figure 1)

Pre-training heads (section 3.1, appendix A.2):

    MLM:  logits = LayerNorm(GELU(W_t h_L + b_t)) E_token^T + b     (decoder tied to the token embeddings)
    NSP:  logits = W_n pooled + b_n                                  (IsNext = 0, NotNext = 1)
    L = CE(MLM logits at the masked positions, original tokens) + CE(NSP logits, label)

Positions: ``config.positions`` = "learned" adds the trainable table P (BERT's choice); "rotary" drops P and
rotates every layer's queries and keys instead (RoPE, Su et al. 2021, nn/positional.py), so that attention
sees relative offsets from the first step. In our pre-training on 256-token windows this is what lets the
masked-LM leave the word-frequency plateau: learned positions start as noise and were still not usable
after 1,800 steps; rotary ones are usable at step 0 (docs/positions.md has the measurement).

Initialisation as in BERT: embeddings N(0, 0.02^2). The backend of attention and of the losses is ``config.backend``
("auto" | "eager" | "torch" | "fused", nn/backends.py; "auto" = "fused" when the compiled extension loads).
``padding_mask`` (B, N), True = [PAD], is the user-facing name of the encoder layers' ``key_padding_mask``:
``BertModel.forward`` is the one place that maps it.
"""

from dataclasses import dataclass

import torch
from torch import nn

from minitransformer.data.pretraining.mlm import IGNORE_INDEX
from minitransformer.data.text.tokenizer import PAD_ID
from minitransformer.models.config import TransformerConfig, check_positions
from minitransformer.nn import GELU, Dropout, Embedding, LayerNorm, Linear, TransformerEncoderLayer
from minitransformer.nn.backends import on_device, resolve_backend
from minitransformer.nn.linear import linear
from minitransformer.nn.linear_cross_entropy import linear_cross_entropy
from minitransformer.nn.losses import cross_entropy
from minitransformer.nn.positional import LearnedPositionalEmbedding

INIT_STD = 0.02


def position_table(config):
    """The learned position table (max_len, d_model) of a "learned" model; None for a "rotary" one."""
    if check_positions(config.positions) == "rotary":
        return None
    return LearnedPositionalEmbedding(config.max_len, config.d_model, init_std=INIT_STD)


@dataclass
class BertConfig(TransformerConfig):
    """The shared Transformer fields (models/config.py) and BERT's segment count."""
    n_segments: int = 2


class BertModel(nn.Module):
    """The encoder: ids (B, N) -> hidden states (B, N, d_model); ``pool`` gives (B, d_model) from [CLS]."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.backend = backend = resolve_backend(config.backend)  # attention and loss
        self.token_embeddings = Embedding(config.vocab_size, config.d_model, padding_idx=PAD_ID, backend=backend)
        self.position_embeddings = position_table(config)
        self.segment_embeddings = Embedding(config.n_segments, config.d_model, backend=backend)
        with torch.no_grad():
            self.token_embeddings.weight.normal_(0.0, INIT_STD)
            self.token_embeddings.weight[PAD_ID].zero_()
            self.segment_embeddings.weight.normal_(0.0, INIT_STD)
        self.embedding_norm = LayerNorm(config.d_model, eps=1e-12, backend=backend)
        self.embedding_dropout = Dropout(config.dropout, backend)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(config.d_model, config.n_heads, config.d_ff, config.dropout, activation="gelu",
                                    layer_norm_eps=1e-12, attention_dropout=config.attention_dropout, backend=backend,
                                    rotary=config.positions == "rotary", activation_dropout=config.activation_dropout)
            for _ in range(config.n_layers))
        self.pooler = Linear(config.d_model, config.d_model, backend=backend)

    def forward(self, input_ids, segment_ids=None, padding_mask=None):
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids must be (B, N), got shape {tuple(input_ids.shape)}")
        if input_ids.shape[1] > self.config.max_len:
            raise ValueError(f"input_ids has {input_ids.shape[1]} positions, more than max_len={self.config.max_len}")
        if segment_ids is None:
            segment_ids = torch.zeros_like(input_ids)
        if padding_mask is None:
            padding_mask = input_ids == PAD_ID
        x = self.token_embeddings(input_ids) + self.segment_embeddings(segment_ids)  # (B, N, d_model)
        if self.position_embeddings is not None:
            x = self.position_embeddings(x)
        x = self.embedding_dropout(self.embedding_norm(x))
        for layer in self.layers:
            x = layer(x, key_padding_mask=padding_mask)
        return x  # (B, N, d_model)

    def pool(self, hidden):
        return torch.tanh(self.pooler(hidden[:, 0]))  # (B, d_model)


class BertForPreTraining(nn.Module):
    """BertModel + the MLM head (tied decoder) + the NSP head; ``loss(batch)`` is L = L_MLM + L_NSP."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        self.mlm_transform = Linear(config.d_model, config.d_model, backend=self.bert.backend)
        self.mlm_activation = GELU()
        self.mlm_norm = LayerNorm(config.d_model, eps=1e-12, backend=self.bert.backend)
        self.mlm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.nsp_head = Linear(config.d_model, 2, backend=self.bert.backend)

    def mlm_features(self, hidden):
        """LayerNorm(GELU(W_t h + b_t)): what the tied decoder turns into MLM logits, (..., d_model)."""
        return self.mlm_norm(self.mlm_activation(self.mlm_transform(hidden)))

    def mlm_logits(self, hidden):
        return linear(self.mlm_features(hidden), self.bert.token_embeddings.weight, self.mlm_bias,
                      self.bert.backend)  # (..., vocab)

    def forward(self, input_ids, segment_ids=None, padding_mask=None):
        """``(mlm_logits (B, N, vocab), nsp_logits (B, 2))``."""
        hidden = self.bert(input_ids, segment_ids, padding_mask)
        return self.mlm_logits(hidden), self.nsp_head(self.bert.pool(hidden))

    def masked_logits(self, hidden, positions):
        """MLM logits (B, P, vocab) at ``positions`` (B, P) of ``hidden`` (B, N, d_model): the vocabulary
        projection, the costly part, runs at the P prediction slots only. A gather of a fixed size, not a
        boolean index, so that torch.compile sees shapes that do not depend on the data."""
        return self.mlm_logits(self._gather(hidden, positions))

    def masked_lm_loss(self, hidden, positions, labels):
        """The MLM loss: the mean cross-entropy of the masked logits at ``positions`` (B, P) against ``labels``
        (B, P), over the slots whose label is not ``IGNORE_INDEX``. With the fused backend the tied decoder
        and the loss run together (nn.linear_cross_entropy): the (B P, vocab) logits turn into their gradient
        in place, and the decoder's bias is added, and its gradient summed, inside the loss's passes."""
        if on_device(self.bert.backend, hidden) != "fused":
            return cross_entropy(self.masked_logits(hidden, positions), labels, ignore_index=IGNORE_INDEX,
                                 backend=self.bert.backend)
        x = self.mlm_features(self._gather(hidden, positions))  # (B, P, d_model)
        rows = x.shape[0] * x.shape[1]
        # All B P rows in one chunk: the buffer the unfused logits would take anyway, and one product instead
        # of 512-row ones and a small remainder (624 rows: 512 + 112 took 1.1x the time of one 624-row product).
        return linear_cross_entropy(x.flatten(0, 1), self.bert.token_embeddings.weight, self.mlm_bias,
                                    labels.flatten(), chunk_size=max(rows, 1), ignore_index=IGNORE_INDEX,
                                    backend="fused")

    @staticmethod
    def _gather(hidden, positions):
        index = positions.unsqueeze(-1).expand(-1, -1, hidden.shape[-1])  # (B, P, d_model)
        return hidden.gather(1, index)

    def loss(self, batch):
        """``(total, {"mlm": ..., "nsp": ...})`` for a batch of ``data.pretraining.nsp.bert_batch``: the MLM
        mean over the slots of ``mlm_positions`` whose label is not ``IGNORE_INDEX``."""
        if batch["mlm_positions"].shape != batch["mlm_labels"].shape:
            raise ValueError(f"mlm_positions and mlm_labels must both be (B, P), got "
                             f"{tuple(batch['mlm_positions'].shape)} and {tuple(batch['mlm_labels'].shape)}")
        hidden = self.bert(batch["input_ids"], batch["segment_ids"], batch["padding_mask"])
        mlm = self.masked_lm_loss(hidden, batch["mlm_positions"], batch["mlm_labels"])
        nsp = cross_entropy(self.nsp_head(self.bert.pool(hidden)), batch["nsp_labels"], backend=self.bert.backend)
        return mlm + nsp, {"mlm": mlm.detach(), "nsp": nsp.detach()}
