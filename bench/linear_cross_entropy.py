"""Chunked linear + cross-entropy (``nn.linear_cross_entropy``) against the unfused
``F.cross_entropy(F.linear(x, W, b), y)``: peak memory and time of forward + backward.

Rows 4,096, width d 128 / 768, vocabulary V 8,000 / 30,000, float32, chunk 512 rows; the chunked form with
each backend: "chunked" (eager: torch ops per chunk) and "chunked fused" (the fused cross-entropy op, the
gradient written over the chunk's logits). Memory, two ways:

* counted: the bytes autograd keeps for the backward (``saved_tensors_hooks``, each storage once) and the
  bytes of the logits-sized tensors the unfused form makes (R·V floats each);
* measured: the peak resident memory of a fresh process over the call, above what it held just before, the
  median of three processes (``/proc/self/clear_refs`` resets the kernel's high-water mark VmHWM; glibc
  returns large blocks to the system when they are freed, so RSS follows the live tensors). The inputs, the
  gradient buffers ``.grad`` and torch itself are in the baseline, not in the peak.

Time: forward + backward of each, interleaved (bench/common.py), median, one thread.

    .venv/bin/python bench/linear_cross_entropy.py [--quick]  ->  bench/results/linear_cross_entropy.{json,md}
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_info, markdown_table, time_interleaved, write_results  # noqa: E402

from minitransformer.nn.linear_cross_entropy import linear_cross_entropy  # noqa: E402

ROWS, CHUNK = 4096, 512
SHAPES = [(128, 8000), (128, 30000), (768, 8000), (768, 30000)]  # (d, V)
MB = 1e6


def losses():
    return {"chunked": lambda x, w, b, y: linear_cross_entropy(x, w, b, y, chunk_size=CHUNK),
            "chunked fused": lambda x, w, b, y: linear_cross_entropy(x, w, b, y, chunk_size=CHUNK, backend="fused"),
            "unfused": lambda x, w, b, y: F.cross_entropy(F.linear(x, w, b), y)}


def inputs(d, vocab):
    g = torch.Generator().manual_seed(0)
    x, w, b = (torch.randn(*shape, generator=g).requires_grad_() for shape in ((ROWS, d), (vocab, d), (vocab,)))
    with torch.no_grad():
        w.mul_(d ** -0.5)
    return x, w, b, torch.randint(0, vocab, (ROWS,), generator=g)


def saved_bytes(name, d, vocab):
    """Bytes autograd saves for the backward of one call (each storage counted once)."""
    storages = {}

    def pack(tensor):
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        losses()[name](*inputs(d, vocab))
    return sum(storages.values())


def resident_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def measure_peak(name, d, vocab):
    """In this (fresh) process: peak resident bytes over forward + backward, above the baseline before it."""
    torch.set_num_threads(1)
    x, w, b, y = inputs(d, vocab)
    for tensor in (x, w, b):  # the gradient buffers exist before the call, as in a training loop
        tensor.grad = torch.zeros_like(tensor)
    losses()[name](x[:2], w, b, y[:2]).backward()  # first-call set-up (kernels, thread pools) outside the peak
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := current RSS
    baseline = resident_kb("VmRSS")
    losses()[name](x, w, b, y).backward()
    return (resident_kb("VmHWM") - baseline) * 1024


def peak_in_fresh_process(name, d, vocab, processes=3):
    """The median over ``processes`` fresh processes: one peak moves by tens of MB with where glibc happens to
    place and release the large blocks."""
    peaks = []
    for _ in range(processes):
        out = subprocess.run([sys.executable, __file__, "--peak", name.replace(" ", "_"), str(d), str(vocab)],
                             capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        peaks.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return statistics.median(peaks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 samples after 1 warm-up (default 5 after 1)")
    parser.add_argument("--peak", nargs=3, metavar=("NAME", "D", "V"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.peak:
        name, d, vocab = args.peak[0].replace("_", " "), int(args.peak[1]), int(args.peak[2])
        print(json.dumps(measure_peak(name, d, vocab)))
        return
    torch.set_num_threads(1)
    repeats = 3 if args.quick else 5
    rows, records = [], []
    for d, vocab in SHAPES:
        peak = {name: peak_in_fresh_process(name, d, vocab) for name in losses()}
        saved = {name: saved_bytes(name, d, vocab) for name in losses()}
        tensors = inputs(d, vocab)

        def call(loss):
            return lambda: loss(*tensors).backward()

        seconds = time_interleaved({name: call(loss) for name, loss in losses().items()}, repeats=repeats, warmup=1)
        record = {"rows": ROWS, "d": d, "vocab": vocab, "chunk_size": CHUNK, "logits_bytes": 4 * ROWS * vocab,
                  "peak_bytes": peak, "saved_bytes": saved, "seconds": seconds,
                  "peak_ratio": peak["chunked"] / peak["unfused"],
                  "time_ratio": seconds["chunked"] / seconds["unfused"],
                  "fused_peak_ratio": peak["chunked fused"] / peak["unfused"],
                  "fused_time_ratio": seconds["chunked fused"] / seconds["unfused"]}
        records.append(record)
        rows.append([d, f"{vocab:,}", f"{record['logits_bytes'] / MB:.0f}",
                     f"{saved['unfused'] / MB:.0f}", f"{saved['chunked'] / MB:.0f}",
                     f"{peak['unfused'] / MB:.0f}", f"{peak['chunked'] / MB:.0f}", f"{peak['chunked fused'] / MB:.0f}",
                     f"{record['peak_ratio']:.2f}", f"{1e3 * seconds['unfused']:.0f}", f"{record['time_ratio']:.2f}",
                     f"{record['fused_time_ratio']:.2f}"])
        print(rows[-1], flush=True)
    markdown = ("# Chunked linear + cross-entropy vs the unfused form\n\n`bench/linear_cross_entropy.py`"
                f"{' --quick' if args.quick else ''}: forward + backward of `nn.linear_cross_entropy` (chunks of "
                f"{CHUNK} rows; eager and fused backends) and of `F.cross_entropy(F.linear(x, W, b), y)`, {ROWS:,} "
                "rows, float32, one thread. "
                "Saved: the bytes autograd keeps for the backward. Peak: the resident memory of a fresh process "
                "over the call (median of three), above the inputs and their `.grad` buffers. Time: interleaved, "
                "median of "
                f"{repeats} after a warm-up; a ratio below 1: chunked is smaller / faster.\n\n"
                + markdown_table(["d", "V", "logits (MB)", "saved unfused (MB)", "saved chunked (MB)",
                                  "peak unfused (MB)", "peak chunked (MB)", "peak chunked fused (MB)",
                                  "peak chunked / unfused", "unfused (ms)", "time chunked / unfused",
                                  "time chunked fused / unfused"], rows))
    write_results("linear_cross_entropy_quick" if args.quick else "linear_cross_entropy",
                  {"machine": machine_info(), "runs": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
