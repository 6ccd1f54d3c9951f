"""Skip-gram and CBOW with negative sampling (Mikolov et al. 2013, "Efficient Estimation of Word
Representations in Vector Space" and "Distributed Representations of Words and Phrases").

Two tables: input vectors v (the word vectors we keep) and output vectors u. The full skip-gram model is
p(w | c) = exp(u_w·v_c) / Σ_w' exp(u_w'·v_c); negative sampling replaces that softmax over the whole
vocabulary by a logistic regression telling the true centre word w from K noise words n_1..n_K:

    skip-gram, per context word c of the window:  l = -log σ(u_w·v_c) - Σ_k log σ(-u_nk·v_c)
    CBOW, per window, with h = mean of the v_c:    l = -log σ(u_w·h)   - Σ_k log σ(-u_nk·h)

(the K negatives are shared by the context words of a window; see data/word2vec/windows.py).
With s a score and y its label (1 for the centre word, 0 for a negative), dl/ds = σ(s) - y, so

    skip-gram:  dl/dv_c = Σ_j (σ(s_cj) - y_j) u_j         dl/du_j = Σ_c (σ(s_cj) - y_j) v_c
    CBOW:       dl/dh   = Σ_j (σ(s_j) - y_j) u_j,  dl/dv_c = dl/dh / n,   dl/du_j = (σ(s_j) - y_j) h

``forward`` returns the loss, differentiable by autograd (used by the tests); ``gradients`` writes the
formulas above out by hand, and ``sgd_step`` applies them to the touched rows only (``index_add_``): a
dense optimiser would read and write all V×D entries of both tables for every batch. Target weights
(``target_mask``) multiply each score's loss term: 0 drops a negative, K/S weighs a shared one.

CBOW's step follows word2vec.c and gensim (cbow_mean=1): every context vector receives the whole dl/dh,
not dl/dh / n. That is n times the true gradient for the input vectors, a larger step that both
reference implementations use by default; ``CBOW.sgd_step`` does so, ``gradients`` stays exact.
"""

import torch
from torch import nn


def log_sigmoid(x):
    """log σ(x) = min(x, 0) - log(1 + exp(-|x|)), stable for large |x|."""
    return torch.clamp(x, max=0) - torch.log1p(torch.exp(-x.abs()))


def _loss_from_probabilities(probabilities, labels, weight):
    """-Σ weight · log p(label) from σ(s), reusing the sigmoid the gradient needs (log1p is slow on CPU).

    Monitoring only: for |s| > ~17 in float32 it saturates (the gradient is exact regardless).
    """
    of_label = torch.where(labels > 0, probabilities, 1 - probabilities)
    return float(-(weight * torch.log(of_label.clamp(min=1e-30))).sum())


class _NegativeSampling(nn.Module):
    """The two embedding tables and the update shared by skip-gram and CBOW."""

    def __init__(self, vocab_size, dim, generator=None):
        super().__init__()
        if vocab_size < 1 or dim < 1:
            raise ValueError(f"vocab_size and dim must be >= 1, got {vocab_size} and {dim}")
        # word2vec.c: input vectors uniform in [-0.5/D, 0.5/D), output vectors zero.
        self.input_vectors = nn.Parameter((torch.rand(vocab_size, dim, generator=generator) - 0.5) / dim)
        self.output_vectors = nn.Parameter(torch.zeros(vocab_size, dim))

    def _gather(self, batch):
        dim = self.input_vectors.shape[1]
        v = self.input_vectors.index_select(0, batch.contexts.reshape(-1))  # (C*M, D)
        u = self.output_vectors.index_select(0, batch.targets.reshape(-1))  # (C*(K+1), D)
        return v.view(*batch.contexts.shape, dim), u.view(*batch.targets.shape, dim)

    @staticmethod
    def _labels(targets):
        labels = torch.zeros(targets.shape, dtype=torch.float32)
        labels[:, 0] = 1.0  # the centre word; the rest are negatives
        return labels  # (C, K+1)

    @torch.no_grad()
    def sgd_step(self, batch, lr):
        """One plain SGD step on the rows the batch touches; returns the batch loss (a float)."""
        loss, grad_v, grad_u = self.gradients(batch)
        dim = self.input_vectors.shape[1]
        self.input_vectors.index_add_(0, batch.contexts.reshape(-1), grad_v.reshape(-1, dim), alpha=-lr)
        self.output_vectors.index_add_(0, batch.targets.reshape(-1), grad_u.reshape(-1, dim), alpha=-lr)
        return loss


class SkipGram(_NegativeSampling):
    """Skip-gram: every context word of a window predicts the centre word against K negatives."""

    def forward(self, batch):
        """Summed loss over all real (context, target) pairs of the batch; differentiable."""
        v, u = self._gather(batch)
        scores = torch.bmm(v, u.transpose(1, 2))  # (C, M, K+1)
        signs = 2 * self._labels(batch.targets) - 1  # +1 centre, -1 negatives
        weight = batch.context_mask.unsqueeze(2) * batch.target_mask.unsqueeze(1)  # (C, M, K+1)
        return -(weight * log_sigmoid(signs.unsqueeze(1) * scores)).sum()

    @torch.no_grad()
    def gradients(self, batch):
        """Loss and dl/dv (C, M, D), dl/du (C, K+1, D) for the gathered rows, written out by hand."""
        v, u = self._gather(batch)
        scores = torch.bmm(v, u.transpose(1, 2))  # (C, M, K+1)
        labels = self._labels(batch.targets).unsqueeze(1)  # (C, 1, K+1)
        weight = batch.context_mask.unsqueeze(2) * batch.target_mask.unsqueeze(1)  # (C, M, K+1)
        probabilities = torch.sigmoid(scores)  # (C, M, K+1)
        loss = _loss_from_probabilities(probabilities, labels, weight)
        grad_scores = weight * (probabilities - labels)  # (C, M, K+1)
        grad_v = torch.bmm(grad_scores, u)  # (C, M, D)
        grad_u = torch.bmm(grad_scores.transpose(1, 2), v)  # (C, K+1, D)
        return loss, grad_v, grad_u


