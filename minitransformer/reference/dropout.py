"""Counter-based dropout in NumPy: the mask is a pure function of (seed, offset, element index), so a
kernel can recompute it in the backward pass instead of storing it, and every implementation (this
reference, the CPU kernel, a CUDA kernel) draws the same bits for any thread count or launch shape.

The bits come from Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"),
the generator of cuRAND and of PyTorch's CUDA dropout. One call maps a 128-bit counter and a 64-bit key
to four 32-bit words; each of its 10 rounds is

    (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0,  lo(M1 c2),  hi(M0 c0) ^ c3 ^ k1,  lo(M0 c0))

with the key bumped by the Weyl constants (W0, W1) between rounds (hi/lo: the upper/lower 32 bits of the
64-bit product). Element i of a call with (seed, offset) reads word i mod 4 of

    philox(counter = (i div 4 low, i div 4 high, offset low, offset high),  key = (seed low, seed high))

and is kept when that word u satisfies u < keep_threshold(p) = floor((1 - p) 2^32), so P(keep) = 1 - p
up to 2^-32. Inverted dropout then rescales the kept elements:

    y = x m / (1 - p),      dx = dy m / (1 - p)         (m = the keep mask; p = 1 drops everything: y = 0)
"""

import numpy as np

PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57  # round multipliers
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85  # key schedule (Weyl) increments
PHILOX_ROUNDS = 10
MASK32 = 0xFFFFFFFF


def _mulhilo(multiplier, word):
    """(hi, lo) 32-bit halves of multiplier * word, for a uint64 array ``word`` of 32-bit values."""
    product = np.uint64(multiplier) * word
    return product >> np.uint64(32), product & np.uint64(MASK32)


def philox4x32(counter, key, rounds=PHILOX_ROUNDS):
    """Philox4x32-``rounds`` of ``counter`` (4 arrays or ints of 32-bit words) under ``key`` (2 words);
    returns the 4 output words as uint32 arrays (broadcast together)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & np.uint64(MASK32) for c in counter)
    k0, k1 = (np.uint64(int(k) & MASK32) for k in key)
    for round_index in range(rounds):
        if round_index:
            k0 = np.uint64((int(k0) + PHILOX_W0) & MASK32)
            k1 = np.uint64((int(k1) + PHILOX_W1) & MASK32)
        hi0, lo0 = _mulhilo(PHILOX_M0, c0)
        hi1, lo1 = _mulhilo(PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return tuple(np.asarray(c, dtype=np.uint32) for c in (c0, c1, c2, c3))


def dropout_bits(n, seed, offset):
    """The 32-bit random words of elements 0 .. n-1 of a dropout call with ``seed`` and ``offset``."""
    for name, value in (("seed", seed), ("offset", offset)):
        if not 0 <= value < 2 ** 64:
            raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    index = np.arange(n, dtype=np.uint64)
    block = index >> np.uint64(2)  # one Philox call serves 4 consecutive elements
    words = philox4x32((block & np.uint64(MASK32), block >> np.uint64(32), offset & MASK32, (offset >> 32) & MASK32),
                       (seed & MASK32, (seed >> 32) & MASK32))
    return np.choose((index & np.uint64(3)).astype(np.intp), words)


def keep_threshold(p):
    """Elements whose word is below this are kept: floor((1 - p) 2^32), as an int in [0, 2^32]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    return int((1.0 - p) * 2.0 ** 32)


def dropout_mask(shape, p, seed, offset):
    """Boolean keep mask of ``shape`` (row-major element order) for drop probability ``p``."""
    n = int(np.prod(shape, dtype=np.int64))
    return (dropout_bits(n, seed, offset).astype(np.uint64) < np.uint64(keep_threshold(p))).reshape(shape)


def dropout_forward(x, p, seed, offset):
    """Inverted dropout of ``x`` (float64); returns ``(y, mask)``."""
    x = np.asarray(x, dtype=np.float64)
    mask = dropout_mask(x.shape, p, seed, offset)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * mask * scale, mask


def dropout_backward(grad_y, p, seed, offset):
    """dx = dy m / (1 - p), with the mask recomputed from (seed, offset), not stored."""
    grad_y = np.asarray(grad_y, dtype=np.float64)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return grad_y * dropout_mask(grad_y.shape, p, seed, offset) * scale
