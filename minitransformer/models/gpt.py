"""A mini-GPT (Radford et al. 2018/2019, GPT and GPT-2): a decoder-only, causal Transformer built only
from ``minitransformer.nn``:

    h_0 = E_token[x] + P[position]  (or rotary positions: models/bert.py),   h_l = PreNormEncoderLayer_l(h_{l-1}, causal mask),
    logits = LayerNorm(h_L) E_token^T                       (output head tied to the token embeddings)
    L = -(1/(B·T)) Σ log softmax(logits)[next token]

Pre-norm layers and a final LayerNorm as in GPT-2 (section 2.3). With the "fused" backend the loss runs the
tied head and the cross-entropy together in row chunks (nn/linear_cross_entropy.py), never holding the
(B·T, vocab) logits; the other backends compute the logits, then the loss. Sampling (``generate``) draws the next
token from softmax(logits / temperature), optionally restricted to the ``top_k`` most likely tokens
(Fan et al. 2018); temperature 0 picks the argmax.
"""

from dataclasses import dataclass

import torch
from torch import nn

from minitransformer.data.text.tokenizer import CLS_ID, SEP_ID
from minitransformer.models.bert import INIT_STD, position_table
from minitransformer.models.config import TransformerConfig
from minitransformer.nn import Dropout, Embedding, LayerNorm, TransformerEncoderLayer
from minitransformer.nn.backends import on_device, resolve_backend
from minitransformer.nn.linear_cross_entropy import linear_cross_entropy
from minitransformer.nn.losses import cross_entropy


@dataclass
class GPTConfig(TransformerConfig):
    """The shared Transformer fields (models/config.py); GPT adds none."""


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.backend = backend = resolve_backend(config.backend)  # attention and loss
        self.token_embeddings = Embedding(config.vocab_size, config.d_model, backend=backend)
        with torch.no_grad():
            self.token_embeddings.weight.normal_(0.0, INIT_STD)
        self.position_embeddings = position_table(config)
        self.dropout = Dropout(config.dropout, backend)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(config.d_model, config.n_heads, config.d_ff, config.dropout, activation="gelu",
                                    norm_first=True, attention_dropout=config.attention_dropout, backend=backend,
                                    rotary=config.positions == "rotary", activation_dropout=config.activation_dropout)
            for _ in range(config.n_layers))
        self.final_norm = LayerNorm(config.d_model, backend=backend)

    def hidden_states(self, input_ids):
        """The final, normalised hidden states (B, T, d_model) for ids (B, T)."""
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids must be (B, T), got shape {tuple(input_ids.shape)}")
        if input_ids.shape[1] > self.config.max_len:
            raise ValueError(f"input_ids has {input_ids.shape[1]} positions, more than max_len={self.config.max_len}")
        x = self.token_embeddings(input_ids)  # (B, T, d_model)
        if self.position_embeddings is not None:
            x = self.position_embeddings(x)
        x = self.dropout(x)
        for layer in self.layers:
            x = layer(x, is_causal=True)
        return self.final_norm(x)

    def forward(self, input_ids):
        """Next-token logits (B, T, vocab) for ids (B, T)."""
        return self.hidden_states(input_ids) @ self.token_embeddings.weight.T  # (B, T, vocab)

    def loss(self, batch):
        """``(loss, {})`` for a batch ``(inputs, targets)`` of ``data.pretraining.causal.causal_lm_batch``."""
        inputs, targets = batch
        if self.backend == "fused":
            hidden = self.hidden_states(inputs)  # (B, T, d_model)
            return linear_cross_entropy(hidden.flatten(0, 1), self.token_embeddings.weight, None, targets.flatten(),
                                        backend=on_device(self.backend, hidden)), {}
        return cross_entropy(self(inputs), targets, backend=self.backend), {}

    @torch.no_grad()
    def generate(self, input_ids, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Append ``max_new_tokens`` sampled tokens to ``input_ids`` (B, T); returns (B, T + max_new_tokens)."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if top_k is not None and not 1 <= top_k <= self.config.vocab_size:
            raise ValueError(f"top_k must be in [1, {self.config.vocab_size}], got {top_k}")
        if input_ids.ndim != 2 or input_ids.shape[1] == 0:
            raise ValueError(f"input_ids must be (B, T) with T >= 1, got shape {tuple(input_ids.shape)}")
        ids = input_ids
        for _ in range(max_new_tokens):
            logits = self(ids[:, -self.config.max_len:])[:, -1]  # (B, vocab)
            if temperature == 0:
                next_id = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                next_id = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
            ids = torch.cat([ids, next_id], dim=1)
        return ids


class GPTEncoder(nn.Module):
    """A pre-trained GPT as the encoder of ``models.classifier.SequenceClassifier`` (mean pooling).

    Classification inputs are ``[CLS] text [SEP] [PAD]…``. GPT's pre-training stream starts every
    document after a ``[SEP]`` and never shows ``[CLS]``, so the leading ``[CLS]`` is read as ``[SEP]``.
    Padding needs no mask: it comes after the text, and causal attention never looks forward."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt, self.config, self.backend = gpt, gpt.config, gpt.backend

    def forward(self, input_ids, padding_mask=None):
        return self.gpt.hidden_states(input_ids.masked_fill(input_ids == CLS_ID, SEP_ID))  # (B, T, d_model)
