"""Where a training step's time goes: torch.profiler over a few steps of ours (fused and eager) and of
Hugging Face's, at bench/train_step.py's configuration, each op's self CPU time put in one of four groups:

    matrix products   aten::mm, addmm, bmm, matmul, linear (the BLAS calls) and oneDNN's linear
                      (mkldnn::_linear_pointwise, which our ops.linear calls)
    attention         SDPA's kernels and ours (minitransformer::attention_*)
    optimizer         everything AdamW's step and zero_grad run (aten::_foreach_*, lerp_, addcdiv_, sqrt, ...)
    element-wise      everything else: LayerNorm, GELU, dropout, residual adds, the loss, copies, indexing

The element-wise share is the part of the step the fused training ops exist to shrink. Both shapes of
bench/train_step.py; the process keeps freed memory for reuse (bench/common.py:keep_freed_memory), so page
faults, which depend on the allocator's state, do not land in whichever op happens to allocate.

    .venv/bin/python bench/step_profile.py     # -> bench/results/train_step_profile.{json,md}
"""

import itertools
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile, record_function

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import keep_freed_memory, machine_info, markdown_table, native_stderr_silenced, write_results  # noqa: E402
from train_step import SHAPES, bert_steps, gpt_steps  # noqa: E402

GEMM = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear", "mkldnn::_linear_pointwise",
        "minitransformer::linear")
GROUPS = ("matrix products", "attention", "optimizer", "element-wise")
PROFILED_STEPS, WARMUP = 5, 2


def group_of(name, in_optimizer):
    if in_optimizer:
        return "optimizer"
    if name.startswith(GEMM):
        return "matrix products"
    if "attention" in name.lower():  # SDPA's kernels, ours, and the autograd nodes that wrap ours
        return "attention"
    return "element-wise"


def profile_step(step):
    """{group: self CPU milliseconds per step} of ``step`` (a training step function)."""
    for _ in range(WARMUP):
        step()
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(PROFILED_STEPS):
            with record_function("step"):
                step()
    events = prof.events()
    optimizer_ranges = [(e.time_range.start, e.time_range.end) for e in events if e.name.startswith("Optimizer.")]
    totals = dict.fromkeys(GROUPS, 0.0)
    for event in events:
        if event.name == "step" or event.name.startswith(("Optimizer.", "autograd::engine")):
            continue
        inside = any(start <= event.time_range.start < end for start, end in optimizer_ranges)
        totals[group_of(event.name, inside)] += event.self_cpu_time_total / 1e3 / PROFILED_STEPS
    return totals


def main():
    torch.set_num_threads(1)
    keep_freed_memory()
    rows, records = [], []
    for (model, make_steps), (batch, length) in itertools.product((("BERT", bert_steps), ("GPT", gpt_steps)), SHAPES):
        steps = make_steps(batch, length, torch.Generator().manual_seed(0), False)
        for name in ("hf", "fused", "eager"):
            totals = profile_step(steps[name])
            total = sum(totals.values())
            records.append({"model": model, "batch": batch, "length": length, "side": name, "ms_per_step": totals})
            rows.append([model, f"({batch}, {length})", {"hf": "Hugging Face", "fused": "ours fused",
                                                         "eager": "ours eager"}[name], f"{total:.0f}",
                         *(f"{totals[g]:.0f} ({100 * totals[g] / total:.0f}%)" for g in GROUPS)])
            print(rows[-1], flush=True)
    markdown = ("# Where a training step's time goes\n\n`bench/step_profile.py`: torch.profiler, self CPU time "
                f"per step (ms, share of the step), mean of {PROFILED_STEPS} steps after {WARMUP}, 1 thread, "
                "bench/train_step.py's configuration, freed memory kept for reuse (no page faults). Profiling "
                "adds its own overhead to every op call, so compare shares and sides within a row group, not "
                "these times with train_step.md's.\n\n"
                + markdown_table(["model", "(batch, length)", "side", "total", *GROUPS], rows))
    write_results("train_step_profile", {"machine": machine_info(), "runs": records}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
