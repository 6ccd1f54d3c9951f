"""2-D convolution (cross-correlation, as in every deep-learning library) by im2col + one matrix product.

    y[b, o, y, x] = bias[o] + sum_{c in group(o)} sum_{i, j} W[o, c, i, j] * x_pad[b, c, y s_h + i d_h, x s_w + j d_w]

With groups G the C_in channels and C_out filters are split into G equal groups; filter o sees only the
C_in / G channels of its group. im2col (nn/windows.py) lays each receptive field out as a column of
length K = (C_in / G) kh kw, so per group Y = W_g (C_out/G, K) @ columns (K, B H_out W_out): one large
matrix product for the whole batch.

Parameters and arguments match ``torch.nn.Conv2d``: weight (C_out, C_in / G, kh, kw), bias (C_out,),
initialised U(-1/sqrt(K), 1/sqrt(K)) as torch does.
"""

import math

import torch
from torch import nn

from minitransformer.nn._checks import check_positive_int, check_tensor, pair
from minitransformer.nn.windows import sliding_windows


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution of x (B, C_in, H, W) with weight (C_out, C_in / groups, kh, kw) -> (B, C_out, H_out, W_out)."""
    check_tensor("x", x, ndim=4)
    check_tensor("weight", weight, ndim=4)
    stride, padding, dilation = pair("stride", stride), pair("padding", padding), pair("dilation", dilation)
    if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0:
        raise ValueError(f"stride and dilation must be positive and padding non-negative, got stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    batch, in_channels = x.shape[:2]
    out_channels, group_in, kh, kw = weight.shape
    if in_channels != group_in * groups or out_channels % groups:
        raise ValueError(f"x has {in_channels} channels but weight {tuple(weight.shape)} with groups={groups} "
                         f"expects {group_in * groups} (and C_out divisible by groups)")
    windows = sliding_windows(x, (kh, kw), stride, padding, dilation)  # (B, C_in, kh kw, H_out, W_out)
    height_out, width_out = windows.shape[-2:]
    patch = group_in * kh * kw  # K: the length of one receptive field
    columns = windows.reshape(batch, groups, patch, height_out * width_out)  # (B, G, K, L)
    columns = columns.permute(1, 2, 0, 3).reshape(groups, patch, batch * height_out * width_out)  # (G, K, B L)
    filters = weight.reshape(groups, out_channels // groups, patch)  # (G, C_out/G, K)
    y = filters @ columns  # (G, C_out/G, B L): one matrix product per group, the whole batch at once
    y = y.reshape(out_channels, batch, height_out, width_out).transpose(0, 1)  # (B, C_out, H_out, W_out)
    return y + bias[:, None, None] if bias is not None else y


class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            check_positive_int(name, value)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible "
                             f"by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair("kernel_size", kernel_size)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"kernel_size must be positive, got {kernel_size!r}")
        self.stride, self.padding, self.dilation = pair("stride", stride), pair("padding", padding), \
            pair("dilation", dilation)
        if min(self.stride) <= 0 or min(self.dilation) <= 0 or min(self.padding) < 0:
            raise ValueError(f"stride and dilation must be positive and padding non-negative, got stride={stride}, "
                             f"padding={padding}, dilation={dilation}")
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.weight[0].numel())
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x):
        check_tensor("x", x, ndim=4)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x must have {self.in_channels} channels (dim 1), got shape {tuple(x.shape)}")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}")
