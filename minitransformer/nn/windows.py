"""Sliding windows ("im2col", Chellapilla et al. 2006, "High Performance Convolutional Neural Networks for
Document Processing"): gather every kernel-sized patch of an image so that a convolution becomes one
matrix product and a pooling a reduction.

For a kernel (kh, kw), stride s, padding p and dilation d, the output height is

    H_out = floor((H + 2 p_h - d_h (kh - 1) - 1) / s_h) + 1          (and likewise W_out)

and window (y, x) holds the input pixels (y s_h + i d_h - p_h, x s_w + j d_w - p_w), 0 <= i < kh, 0 <= j < kw.
"""

import torch.nn.functional as F


def output_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def sliding_windows(x, kernel_size, stride, padding, dilation, pad_value=0.0):
    """x (B, C, H, W) -> windows (B, C, kh * kw, H_out, W_out); padded pixels read ``pad_value``."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    height_out = output_size(x.shape[2], kh, sh, ph, dh)
    width_out = output_size(x.shape[3], kw, sw, pw, dw)
    if height_out <= 0 or width_out <= 0:
        raise ValueError(f"input of spatial size {tuple(x.shape[2:])} is too small for kernel_size {kernel_size}, "
                         f"padding {padding}, dilation {dilation}")
    padded = F.pad(x, (pw, pw, ph, ph), value=pad_value)  # (B, C, H + 2 ph, W + 2 pw)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the extent of a dilated kernel
    # Tensor.unfold(dim, size, step) is a strided view of every size-long slice taken step apart: no copy yet
    patches = padded.unfold(2, span_h, sh).unfold(3, span_w, sw)  # (B, C, H_out, W_out, span_h, span_w)
    patches = patches[..., ::dh, ::dw]  # keep every dilation-th pixel: (B, C, H_out, W_out, kh, kw)
    batch, channels = x.shape[:2]
    return patches.permute(0, 1, 4, 5, 2, 3).reshape(batch, channels, kh * kw, height_out, width_out)
