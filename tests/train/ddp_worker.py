"""Run by test_distributed.py under torchrun: 3 DDP steps of the tiny GPT (the loop gives each process its
half of the global batch); rank 0 writes the checkpoint to the folder given as the first argument."""

import sys

import torch

from minitransformer.train.distributed import init_distributed, local_shard
from minitransformer.train.loop import train
from tiny import GLOBAL_BATCH, batch_for_step, tiny_gpt  # this script's folder is on sys.path

from test_distributed import CONFIG  # noqa: E402

if __name__ == "__main__":
    torch.set_num_threads(1)
    rank, world_size = init_distributed()
    inputs, _ = local_shard(batch_for_step(0))
    assert world_size == 2 and inputs.shape[0] == GLOBAL_BATCH // 2, "each process must see half the batch"
    assert torch.equal(inputs, batch_for_step(0)[0][rank * GLOBAL_BATCH // 2:(rank + 1) * GLOBAL_BATCH // 2])
    model = tiny_gpt(dropout=0.0, dtype=torch.float64)
    train(model, batch_for_step, CONFIG, out_dir=sys.argv[1], progress=False)
    torch.distributed.destroy_process_group()
