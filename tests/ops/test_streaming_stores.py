"""Streaming stores (csrc/cpu/streaming_stores.h): a CPU kernel that moves more bytes than the last-level cache
writes its output past the cache. Only the store changes, so the streamed outputs must be the same bits as the
ordinary ones.

Each run sets MINITRANSFORMER_CACHE_BYTES in a fresh process (the size is read once per process): 64K streams
every output of the shapes below, 1G none. Widths 768 (every row starts aligned to the vector width), 100 (a row
starts aligned every fourth or eighth row: both kinds of rows) and 7 (narrower than a vector)."""

import os
import pathlib
import subprocess
import sys

import pytest
import torch

CASES = [(width, dtype, threads) for width in (768, 100, 7) for dtype in ("float32", "float64") for threads in (1, 2)]

SCRIPT = f"""
import sys
import torch
import minitransformer.ops  # noqa: F401
ops = torch.ops.minitransformer
outputs = {{"cache_bytes": ops.cpu_cache_bytes()}}
for width, dtype, threads in {CASES!r}:
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    x, grad_y = (torch.randn(2048, width, generator=generator, dtype=getattr(torch, dtype)) for _ in range(2))
    weight, bias = (torch.randn(width, generator=generator, dtype=x.dtype) for _ in range(2))
    y, mean, rstd = ops.layer_norm_forward(x, weight, bias, 1e-5)
    outputs[width, dtype, threads] = [y, mean, rstd, *ops.layer_norm_backward(grad_y, x, weight, mean, rstd)]
torch.save(outputs, sys.argv[1])
"""


def layer_norm_outputs(tmp_path, cache):
    path = tmp_path / f"{cache}.pt"
    env = {**os.environ, "MINITRANSFORMER_CACHE_BYTES": cache}
    subprocess.run([sys.executable, "-c", SCRIPT, str(path)], env=env, check=True, capture_output=True, text=True)
    return torch.load(path)


def test_streamed_layer_norm_outputs_are_the_ordinary_bits(tmp_path):
    streamed, ordinary = layer_norm_outputs(tmp_path, "64K"), layer_norm_outputs(tmp_path, "1G")
    assert streamed.pop("cache_bytes") == 2**16 and ordinary.pop("cache_bytes") == 2**30
    for width, dtype, threads in CASES:
        # x and y (the forward's traffic, the smaller one) are above 64 KiB for every case, far below 1 GiB.
        assert 2 * 2048 * width * torch.finfo(getattr(torch, dtype)).bits // 8 > 2**16
        names = ["y", "mean", "rstd", "dx", "dweight", "dbias"]
        for name, a, b in zip(names, streamed[width, dtype, threads], ordinary[width, dtype, threads]):
            assert torch.equal(a, b), (name, width, dtype, threads)


def test_a_cache_size_that_is_not_a_size_is_refused_in_one_line():
    code = "import torch, minitransformer.ops; torch.ops.minitransformer.cpu_cache_bytes()"
    env = {**os.environ, "MINITRANSFORMER_CACHE_BYTES": "lots"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode != 0
    assert "MINITRANSFORMER_CACHE_BYTES must be a size such as 33554432, 32768K or 32M, got 'lots'" in run.stderr


def test_the_cache_size_is_read_from_linux_when_not_set():
    listed = [p for p in pathlib.Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size")]
    if not listed:
        pytest.skip("this machine lists no caches under /sys/devices/system/cpu/cpu0/cache")
    sizes = []
    for path in listed:
        text = path.read_text().strip()
        sizes.append(int(text[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30}[text[-1]] if text[-1] in "KMG"
                     else int(text))
    env = {k: v for k, v in os.environ.items() if k != "MINITRANSFORMER_CACHE_BYTES"}
    code = "import torch, minitransformer.ops; print(torch.ops.minitransformer.cpu_cache_bytes())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert int(out) == max(sizes)
