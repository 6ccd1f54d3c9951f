"""2-D max and average pooling over sliding windows (nn/windows.py).

    max:  y[b, c, y, x] = max_{i, j} x_pad[b, c, y s_h + i d_h, x s_w + j d_w]       (padding reads -inf)
    avg:  y[b, c, y, x] = 1/(kh kw) sum_{i, j} x_pad[b, c, y s_h + i, x s_w + j]     (padding reads 0)

The gradient of max flows to the window's maximum only; of avg, 1/(kh kw) to every pixel of the window.
``stride`` defaults to ``kernel_size``; padding must be at most half the kernel (as in torch). The average
counts padded zeros (torch's default count_include_pad=True).
"""

import math

from torch import nn

from minitransformer.nn._checks import check_tensor, pair
from minitransformer.nn.windows import sliding_windows


class _Pool2d(nn.Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else pair("stride", stride)
        self.padding = pair("padding", padding)
        if min(self.kernel_size) <= 0 or min(self.stride) <= 0:
            raise ValueError(f"kernel_size and stride must be positive, got {kernel_size!r} and {stride!r}")
        if any(p < 0 or 2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"padding must be in [0, kernel_size / 2], got {padding!r} for kernel_size {kernel_size!r}")

    def _windows(self, x, dilation, pad_value):
        check_tensor("x", x, ndim=4)
        return sliding_windows(x, self.kernel_size, self.stride, self.padding, dilation, pad_value)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__(kernel_size, stride, padding)
        self.dilation = pair("dilation", dilation)
        if min(self.dilation) <= 0:
            raise ValueError(f"dilation must be positive, got {dilation!r}")

    def forward(self, x):
        windows = self._windows(x, self.dilation, -math.inf)  # (B, C, kh kw, H_out, W_out)
        return windows.max(dim=2).values


class AvgPool2d(_Pool2d):
    def forward(self, x):
        return self._windows(x, (1, 1), 0.0).mean(dim=2)  # (B, C, H_out, W_out)
