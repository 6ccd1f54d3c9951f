"""The fused training ops against PyTorch's native ones, forward + backward, at training shapes.

    layer_norm      ours ops.layer_norm          vs F.layer_norm                 rows 4096, width 128 / 768
    bias_gelu       ours ops.bias_gelu           vs F.gelu(x + b)                rows 4096, width 512 / 3072
    dropout_add     ours ops.dropout_add         vs residual + F.dropout(x)      rows 4096, width 128 / 768, p 0.1
    cross_entropy   ours ops.cross_entropy       vs F.cross_entropy              rows 4096, vocabulary 8,000 / 30,000

and, for information, the same equations in our torch-ops modules (the "eager" backend). One call = a fresh
copy of the inputs that need a gradient, the forward, and the backward of a fixed upstream gradient. Timed
interleaved (bench/common.py), median of the samples; ratio ours / torch < 1 means ours is faster.

    .venv/bin/python bench/training_ops.py [--quick] [--threads N]  ->  bench/results/training_ops.{json,md}
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_info, markdown_table, time_interleaved, write_results  # noqa: E402

from minitransformer import nn as mnn  # noqa: E402
from minitransformer import ops  # noqa: E402

ROWS = 4096


def forward_backward(forward, inputs, grad_output):
    """A call: fresh leaves from ``inputs`` (those with requires_grad), forward, backward."""
    def run():
        leaves = [t.detach().requires_grad_(t.requires_grad) for t in inputs]
        out = forward(*leaves)
        out.backward(grad_output if out.dim() else None)
    return run


def cases(generator):
    for width in (128, 768):
        x, g = torch.randn(ROWS, width, generator=generator), torch.randn(ROWS, width, generator=generator)
        w, b = torch.randn(width, generator=generator), torch.randn(width, generator=generator)
        inputs = [x.requires_grad_(), w.requires_grad_(), b.requires_grad_()]
        norm = mnn.LayerNorm(width)
        yield ("layer_norm", width, inputs, g,
               {"ours": lambda x, w, b: ops.layer_norm(x, w, b),
                "torch": lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b),
                "eager": lambda x, w, b: torch.func.functional_call(norm, {"weight": w, "bias": b}, (x,))})
    for width in (512, 3072):
        x, g = torch.randn(ROWS, width, generator=generator), torch.randn(ROWS, width, generator=generator)
        b = torch.randn(width, generator=generator)
        yield ("bias_gelu", width, [x.requires_grad_(), b.requires_grad_()], g,
               {"ours": lambda x, b: ops.bias_gelu(x, b), "torch": lambda x, b: F.gelu(x + b),
                "eager": lambda x, b: mnn.gelu(x + b)})
    for width in (128, 768):
        x, r, g = (torch.randn(ROWS, width, generator=generator) for _ in range(3))
        yield ("dropout_add", width, [x.requires_grad_(), r.requires_grad_()], g,
               {"ours": lambda x, r: ops.dropout_add(x, r, 0.1), "torch": lambda x, r: r + F.dropout(x, 0.1),
                "eager": lambda x, r: r + mnn.dropout(x, 0.1)})
    for vocabulary in (8000, 30000):
        logits = torch.randn(ROWS, vocabulary, generator=generator)
        targets = torch.randint(0, vocabulary, (ROWS,), generator=generator)
        yield ("cross_entropy", vocabulary, [logits.requires_grad_()], None,
               {"ours": lambda x: ops.cross_entropy(x, targets), "torch": lambda x: F.cross_entropy(x, targets),
                "eager": lambda x: mnn.cross_entropy(x, targets)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 samples after 2 warm-ups (default 20 after 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    repeats, warmup = (5, 2) if args.quick else (20, 3)
    rows, records = [], []
    for op, width, inputs, grad_output, functions in cases(torch.Generator().manual_seed(0)):
        seconds = time_interleaved({name: forward_backward(f, inputs, grad_output) for name, f in functions.items()},
                                   repeats=repeats, warmup=warmup)
        records.append({"op": op, "rows": ROWS, "width": width, "seconds": seconds})
        rows.append([op, f"{ROWS} x {width:,}", f"{1e3 * seconds['torch']:.2f}",
                     f"{seconds['ours'] / seconds['torch']:.2f}", f"{seconds['eager'] / seconds['torch']:.2f}"])
        print(rows[-1], flush=True)
    markdown = ("# Fused training ops: ours / PyTorch, forward + backward\n\n`bench/training_ops.py"
                f"{' --quick' if args.quick else ''} --threads {args.threads}`: interleaved in one run, median of "
                f"{repeats} samples after {warmup} warm-ups, float32. A ratio below 1: ours is faster.\n\n"
                + markdown_table(["op", "shape", "torch (ms)", "ours / torch", "eager modules / torch"], rows))
    name = "training_ops" + ("_quick" if args.quick else "") + (f"_{args.threads}threads" if args.threads != 1 else "")
    write_results(name, {"machine": machine_info(), "threads": args.threads, "runs": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
