"""Embedding lookup: row ``i`` of a learned table for token id ``i``.

    E: (num_embeddings, embedding_dim),   y[..., :] = E[ids[...], :]

Equivalent to one_hot(ids) @ E, so dL/dE[i] is the sum of dL/dy over the positions where ids == i.
Initialisation N(0, 1) as ``torch.nn.Embedding``; the ``padding_idx`` row is zero and gets no gradient.

``backend`` (nn/backends.py): "eager" indexes the table and multiplies the padding positions by zero (the
equation above, in two tensor ops); "torch" and "fused" call ``F.embedding``, one gather whose backward
skips the padding row itself. They agree while the padding row is zero, as it is from initialisation on:
no gradient ever reaches it, and weight decay keeps a zero at zero.
"""

import torch
import torch.nn.functional as F
from torch import nn

from minitransformer.nn._checks import check_positive_int
from minitransformer.nn.backends import resolve_backend


class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, backend="eager"):
        super().__init__()
        self.backend = resolve_backend(backend)
        check_positive_int("num_embeddings", num_embeddings)
        check_positive_int("embedding_dim", embedding_dim)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"padding_idx must be in [-{num_embeddings}, {num_embeddings}), got {padding_idx}")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))
        if padding_idx is not None:
            with torch.no_grad():
                self.weight[padding_idx].zero_()

    def forward(self, ids):
        if not isinstance(ids, torch.Tensor) or ids.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"ids must be an int64/int32 tensor, got {getattr(ids, 'dtype', type(ids).__name__)}")
        # The range check reads the ids on the host, which would split a torch.compile graph: eager only
        # (compiled code bounds-checks the lookup itself).
        in_eager = not torch.compiler.is_compiling()
        if in_eager and ids.numel() and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"ids must be in [0, {self.num_embeddings}), got values in "
                             f"[{int(ids.min())}, {int(ids.max())}]")
        if self.backend != "eager":
            return F.embedding(ids, self.weight, self.padding_idx)  # (..., embedding_dim)
        vectors = self.weight[ids]  # (..., embedding_dim)
        if self.padding_idx is not None:  # padding positions read a constant zero: no gradient reaches the row
            vectors = vectors * (ids != self.padding_idx).unsqueeze(-1)
        return vectors

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, padding_idx={self.padding_idx}, backend={self.backend}"
