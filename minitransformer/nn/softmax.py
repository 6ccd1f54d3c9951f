"""The safe softmax, in torch ops: the one hand-written softmax of the package.

    softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m),      m = max_j x_j         (along ``dim``)

Subtracting the row maximum m keeps every exp in [0, 1] (no overflow) and cancels in the ratio. A row whose
entries are all -inf has no distribution: here m is taken as 0 and the zero row sum is divided by 1, so the
row gives zeros and a zero gradient (``torch.softmax`` gives NaN). Every eager path uses this function:
attention's weights (nn/attention.py) and the eager tier that the custom softmax op is checked against
(docs/softmax.md). It lives in nn/, not ops/, so that nn works without the compiled extension.
"""

import torch


def softmax(x, dim=-1):
    """Softmax of ``x`` along ``dim``; -inf entries get weight 0 and all -inf rows give zeros."""
    row_max = x.amax(dim, keepdim=True).detach()  # a constant shift: it cancels in the softmax
    row_max = torch.where(torch.isneginf(row_max), torch.zeros_like(row_max), row_max)
    exps = torch.exp(x - row_max)  # every entry in [0, 1]; masked entries exp(-inf) = 0
    row_sum = exps.sum(dim, keepdim=True)
    return exps / torch.where(row_sum > 0, row_sum, torch.ones_like(row_sum))
