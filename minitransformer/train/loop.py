"""A model-agnostic training loop: AdamW with warm-up, gradient clipping, periodic evaluation,
tqdm progress, safetensors checkpoints with exact resume, and optional DDP.

The contract with the caller:

* ``model.loss(batch)`` returns ``(loss, parts)``: a scalar tensor and a dict of detached scalars to log;
* ``get_batch(step)`` returns the (global) batch of step ``step`` and depends on nothing else (seed it
  from the step), so a resumed run sees exactly the batches the interrupted one would have seen;
* ``evaluate(model)`` (optional) returns a dict of floats; it runs every ``eval_every`` steps.

``dtype`` is the precision of each step's forward pass and loss; the parameters, their gradients, the
optimizer and the evaluation stay float32 whatever it is:

* ``"float32"`` (the default): no autocast.
* ``"bfloat16"``: under ``torch.autocast(<the parameters' device>, dtype=torch.bfloat16)``: matrix products
  and attention in bfloat16, losses and normalisation in float32 (ops/autocast.py has the rules of our fused
  ops). bfloat16 has float32's exponent range: its gradients need no scaling.
* ``"float16"``: the same autocast in float16, with a ``torch.amp.GradScaler``. float16 keeps 3 more bits of
  mantissa than bfloat16 but only 5 of exponent: its smallest normal number is 6.1e-5 (subnormals reach
  6e-8), and activation gradients below it lose bits or flush to zero in the float16 backward. Loss scaling
  (Micikevicius et al. 2018, "Mixed Precision Training") multiplies the loss by S before ``backward`` so
  those gradients land in float16's range, then divides the float32 parameter gradients by S
  (``unscale_``, before the clipping, which sees the true norm). A step whose gradients overflowed (inf or
  nan) is skipped and S halved; after 2000 steps without overflow S doubles (from 2^16). The history
  records ``loss_scale``, the S of each step; the scaler's state is saved in the checkpoints, so a resumed
  run scales exactly as the uninterrupted one.

Learning rate at step t: lr_group · lr_multiplier(t + 1, warmup_steps, steps, decay)  (optim/schedules.py).
With ``resume=True`` the loop loads ``out_dir/checkpoint.safetensors`` (model, optimizer, RNG, step,
history, gradient scaler) and continues; the loss curve it produces is the one an uninterrupted run would
produce. It refuses a config whose ``TRAJECTORY_SETTINGS`` (steps, lr, dtype, seed, ...) differ from the
checkpoint's, naming them: that would be another run.
Under ``torchrun`` (after ``distributed.init_distributed``) the model is wrapped in DistributedDataParallel
and each process trains on its slice of the global batch; only rank 0 writes checkpoints, plots, progress.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from minitransformer.optim import AdamW
from minitransformer.optim.schedules import DECAYS, lr_multiplier
from minitransformer.train.checkpoint import load_checkpoint, save_checkpoint
from minitransformer.train.clipping import clip_grad_norm
from minitransformer.train.distributed import all_reduce_mean, is_main_process, local_shard, wrap_ddp
from minitransformer.train.plot import plot_history

CHECKPOINT_NAME = "checkpoint.safetensors"
# the training forward's precision -> the dtype of its autocast region (None: no autocast)
AUTOCAST_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPES = tuple(AUTOCAST_DTYPES)


def kept_checkpoint_name(step):
    """The file name of the copy of the checkpoint kept at ``step`` (``TrainConfig.keep_steps``)."""
    return f"checkpoint_step{step}.safetensors"


@dataclass
class TrainConfig:
    steps: int = 1000
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    decay: str = "linear"
    clip_norm: float = 1.0
    eval_every: int = 200
    checkpoint_every: int = 200  # 0: only at the end
    seed: int = 0
    keep_steps: tuple = ()  # steps whose checkpoint is also kept as checkpoint_step<N>.safetensors
    dtype: str = "float32"  # one of DTYPES

    def __post_init__(self):
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive int, got {self.steps!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.warmup_steps < 0 or self.eval_every < 0 or self.checkpoint_every < 0:
            raise ValueError("warmup_steps, eval_every and checkpoint_every must be >= 0")
        if any(not 1 <= step <= self.steps for step in self.keep_steps):
            raise ValueError(f"keep_steps must lie in [1, steps={self.steps}], got {list(self.keep_steps)}")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")


class _LossModule(nn.Module):
    """Routes ``forward`` to ``model.loss`` so DistributedDataParallel sees the loss computation."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, batch):
        return self.model.loss(batch)


