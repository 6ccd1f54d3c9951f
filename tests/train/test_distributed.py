"""Two CPU processes under torchrun (gloo) apply the same update as one process on the global batch."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from minitransformer.train.checkpoint import read_checkpoint
from minitransformer.train.distributed import shard
from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig, train

CONFIG = TrainConfig(steps=3, lr=1e-2, warmup_steps=1, checkpoint_every=0, eval_every=0)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_update_equals_single_process(tmp_path):
    from .tiny import batch_for_step, tiny_gpt
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(_free_port()), str(worker), str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    tensors, state = read_checkpoint(tmp_path / CHECKPOINT_NAME)

    single = tiny_gpt(dropout=0.0, dtype=torch.float64)
    history = train(single, batch_for_step, CONFIG, progress=False)
    for name, value in single.state_dict().items():
        torch.testing.assert_close(tensors[f"model/{name}"], value, rtol=1e-10, atol=1e-12, msg=name)
    assert [r["loss"] for r in state["history"]] == pytest.approx([r["loss"] for r in history], rel=1e-12)
    initial = tiny_gpt(dtype=torch.float64).token_embeddings.weight
    assert not torch.equal(tensors["model/token_embeddings.weight"], initial)  # the run did train


def test_shard_splits_the_global_batch():
    batch = {"x": torch.arange(8).view(4, 2), "y": (torch.arange(4), torch.arange(4) * 2)}
    assert shard(batch, 1, 2)["x"].tolist() == [[4, 5], [6, 7]]
    assert shard(batch, 0, 2)["y"][1].tolist() == [0, 2]
    with pytest.raises(ValueError, match="does not split evenly"):
        shard(torch.arange(5), 0, 2)
