"""Data-parallel training with ``torchrun`` and DistributedDataParallel (Li et al. 2020, "PyTorch
Distributed: Experiences on Accelerating Data Parallel Training").

Each of the W processes takes its own 1/W slice of the global batch; after ``backward`` DDP all-reduces
the gradients and divides by W, so every process applies the same update, the one a single process
would compute on the whole batch when the loss is a mean over equally sized slices:

    g = (1/W) Σ_r ∇ mean(loss on slice r) = ∇ mean(loss on the global batch).

``torchrun`` sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; without them everything here is a no-op.
Backend: nccl with CUDA, gloo on CPU.
"""

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def init_distributed():
    """Join the process group when launched by torchrun; returns ``(rank, world_size)`` ((0, 1) otherwise)."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def is_distributed():
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main_process():
    return not is_distributed() or dist.get_rank() == 0


def shard(batch, rank, world_size):
    """This process's slice of a global batch (a tensor, or a tuple/list/dict of tensors split on dim 0)."""
    if isinstance(batch, dict):
        return {key: shard(value, rank, world_size) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(value, rank, world_size) for value in batch)
    if batch.shape[0] % world_size:
        raise ValueError(f"the global batch of {batch.shape[0]} does not split evenly over {world_size} processes")
    size = batch.shape[0] // world_size
    return batch[rank * size:(rank + 1) * size]


def local_shard(batch):
    """This process's slice of the global batch under DDP; the whole batch otherwise."""
    if not is_distributed():
        return batch
    return shard(batch, dist.get_rank(), dist.get_world_size())


def wrap_ddp(module):
    return DistributedDataParallel(module) if is_distributed() else module


def all_reduce_mean(value):
    """The mean of a scalar tensor over all processes, as a float."""
    if is_distributed():
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return float(value)
