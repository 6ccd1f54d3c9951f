"""Attention: our fused op against PyTorch's SDPA and the naive matmul-softmax-matmul, float32; the forward
also in bfloat16 against SDPA in bfloat16.

The argument (after the Triton fused-attention tutorial and FlashAttention, Dao et al. 2022): the
forward does 4·B·H·N²·D FLOPs (two GEMMs of 2·N²·D per head; half of that under a causal mask) and the
backward 2.5 times as many, while an unfused composition also writes and re-reads the B·H·N² score
and probability matrices — 2 GiB each at B=4, H=8, N=4096. A fused kernel keeps them in tiles, so it is
compute-bound and its speed is reported in TFLOP/s next to SDPA's (PyTorch's own CPU flash kernel when
it picks FLASH_ATTENTION; the chosen backend is recorded). In bfloat16 our op widens q, k and v to float32
and runs the float32 kernel; SDPA's CPU flash kernel multiplies bfloat16 tiles with float32 accumulation.

Memory: the profiler (``torch.profiler``, ``profile_memory=True``) logs every CPU-allocator allocation
and free with the allocator's running total; the peak of that total during one call, minus the output's
own bytes, is the call's *extra* memory (on CUDA: the caching allocator's peak above what was allocated before).

With --device cuda every version of the kernel ladder is first checked against the NumPy float64 reference
(bench/cuda_checks.py), in float32 and in bfloat16; the forward of each version that passes is timed beside
the op, with CUDA events.

Usage: python bench/attention.py [--quick] [--repeats R] [--device cpu|cuda]
Writes bench/results/attention_<device>.{json,md,png} (``attention_<device>_quick.*`` with --quick).
"""

import argparse
import json
import os
import sys
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (RESULTS_DIR, machine_info, markdown_table, native_stderr_silenced, time_interleaved,  # noqa: E402
                    write_results)
from cuda_checks import check_device, versions_to_time  # noqa: E402

import minitransformer.ops as ops  # noqa: E402

BATCH, HEADS, HEAD_DIM = 4, 8, 64
SIZES = [256, 512, 1024, 2048, 4096]
QUICK_SIZES = [256, 1024]
NAIVE_BACKWARD_MAX_N = 1024  # autograd of the naive composition keeps B·H·N² matrices alive
REPEATS = {256: 30, 512: 20, 1024: 12, 2048: 6, 4096: 4}


def naive_attention(q, k, v, causal, causal_mask):
    """softmax(Q K^T / sqrt(D)) V with the full score matrix, the unfused baseline."""
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B, H, N, N)
    if causal:
        scores.masked_fill_(causal_mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def forward_candidates(q, k, v, causal, causal_mask, versions=()):
    """name -> forward call; ``versions``: the CUDA rungs to time beside the op's own choice."""
    functions = {
        "ours": lambda: ops.attention(q, k, v, causal=causal),
        "sdpa": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
        "naive": lambda: naive_attention(q, k, v, causal, causal_mask),
    }
    for version in versions:
        functions[f"v{version}"] = lambda v_=version: ops.attention(q, k, v, causal=causal, version=v_)
    return functions


def backward_candidates(q, k, v, grad, causal, causal_mask, with_naive):
    functions = {
        "ours": lambda: ops.attention(q, k, v, causal=causal).backward(grad),
        "sdpa": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal).backward(grad),
    }
    if with_naive:
        functions["naive"] = lambda: naive_attention(q, k, v, causal, causal_mask).backward(grad)
    return functions


