"""Learning-rate schedules: linear warm-up (Goyal et al. 2017, "Accurate, Large Minibatch SGD"), then a
linear decay (BERT, Devlin et al. 2019) or a cosine decay (Loshchilov & Hutter 2017, "SGDR").

The multiplier of the base learning rate at step t (w = warmup_steps, T = total_steps, r = min_lr_ratio):

    t < w:   t / w
    t >= w:  p = min(1, (t - w) / (T - w));   linear: r + (1 - r)(1 - p);   cosine: r + (1 - r)(1 + cos(pi p)) / 2

Call ``scheduler.step()`` after each ``optimizer.step()`` (step 0 runs at lr 0 when w > 0, as in BERT's code).
"""

import math

from torch.optim.lr_scheduler import LambdaLR

DECAYS = ("linear", "cosine", "constant")


def lr_multiplier(step, warmup_steps, total_steps, decay="cosine", min_lr_ratio=0.0):
    """The factor on the base learning rate at ``step`` (see the module docstring)."""
    if step < warmup_steps:
        return step / warmup_steps
    if decay == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    shape = 1.0 - progress if decay == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_lr_ratio + (1.0 - min_lr_ratio) * shape


class WarmupSchedule(LambdaLR):
    """A ``LambdaLR`` whose factor is ``lr_multiplier(step, warmup_steps, total_steps, decay, min_lr_ratio)``."""

    def __init__(self, optimizer, warmup_steps, total_steps, decay="cosine", min_lr_ratio=0.0):
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be a non-negative int, got {warmup_steps!r}")
        if not isinstance(total_steps, int) or total_steps < max(1, warmup_steps):
            raise ValueError(f"total_steps must be an int >= max(1, warmup_steps), got {total_steps!r}")
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
        if not 0.0 <= min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {min_lr_ratio!r}")
        self.warmup_steps, self.total_steps, self.decay, self.min_lr_ratio = warmup_steps, total_steps, decay, \
            min_lr_ratio
        super().__init__(optimizer, lambda step: lr_multiplier(step, warmup_steps, total_steps, decay, min_lr_ratio))


def warmup_linear(optimizer, warmup_steps, total_steps, min_lr_ratio=0.0):
    return WarmupSchedule(optimizer, warmup_steps, total_steps, "linear", min_lr_ratio)


def warmup_cosine(optimizer, warmup_steps, total_steps, min_lr_ratio=0.0):
    return WarmupSchedule(optimizer, warmup_steps, total_steps, "cosine", min_lr_ratio)
