"""The fused training ops against PyTorch's native ones, forward + backward, at training shapes.

    layer_norm      ours ops.layer_norm          vs F.layer_norm                 rows 4096, width 128 / 768
    bias_gelu       ours ops.bias_gelu           vs F.gelu(x + b)                rows 4096, width 512 / 3072
    dropout_add     ours ops.dropout_add         vs residual + F.dropout(x)      rows 4096, width 128 / 768, p 0.1
    cross_entropy   ours ops.cross_entropy       vs F.cross_entropy              rows 4096, vocabulary 8,000 / 30,000

and, for information, the same equations in our torch-ops modules (the "eager" backend). One call = a fresh
copy of the inputs that need a gradient, the forward, and the backward of a fixed upstream gradient. Ours and
torch's are timed interleaved with each other (bench/common.py); the ratio ours / torch is the median over
rounds of the within-round ratio, with a 95% bootstrap interval (bench/common.py:paired_ratio); below 1 means
ours is faster. The eager modules are timed in a second interleaved pairing with torch's op: between
ours and torch's calls their many passes would sweep the caches, and both sides would then time cache misses.

--dtype bfloat16 or float16 gives every side inputs of that dtype (ours computes in float32 inside and
rounds its outputs once). With --device cuda each op's CUDA
kernel is first checked in that dtype against the NumPy float64 reference, forward and backward
(bench/cuda_checks.py), and timed with CUDA events only if it passes. On CUDA tensors the ops run the
best rung of their ladder (no op picks another rung there), so that rung is what is checked and timed.

Each call's page faults are counted: under glibc's default allocator a call whose output blocks went back to
the kernel pays a fault per 4 KiB page to get them again, and which side pays depends on the allocations
around it. --keep-freed-memory keeps freed memory in the process (bench/common.py), so neither side does.

    .venv/bin/python bench/training_ops.py [--quick] [--threads N] [--device cpu|cuda] [--dtype D]
                                           [--keep-freed-memory]
        ->  bench/results/training_ops[_cuda][_D][_keep_memory].{json,md}  (D only when not float32)
"""

import argparse
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (counting_page_faults, interleaved_samples, keep_freed_memory, machine_info,  # noqa: E402
                    markdown_table, paired_ratio, with_interval, write_results)
from cuda_checks import check_device, versions_to_time  # noqa: E402

from minitransformer import nn as mnn  # noqa: E402
from minitransformer import ops  # noqa: E402

ROWS = 4096
LADDER = {"layer_norm": "layer_norm", "bias_gelu": "bias_gelu", "dropout_add": "dropout",
          "cross_entropy": "cross_entropy"}  # each benchmarked op's kernel ladder


