"""2-D convolution by im2col, forward and backward, in NumPy float64 (stride, padding, dilation, groups).

Forward per group g: columns (K, L) hold every receptive field (K = C_in/G kh kw, L = H_out W_out),
    Y_g = W_g (C_out/G, K) @ columns_g
Backward, given dY:
    dW_g = sum over batch of dY_g @ columns_g^T,   db = sum dY,   dcolumns_g = W_g^T @ dY_g
and dx is col2im(dcolumns): each column entry is added back to the input pixel it was read from.
"""

import numpy as np


def _out_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _geometry(x_shape, weight_shape, stride, padding, dilation):
    kh, kw = weight_shape[2:]
    return (_out_size(x_shape[2], kh, stride[0], padding[0], dilation[0]),
            _out_size(x_shape[3], kw, stride[1], padding[1], dilation[1]))


def im2col(x, kernel, stride, padding, dilation, pad_value=0.0):
    """x (B, C, H, W) -> (B, C, kh*kw, H_out, W_out)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    h_out = _out_size(x.shape[2], kh, sh, ph, dh)
    w_out = _out_size(x.shape[3], kw, sw, pw, dw)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    columns = np.empty(x.shape[:2] + (kh * kw, h_out, w_out))
    for i in range(kh):
        for j in range(kw):
            columns[:, :, i * kw + j] = padded[:, :, i * dh: i * dh + sh * (h_out - 1) + 1: sh,
                                               j * dw: j * dw + sw * (w_out - 1) + 1: sw]
    return columns


def col2im(columns, x_shape, kernel, stride, padding, dilation):
    """The adjoint of im2col: sum each column entry back into the (unpadded) input shape."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    h_out, w_out = columns.shape[-2:]
    padded = np.zeros(x_shape[:2] + (x_shape[2] + 2 * ph, x_shape[3] + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i * dh: i * dh + sh * (h_out - 1) + 1: sh,
                   j * dw: j * dw + sw * (w_out - 1) + 1: sw] += columns[:, :, i * kw + j]
    return padded[:, :, ph: ph + x_shape[2], pw: pw + x_shape[3]]


def conv2d_forward(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    batch, out_channels, kernel = x.shape[0], weight.shape[0], weight.shape[2:]
    columns = im2col(x, kernel, stride, padding, dilation)
    h_out, w_out = columns.shape[-2:]
    columns = columns.reshape(batch, groups, -1, h_out * w_out)  # (B, G, K, L)
    filters = weight.reshape(groups, out_channels // groups, -1)  # (G, C_out/G, K)
    y = np.einsum("gok,bgkl->bgol", filters, columns).reshape(batch, out_channels, h_out, w_out)
    return y + bias[:, None, None] if bias is not None else y


def conv2d_backward(x, weight, grad_y, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Return ``(dx, dweight, dbias)``."""
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    batch, out_channels, kernel = x.shape[0], weight.shape[0], weight.shape[2:]
    columns = im2col(x, kernel, stride, padding, dilation)
    col_shape = columns.shape
    columns = columns.reshape(batch, groups, -1, col_shape[-2] * col_shape[-1])  # (B, G, K, L)
    grad = np.asarray(grad_y, dtype=np.float64).reshape(batch, groups, out_channels // groups, -1)  # (B, G, O, L)
    filters = weight.reshape(groups, out_channels // groups, -1)
    grad_weight = np.einsum("bgol,bgkl->gok", grad, columns).reshape(weight.shape)
    grad_columns = np.einsum("gok,bgol->bgkl", filters, grad).reshape(col_shape)
    grad_x = col2im(grad_columns, x.shape, kernel, stride, padding, dilation)
    return grad_x, grad_weight, grad_y.sum(axis=(0, 2, 3))
