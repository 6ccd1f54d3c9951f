"""Batch normalisation for images (Ioffe & Szegedy 2015, "Batch Normalization", Algorithm 1 and 2).

Training, per channel c over the batch and both spatial dims (n = B H W values):

    mu_c = mean(x[:, c]),   var_c = mean((x[:, c] - mu_c)^2),   y = (x - mu_c) / sqrt(var_c + eps) * gamma_c + beta_c
    running_mean <- (1 - momentum) running_mean + momentum mu_c
    running_var  <- (1 - momentum) running_var  + momentum var_c * n / (n - 1)      (unbiased, as torch)

Evaluation normalises with the running statistics instead. Names match ``torch.nn.BatchNorm2d``.
"""

import torch
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_tensor


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        check_positive_int("num_features", num_features)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        check_tensor("x", x, ndim=4)
        if x.shape[1] != self.num_features:
            raise ValueError(f"x must have {self.num_features} channels (dim 1), got shape {tuple(x.shape)}")
        if self.training:
            count = x.numel() // self.num_features
            if count < 2:
                raise ValueError(f"x must have more than one value per channel in training, got shape {tuple(x.shape)}")
            mean = x.mean(dim=(0, 2, 3))  # (C,)
            var = ((x - mean[:, None, None]) ** 2).mean(dim=(0, 2, 3))  # biased, used to normalise
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
                self.running_var.lerp_((var.detach() * count / (count - 1)).to(self.running_var.dtype), self.momentum)
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean.to(x.dtype), self.running_var.to(x.dtype)
        y = (x - mean[:, None, None]) * torch.rsqrt(var[:, None, None] + self.eps)  # (B, C, H, W)
        if self.weight is not None:
            y = y * self.weight[:, None, None] + self.bias[:, None, None]
        return y

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.weight is not None}"
