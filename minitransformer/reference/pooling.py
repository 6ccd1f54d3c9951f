"""Max and average pooling (B, C, H, W), forward and backward, in NumPy float64, via conv.im2col.

max: y = max over the window (padding reads -inf); the gradient goes to the first maximum of the window.
avg: y = mean over the kh kw window entries (padding reads 0 and counts); dx = col2im(dy / (kh kw)).
"""

import numpy as np

from minitransformer.reference.conv import col2im, im2col


def max_pool2d_forward(x, kernel, stride, padding=(0, 0), dilation=(1, 1)):
    columns = im2col(np.asarray(x, dtype=np.float64), kernel, stride, padding, dilation, pad_value=-np.inf)
    return columns.max(axis=2)


def max_pool2d_backward(x, grad_y, kernel, stride, padding=(0, 0), dilation=(1, 1)):
    x = np.asarray(x, dtype=np.float64)
    columns = im2col(x, kernel, stride, padding, dilation, pad_value=-np.inf)
    winner = columns.argmax(axis=2)[:, :, None]  # (B, C, 1, H_out, W_out)
    grad_columns = np.zeros_like(columns)
    np.put_along_axis(grad_columns, winner, np.asarray(grad_y, dtype=np.float64)[:, :, None], axis=2)
    return col2im(grad_columns, x.shape, kernel, stride, padding, dilation)


def avg_pool2d_forward(x, kernel, stride, padding=(0, 0)):
    return im2col(np.asarray(x, dtype=np.float64), kernel, stride, padding, (1, 1)).mean(axis=2)


def avg_pool2d_backward(x, grad_y, kernel, stride, padding=(0, 0)):
    window = kernel[0] * kernel[1]
    grad_y = np.asarray(grad_y, dtype=np.float64)
    grad_columns = np.repeat(grad_y[:, :, None] / window, window, axis=2)
    return col2im(grad_columns, np.shape(x), kernel, stride, padding, (1, 1))
