"""Hand-written optimizers (``torch.optim.Optimizer`` subclasses, checked against torch.optim) and schedules.

    SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)     sgd.py
    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)  (L2)        adam.py
    AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2) (decoupled)
    WarmupSchedule(optimizer, warmup_steps, total_steps, decay="cosine"|"linear"|"constant", min_lr_ratio=0)
    warmup_linear(...), warmup_cosine(...), lr_multiplier(step, ...)                    schedules.py
"""

from minitransformer.optim.adam import Adam, AdamW
from minitransformer.optim.schedules import WarmupSchedule, lr_multiplier, warmup_cosine, warmup_linear
from minitransformer.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "WarmupSchedule", "lr_multiplier", "warmup_cosine", "warmup_linear"]