def peak_extra_bytes(fn, output_bytes, device):
    """Peak allocator bytes during fn() minus the output's bytes (see the module docstring)."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before - output_bytes
    from torch.profiler import ProfilerActivity, profile
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    totals = [e["args"]["Total Allocated"] for e in events if e.get("name") == "[memory]"]
    return max(totals, default=0) - output_bytes


def flops(n, causal, backward):
    forward = 4 * BATCH * HEADS * n * n * HEAD_DIM / (2 if causal else 1)
    return forward * (3.5 if backward else 1.0)


def measure_point(n, causal, repeats, device="cpu", versions=()):
    q, k, v = (torch.randn(BATCH, HEADS, n, HEAD_DIM, device=device) for _ in range(3))
    causal_mask = torch.ones(n, n, dtype=torch.bool, device=device).triu(1)
    sdpa_backend = torch.nn.attention.SDPBackend(torch._fused_sdp_choice(q, k, v, is_causal=causal)).name
    forward = time_interleaved(forward_candidates(q, k, v, causal, causal_mask, versions), repeats=repeats, warmup=1,
                               device=device)
    output_bytes = q.numel() * q.element_size()
    memory = {name: peak_extra_bytes(fn, output_bytes, device)
              for name, fn in forward_candidates(q, k, v, causal, causal_mask).items()}
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
    grad = torch.randn_like(q)
    both = time_interleaved(backward_candidates(qg, kg, vg, grad, causal, causal_mask, n <= NAIVE_BACKWARD_MAX_N),
                            repeats=max(3, repeats // 2), warmup=1, device=device)
    point = {"n": n, "causal": causal, "sdpa_backend": sdpa_backend,
             "forward_seconds": forward, "forward_backward_seconds": both, "extra_bytes": memory}
    point["forward_tflops"] = {name: flops(n, causal, False) / s / 1e12 for name, s in forward.items()}
    point["forward_backward_tflops"] = {name: flops(n, causal, True) / s / 1e12 for name, s in both.items()}
    half = [t.bfloat16() for t in (q, k, v)]
    point["bfloat16_forward_seconds"] = time_interleaved(
        {name: fn for name, fn in forward_candidates(*half, causal, causal_mask).items() if name != "naive"},
        repeats=repeats, warmup=1, device=device)
    point["bfloat16_forward_ratio_to_sdpa"] = (point["bfloat16_forward_seconds"]["ours"]
                                               / point["bfloat16_forward_seconds"]["sdpa"])
    point["forward_ratio_to_sdpa"] = forward["ours"] / forward["sdpa"]
    point["forward_backward_ratio_to_sdpa"] = both["ours"] / both["sdpa"]
    point["speedup_over_naive"] = forward["naive"] / forward["ours"]
    point["memory_fraction_of_naive"] = memory["ours"] / memory["naive"]
    return point


def run(sizes, repeats=None, device="cpu"):
    versions = versions_to_time("attention") if device == "cuda" else []
    if device == "cuda":
        versions_to_time("attention", torch.bfloat16)  # the op's own rung must pass in bfloat16 to be timed there
    points = []
    for n in sizes:
        for causal in (False, True):
            point = measure_point(n, causal, repeats or REPEATS[n], device, versions)
            points.append(point)
            print(f"  N={n:5d} causal={causal!s:5}  fwd ours/sdpa {point['forward_ratio_to_sdpa']:.3f}  "
                  f"bf16 fwd ours/sdpa {point['bfloat16_forward_ratio_to_sdpa']:.3f}  "
                  f"fwd+bwd ours/sdpa {point['forward_backward_ratio_to_sdpa']:.3f}  "
                  f"naive/ours {point['speedup_over_naive']:.2f}  "
                  f"extra mem ours/naive {point['memory_fraction_of_naive']:.2%}", flush=True)
    return {"device": device, "machine": machine_info(), "checked_cuda_versions": versions, "batch": BATCH,
            "heads": HEADS, "head_dim": HEAD_DIM, "dtypes": ["float32", "bfloat16 (forward)"], "points": points}


def to_markdown(result):
    headers = ["N", "causal", "SDPA backend", "fwd ours ms", "fwd SDPA ms", "fwd naive ms", "fwd ours/SDPA",
               "bf16 fwd ours ms", "bf16 fwd SDPA ms", "bf16 fwd ours/SDPA", "fwd ours TFLOP/s", "fwd SDPA TFLOP/s",
               "fwd+bwd ours ms", "fwd+bwd SDPA ms", "fwd+bwd ours/SDPA", "naive/ours", "extra MiB ours",
               "extra MiB naive"] + [f"fwd v{version} ms" for version in result["checked_cuda_versions"]]
    rows = []
    for p in result["points"]:
        fwd, both, mem = p["forward_seconds"], p["forward_backward_seconds"], p["extra_bytes"]
        half = p["bfloat16_forward_seconds"]
        rows.append([p["n"], p["causal"], p["sdpa_backend"], f"{fwd['ours'] * 1e3:.1f}",
                     f"{fwd['sdpa'] * 1e3:.1f}", f"{fwd['naive'] * 1e3:.1f}",
                     f"{p['forward_ratio_to_sdpa']:.3f}x", f"{half['ours'] * 1e3:.1f}", f"{half['sdpa'] * 1e3:.1f}",
                     f"{p['bfloat16_forward_ratio_to_sdpa']:.3f}x", f"{p['forward_tflops']['ours']:.3f}",
                     f"{p['forward_tflops']['sdpa']:.3f}", f"{both['ours'] * 1e3:.1f}",
                     f"{both['sdpa'] * 1e3:.1f}", f"{p['forward_backward_ratio_to_sdpa']:.3f}x",
                     f"{p['speedup_over_naive']:.2f}x", f"{mem['ours'] / 2**20:.2f}",
                     f"{mem['naive'] / 2**20:.1f}"]
                    + [f"{fwd[f'v{version}'] * 1e3:.2f}" for version in result["checked_cuda_versions"]])
    title = (f"attention, B={result['batch']}, H={result['heads']}, D={result['head_dim']}, float32 (bf16: the "
             f"forward in bfloat16, ratio to SDPA in bfloat16), {result['device']} "
             f"({result['machine']['torch_threads']} threads), median of interleaved repeats; "
             "extra memory = peak allocated during the forward minus the output")
    return f"{title}\n\n" + markdown_table(headers, rows)


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, causal in zip(axes, (False, True)):
        points = [p for p in result["points"] if p["causal"] == causal]
        sizes = [p["n"] for p in points]
        for name in ("ours", "sdpa", "naive"):
            ax.plot(sizes, [p["forward_tflops"][name] for p in points], marker="o", label=f"{name} fwd")
        for name in ("ours", "sdpa"):
            ax.plot(sizes, [p["forward_backward_tflops"][name] for p in points], marker="s", linestyle="--",
                    label=f"{name} fwd+bwd")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("sequence length N")
        ax.set_title(f"{'causal' if causal else 'full'} attention, B=4 H=8 D=64, float32 {result['device']}")
    axes[0].set_ylabel("TFLOP/s (4·B·H·N²·D fwd, /2 causal, ×3.5 fwd+bwd)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 256 and 1024, few repeats")
    parser.add_argument("--repeats", type=int, default=None, help="forward samples per point")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args(argv)
    check_device(parser, args.device)
    result = run(QUICK_SIZES if args.quick else SIZES, args.repeats or (5 if args.quick else None), args.device)
    markdown = to_markdown(result)
    name = f"attention_{args.device}" + ("_quick" if args.quick else "")
    write_results(name, result, markdown)
    plot(result, os.path.join(RESULTS_DIR, f"{name}.png"))
    print(markdown)
    return result


if __name__ == "__main__":
    main()
