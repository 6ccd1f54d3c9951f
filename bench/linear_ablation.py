"""How much of our BERT training step's lead comes from ``ops.linear`` (y and dx by oneDNN) rather than
``F.linear`` (MKL): bench/train_step.py's BERT step, ours fused twice — as built, and with ``ops.linear``
sending every call to ``F.linear`` — and HF's, the three interleaved in one run per configuration.

Ratios: the median over rounds of the within-round ratio, with a 95% bootstrap interval (bench/common.py).

    .venv/bin/python bench/linear_ablation.py [--quick]   # -> bench/results/linear_ablation.{json,md}
"""

import importlib
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (interleaved_samples, machine_info, markdown_table, native_stderr_silenced,  # noqa: E402
                    paired_ratio, quick_option, with_interval, write_results)
from train_step import SHAPES, bert_steps  # noqa: E402

from minitransformer.recipes.pretraining import git_commit  # noqa: E402

linear_module = importlib.import_module("minitransformer.ops.linear")  # the package's ``linear`` is the function


def with_f_linear(step):
    """``step`` with ``ops.linear`` calling ``F.linear`` for every input."""
    def run():
        chooser = linear_module.runs_on_onednn
        linear_module.runs_on_onednn = lambda x, weight: False
        try:
            step()
        finally:
            linear_module.runs_on_onednn = chooser
    return run


def main(argv=None):
    quick, repeats, warmup = quick_option(__doc__, argv)
    commit = git_commit()
    rows, records = [], []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch, length in SHAPES:
            built = bert_steps(batch, length, torch.Generator().manual_seed(0), False)
            ablated = bert_steps(batch, length, torch.Generator().manual_seed(0), False)["fused"]
            steps = {"hf": built["hf"], "fused": built["fused"], "fused, F.linear": with_f_linear(ablated)}
            with native_stderr_silenced():
                samples = interleaved_samples(steps, repeats=repeats, warmup=warmup)
            ratios = {"fused / HF": paired_ratio(samples["fused"], samples["hf"]),
                      "fused with F.linear / HF": paired_ratio(samples["fused, F.linear"], samples["hf"]),
                      "fused / fused with F.linear": paired_ratio(samples["fused"], samples["fused, F.linear"])}
            records.append({"batch": batch, "length": length, "threads": threads, "ratios": ratios,
                            "seconds": {k: statistics.median(v) for k, v in samples.items()}, "samples": samples})
            rows.append([f"({batch}, {length})", threads, *(with_interval(r) for r in ratios.values())])
            print(rows[-1], flush=True)
    markdown = ("# BERT training step: ours with `ops.linear` and with `F.linear`\n\n"
                f"`bench/linear_ablation.py{' --quick' if quick else ''}` at commit {commit}: "
                "bench/train_step.py's BERT step (glibc's default allocator), three sides interleaved, "
                f"{repeats} rounds after {warmup} warm-ups; median within-round ratio [95% bootstrap interval]; "
                "below 1: the first is faster.\n\n"
                + markdown_table(["(batch, length)", "threads", *ratios], rows))
    name = "linear_ablation" + ("_quick" if quick else "")
    write_results(name, {"machine": machine_info(), "commit": commit, "runs": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
