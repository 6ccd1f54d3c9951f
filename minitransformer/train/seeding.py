"""Seeds. A run has one integer seed, and everything random in it is drawn from that seed:

    torch.manual_seed(seed)          the global generator: initial weights, then dropout (train/loop.py)
    seeded_generator(seed)           a generator of its own, e.g. for word2vec's negatives or sampling
    seeded_generator(seed, step)     a fresh generator for step (or epoch) ``step`` of the run, seeded with
                                     seed · stride + step

A batch drawn from ``seeded_generator(seed, step)`` depends on (seed, step) and nothing else, so a resumed
run draws the batches the interrupted one would have drawn (the loop's contract, train/loop.py). The
stride, a prime larger than any run's step count, keeps the (seed, step) pairs of different seeds apart.
"""

import torch

STRIDE = 1_000_003


def seeded_generator(seed, step=None, stride=STRIDE):
    """A new ``torch.Generator`` seeded with ``seed``, or with ``seed * stride + step`` when ``step`` is given."""
    return torch.Generator().manual_seed(seed if step is None else seed * stride + step)