def make_optimizer(model, config, param_groups=None):
    """AdamW over ``param_groups`` (default: all trainable parameters); no weight decay on biases,
    LayerNorm gains and other 1-D parameters, as in BERT."""
    if param_groups is None:
        param_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    groups = []
    for group in param_groups:
        lr = group.get("lr", config.lr)
        matrices = [p for p in group["params"] if p.ndim >= 2]
        vectors = [p for p in group["params"] if p.ndim < 2]
        groups += [{"params": matrices, "lr": lr, "initial_lr": lr, "weight_decay": config.weight_decay},
                   {"params": vectors, "lr": lr, "initial_lr": lr, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ValueError("the model has no trainable parameters")
    return AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)


# The settings a resumed run must share with its checkpoint to continue the same run (the others, such as
# checkpoint_every, only change what is saved or evaluated along the way).
TRAJECTORY_SETTINGS = ("steps", "lr", "weight_decay", "warmup_steps", "decay", "clip_norm", "seed", "dtype")


def check_same_trajectory(saved_config, config):
    """ValueError naming every trajectory setting of ``config`` that differs from the checkpoint's."""
    changed = [name for name in TRAJECTORY_SETTINGS
               if name in saved_config and saved_config[name] != getattr(config, name)]
    if changed:
        was = ", ".join(f"{name}={saved_config[name]!r}" for name in changed)
        now = ", ".join(f"{name}={getattr(config, name)!r}" for name in changed)
        raise ValueError(f"the checkpoint was made with {was}; this run asks for {now}: resume with the "
                         "checkpoint's settings, or start a new run")


def train(model, get_batch, config, out_dir=None, evaluate=None, resume=False, param_groups=None,
          checkpoint_state=None, progress=True, desc="train"):
    """Train ``model`` for ``config.steps`` steps; returns the history (a list of dicts, one per step).

    ``checkpoint_state``: JSON-serialisable extras saved in every checkpoint (model config, tokenizer …).
    """
    out_dir = Path(out_dir) if out_dir is not None else None
    optimizer = make_optimizer(model, config, param_groups)
    device_type = next(model.parameters()).device.type
    autocast_dtype = AUTOCAST_DTYPES[config.dtype]
    scaler = torch.amp.GradScaler(device_type, enabled=config.dtype == "float16")  # disabled: passes through
    history, start = [], 0
    if resume:
        if out_dir is None:
            raise ValueError("resume=True needs out_dir (where checkpoint.safetensors lives)")
        state = load_checkpoint(out_dir / CHECKPOINT_NAME, model, optimizer)
        history, start = state["history"], state["step"]
        check_same_trajectory(state.get("train_config", {}), config)
        if state.get("grad_scaler"):  # a float16 run's (absent in checkpoints older than the scaler)
            scaler.load_state_dict(state["grad_scaler"])
    else:
        torch.manual_seed(config.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    step_fn = wrap_ddp(_LossModule(model))

    def checkpoint(step, name=CHECKPOINT_NAME):
        if out_dir is not None and is_main_process():
            save_checkpoint(out_dir / name, model, optimizer,
                            {"step": step, "history": history, "train_config": asdict(config),
                             "grad_scaler": scaler.state_dict(), **(checkpoint_state or {})})

    started = time.perf_counter() - (history[-1].get("wall_seconds", 0.0) if history else 0.0)
    bar = tqdm(range(start, config.steps), desc=desc, disable=not (progress and is_main_process()),
               initial=start, total=config.steps)
    for step in bar:
        model.train()
        multiplier = lr_multiplier(step + 1, config.warmup_steps, config.steps, config.decay)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] * multiplier
        with torch.autocast(device_type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss, parts = step_fn(local_shard(get_batch(step)))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        grad_norm = clip_grad_norm(trainable, config.clip_norm) if config.clip_norm else None
        scaler.step(optimizer)  # skipped if a gradient is inf or nan
        record = {"step": step + 1, "loss": all_reduce_mean(loss.detach()), "lr": optimizer.param_groups[0]["lr"],
                  "grad_norm": grad_norm, **{k: all_reduce_mean(v) for k, v in parts.items()}}
        if scaler.is_enabled():
            record["loss_scale"] = scaler.get_scale()
        scaler.update()
        record["wall_seconds"] = time.perf_counter() - started  # training time so far, resumed runs included
        if evaluate is not None and config.eval_every and ((step + 1) % config.eval_every == 0
                                                           or step + 1 == config.steps):
            model.eval()
            with torch.no_grad():
                record.update({f"eval_{k}": float(v) for k, v in evaluate(model).items()})
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.3f}")
        if config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            checkpoint(step + 1)
        if step + 1 in config.keep_steps:
            checkpoint(step + 1, kept_checkpoint_name(step + 1))
    model.eval()
    checkpoint(config.steps)
    if out_dir is not None and is_main_process():
        plot_history(history, out_dir / "loss_curve.png", title=desc)
    return history