class CBOW(_NegativeSampling):
    """Continuous bag of words: the mean of a window's context vectors predicts the centre word."""

    def _hidden(self, v, mask):
        count = mask.sum(dim=1, keepdim=True).clamp(min=1)  # (C, 1)
        return (v * mask.unsqueeze(2)).sum(dim=1) / count, count  # (C, D), (C, 1)

    def forward(self, batch):
        """Summed loss over the windows of the batch; differentiable."""
        v, u = self._gather(batch)
        h, _ = self._hidden(v, batch.context_mask)
        scores = torch.bmm(u, h.unsqueeze(2)).squeeze(2)  # (C, K+1)
        signs = 2 * self._labels(batch.targets) - 1
        return -(batch.target_mask * log_sigmoid(signs * scores)).sum()

    def _output_side(self, h, u, batch):
        """Loss, dl/dh (C, D) and dl/du (C, K+1, D) given h (C, D) and the target rows u (C, K+1, D)."""
        scores = (u * h.unsqueeze(1)).sum(dim=2)  # (C, K+1)
        labels = self._labels(batch.targets)
        probabilities = torch.sigmoid(scores)
        loss = _loss_from_probabilities(probabilities, labels, batch.target_mask)
        grad_scores = batch.target_mask * (probabilities - labels)  # (C, K+1)
        grad_h = (grad_scores.unsqueeze(2) * u).sum(dim=1)  # (C, D)
        return loss, grad_h, grad_scores.unsqueeze(2) * h.unsqueeze(1)

    @torch.no_grad()
    def gradients(self, batch):
        """Loss and dl/dv (C, M, D), dl/du (C, K+1, D), by hand."""
        v, u = self._gather(batch)
        h, count = self._hidden(v, batch.context_mask)  # (C, D), (C, 1)
        loss, grad_h, grad_u = self._output_side(h, u, batch)
        grad_v = (batch.context_mask / count).unsqueeze(2) * grad_h.unsqueeze(1)  # (C, M, D)
        return loss, grad_v, grad_u

    def _shared_output_side(self, h, batch, lr):
        """Loss and dl/dh for a batch whose windows share their negatives; updates the output rows."""
        centers, negatives = batch.targets[:, 0], batch.shared_negatives  # (C,), (S,)
        u_center = self.output_vectors.index_select(0, centers)  # (C, D)
        u_negative = self.output_vectors.index_select(0, negatives)  # (S, D)
        p_center = torch.sigmoid((u_center * h).sum(dim=1))  # (C,)
        p_negative = torch.sigmoid(h @ u_negative.T)  # (C, S)
        weight_center, weight_negative = batch.target_mask[:, 0], batch.target_mask[:, 1:]
        loss = -float((weight_center * torch.log(p_center.clamp(min=1e-30))).sum()
                      + (weight_negative * torch.log((1 - p_negative).clamp(min=1e-30))).sum())
        grad_center = weight_center * (p_center - 1)  # (C,)
        grad_negative = weight_negative * p_negative  # (C, S)
        grad_h = grad_center.unsqueeze(1) * u_center + grad_negative @ u_negative  # (C, D)
        self.output_vectors.index_add_(0, centers, grad_center.unsqueeze(1) * h, alpha=-lr)
        self.output_vectors.index_add_(0, negatives, grad_negative.T @ h, alpha=-lr)  # (S, D)
        return loss, grad_h

    @torch.no_grad()
    def sgd_step(self, batch, lr):
        """word2vec.c's CBOW step: the whole dl/dh to every context row (module docstring).

        Works on the real (unpadded) context slots only: P of them, gathered once and scattered once.
        """
        window_of, slot = (batch.context_mask > 0).nonzero(as_tuple=True)  # (P,), (P,)
        contexts = batch.contexts[window_of, slot]  # (P,)
        count = batch.context_mask.sum(dim=1, keepdim=True).clamp(min=1)  # (C, 1)
        dim = self.input_vectors.shape[1]
        h = self.input_vectors.new_zeros(len(count), dim)
        h.index_add_(0, window_of, self.input_vectors.index_select(0, contexts))
        h /= count  # (C, D)
        if batch.shared_negatives is not None:
            loss, grad_h = self._shared_output_side(h, batch, lr)
        else:
            u = self.output_vectors.index_select(0, batch.targets.reshape(-1)).view(*batch.targets.shape, dim)
            loss, grad_h, grad_u = self._output_side(h, u, batch)
            self.output_vectors.index_add_(0, batch.targets.reshape(-1), grad_u.reshape(-1, dim), alpha=-lr)
        self.input_vectors.index_add_(0, contexts, grad_h.index_select(0, window_of), alpha=-lr)
        return loss