def forward_backward(forward, inputs, grad_output):
    """A call: fresh leaves from ``inputs`` (those with requires_grad), forward, backward."""
    def run():
        leaves = [t.detach().requires_grad_(t.requires_grad) for t in inputs]
        out = forward(*leaves)
        out.backward(grad_output if out.dim() else None)
    return run


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cases(generator, device, dtype=torch.float32):
    def randn(*shape):
        return torch.randn(shape, generator=generator).to(device, dtype)

    for width in (128, 768):
        x, g, w, b = randn(ROWS, width), randn(ROWS, width), randn(width), randn(width)
        inputs = [x.requires_grad_(), w.requires_grad_(), b.requires_grad_()]
        norm = mnn.LayerNorm(width).to(device, dtype)
        yield ("layer_norm", width, inputs, g,
               {"ours": lambda x, w, b: ops.layer_norm(x, w, b),
                "torch": lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b),
                "eager": lambda x, w, b: torch.func.functional_call(norm, {"weight": w, "bias": b}, (x,))})
    for width in (512, 3072):
        x, g, b = randn(ROWS, width), randn(ROWS, width), randn(width)
        yield ("bias_gelu", width, [x.requires_grad_(), b.requires_grad_()], g,
               {"ours": lambda x, b: ops.bias_gelu(x, b), "torch": lambda x, b: F.gelu(x + b),
                "eager": lambda x, b: mnn.gelu(x + b)})
    for width in (128, 768):
        x, r, g = (randn(ROWS, width) for _ in range(3))
        yield ("dropout_add", width, [x.requires_grad_(), r.requires_grad_()], g,
               {"ours": lambda x, r: ops.dropout_add(x, r, 0.1), "torch": lambda x, r: r + F.dropout(x, 0.1),
                "eager": lambda x, r: r + mnn.dropout(x, 0.1)})
    for vocabulary in (8000, 30000):
        logits = randn(ROWS, vocabulary)
        targets = torch.randint(0, vocabulary, (ROWS,), generator=generator).to(device)
        yield ("cross_entropy", vocabulary, [logits.requires_grad_()], None,
               {"ours": lambda x: ops.cross_entropy(x, targets), "torch": lambda x: F.cross_entropy(x, targets),
                "eager": lambda x: mnn.cross_entropy(x, targets)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 samples after 2 warm-ups (default 20 after 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=list(DTYPES), help="the inputs' dtype (default float32)")
    parser.add_argument("--keep-freed-memory", action="store_true", help="no page faults from re-allocation")
    args = parser.parse_args(argv)
    if args.keep_freed_memory:
        keep_freed_memory()
    check_device(parser, args.device)
    torch.set_num_threads(args.threads)
    dtype = DTYPES[args.dtype]
    checked = ({op: versions_to_time(ladder, dtype) for op, ladder in LADDER.items()} if args.device == "cuda"
               else {})
    repeats, warmup = (5, 2) if args.quick else (20, 3)
    rows, records = [], []
    for op, width, inputs, grad_output, functions in cases(torch.Generator().manual_seed(0), args.device, dtype):
        calls, faults = counting_page_faults({name: forward_backward(f, inputs, grad_output)
                                              for name, f in functions.items()})
        samples = interleaved_samples({name: calls[name] for name in ("ours", "torch")}, repeats=repeats,
                                      warmup=warmup, device=args.device)
        beside_eager = interleaved_samples({name: calls[name] for name in ("torch", "eager")}, repeats=repeats,
                                           warmup=warmup, device=args.device)
        ratio = paired_ratio(samples["ours"], samples["torch"])
        eager_ratio = paired_ratio(beside_eager["eager"], beside_eager["torch"])
        seconds = {name: statistics.median(s) for name, s in samples.items()}
        page_faults = {name: statistics.median(counts[warmup:]) for name, counts in faults.items()}
        records.append({"op": op, "rows": ROWS, "width": width, "dtype": args.dtype, "seconds": seconds,
                        "ours_over_torch": ratio, "eager_over_torch": eager_ratio, "samples": samples,
                        "samples_eager_pairing": beside_eager, "page_faults_per_call": page_faults,
                        "checked_cuda_versions": checked.get(op, [])})
        rows.append([op, f"{ROWS} x {width:,}", f"{1e3 * seconds['torch']:.2f}", with_interval(ratio),
                     with_interval(eager_ratio), f"{page_faults['ours']:,.0f} / {page_faults['torch']:,.0f}"])
        print(rows[-1], flush=True)
    half = dtype != torch.float32
    options = ((" --device cuda" if args.device == "cuda" else "") + (f" --dtype {args.dtype}" if half else "")
              + (" --keep-freed-memory" if args.keep_freed_memory else ""))
    markdown = ("# Fused training ops: ours / PyTorch, forward + backward\n\n`bench/training_ops.py"
                f"{' --quick' if args.quick else ''} --threads {args.threads}{options}`: ours and torch's op "
                f"interleaved, {repeats} rounds after {warmup} warm-ups, {args.dtype}; the eager modules "
                "in a second interleaved pairing with torch's op, so that their cache-sweeping passes never run "
                "between ours and torch's. Ratios: the median over rounds of the two calls' ratio within a round, "
                "with its 95% bootstrap interval; below 1: ours is faster. torch (ms): the median of its calls. "
                "Page faults: the median per call.\n\n"
                + markdown_table(["op", "shape", "torch (ms)", "ours / torch", "eager modules / torch",
                                  "page faults / call: ours / torch"], rows))
    name = ("training_ops" + ("_cuda" if args.device == "cuda" else "") + ("_quick" if args.quick else "")
            + (f"_{args.dtype}" if half else "") + (f"_{args.threads}threads" if args.threads != 1 else "")
            + ("_keep_memory" if args.keep_freed_memory else ""))
    write_results(name, {"machine": machine_info(), "device": args.device, "threads": args.threads, "runs": records},
                  markdown)
    print(markdown)


if __name__ == "__main__":
    main()
