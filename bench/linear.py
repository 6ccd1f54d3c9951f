"""The linear layer's products: ``ops.linear`` (y and dx on oneDNN, dW on MKL) against ``F.linear`` (all on
MKL), at the shapes of bench/train_step.py's BERT and GPT (4,096 rows = batch x length, d_model 128,
d_ff 512, vocabulary 8,000 at the masked-LM head's ~600 rows), one and two threads.

Four pairings per shape: the forward alone, the forward + backward of all three gradients, and, to show each
library's share, the two backward products one at a time (dx = dy W and dW = dy^T x, oneDNN against MKL). Each pairing
is timed interleaved (bench/common.py): the ratio is the median over rounds of the within-round ratio, with a
95% bootstrap interval; below 1: the first is faster. The tables say which GEMM library is faster on this
CPU for each product, the fact ``ops.linear`` is built on.

    .venv/bin/python bench/linear.py [--quick]     # -> bench/results/linear.{json,md}
"""

import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (interleaved_samples, machine_info, markdown_table, paired_ratio, quick_option,  # noqa: E402
                    with_interval, write_results)

from minitransformer import ops  # noqa: E402
from minitransformer.recipes.pretraining import git_commit  # noqa: E402

SHAPES = [(4096, 128, 384), (4096, 128, 128), (4096, 128, 512), (4096, 512, 128), (624, 128, 8000)]  # rows, in, out
ONEDNN = torch.ops.mkldnn._linear_pointwise


def calls(rows, n_in, n_out, generator):
    x = torch.randn(rows, n_in, generator=generator)
    weight, bias = torch.randn(n_out, n_in, generator=generator), torch.randn(n_out, generator=generator)
    grad_y = torch.randn(rows, n_out, generator=generator)

    def forward_backward(linear):
        def run():
            leaves = [t.detach().requires_grad_() for t in (x, weight, bias)]
            linear(*leaves).backward(grad_y)
        return run

    return {
        "forward": {"ours": lambda: ops.linear(x, weight, bias), "torch": lambda: F.linear(x, weight, bias)},
        "forward + backward": {"ours": forward_backward(ops.linear), "torch": forward_backward(F.linear)},
        "dx = dy W": {"ours": lambda: ONEDNN(grad_y, weight.t(), None, "none", [], ""),
                      "torch": lambda: grad_y @ weight},
        "dW = dy^T x": {"ours": lambda: ONEDNN(grad_y.t(), x.t(), None, "none", [], ""),
                        "torch": lambda: grad_y.t() @ x},
    }


def main(argv=None):
    quick, repeats, warmup = quick_option(__doc__, argv)
    commit = git_commit()
    rows, records = [], []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for rows_, n_in, n_out in SHAPES:
            row = [threads, f"{rows_:,} x {n_in} -> {n_out}"]
            for what, pair in calls(rows_, n_in, n_out, torch.Generator().manual_seed(0)).items():
                samples = interleaved_samples(pair, repeats=repeats, warmup=warmup)
                ratio = paired_ratio(samples["ours"], samples["torch"])
                records.append({"threads": threads, "rows": rows_, "in": n_in, "out": n_out, "call": what,
                                "seconds": {k: statistics.median(v) for k, v in samples.items()},
                                "ours_over_torch": ratio, "samples": samples})
                row.append(with_interval(ratio))
            rows.append(row)
            print(row, flush=True)
    markdown = ("# Linear layer: `ops.linear` / `F.linear`\n\n"
                f"`bench/linear.py{' --quick' if quick else ''}` at commit {commit}, float32: ours (y and dx "
                "by oneDNN, dW by MKL) against torch's `F.linear` (all by MKL), interleaved, "
                f"{repeats} rounds after {warmup} warm-ups. Ratios: the median over rounds of the within-round "
                "ratio, with its 95% bootstrap interval; below 1: ours is faster. The last two columns time one "
                "backward product alone, oneDNN / MKL: where it is below 1 oneDNN is the faster library for it.\n\n"
                + markdown_table(["threads", "rows x in -> out", "forward", "forward + backward",
                                  "dx = dy W: oneDNN / MKL", "dW = dy^T x: oneDNN / MKL"], rows))
    name = "linear" + ("_quick" if quick else "")
    write_results(name, {"machine": machine_info(), "commit": commit, "runs": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
