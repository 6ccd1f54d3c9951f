"""Softmax: our fused op against torch.softmax, rows = 4096, cols = 128 … 16384, float32 and bfloat16.

The argument (after the Triton fused-softmax tutorial): softmax is memory-bound. An ideal kernel reads
x once and writes y once, 2 · numel · 4 bytes, so its speed is reported in GB/s against the machine's
copy bandwidth (``dst.copy_(src)`` into a preallocated tensor). On CPU a second floor matters: every call
allocates a fresh output, and first-touch page faults of a large tensor cost more than the arithmetic
(about 30 ms for 64 MiB on our VMs), so the time to allocate and fill an output of the same size is reported too.
Each size is also timed in bfloat16 (our op widens each row to float32, in cache on the CPU and in registers on
the GPU, and rounds the output once), as ours / torch in bfloat16.

Usage: python bench/softmax.py [--quick] [--device cpu|cuda]
With --device cuda every version of the kernel ladder is first checked against the NumPy float64 reference
(bench/cuda_checks.py), in float32 and in bfloat16; only the versions that pass are timed, with CUDA events.
Writes bench/results/softmax_<device>.{json,md,png}. Run it with THP_MEM_ALLOC_ENABLE=1 to put
PyTorch's allocator on huge pages too (results then go to softmax_<device>_thp.*): what remains is the
difference in the kernels themselves.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (RESULTS_DIR, allocation_floor, copy_bandwidth, machine_info,  # noqa: E402
                    markdown_table, time_interleaved, write_results)
from cuda_checks import check_device, versions_to_time  # noqa: E402

import minitransformer.ops as ops  # noqa: E402

ROWS = 4096
COLS = [128, 256, 512, 1024, 2048, 4096, 8192, 16384]
QUICK_COLS = [128, 1024, 4096]
HALF_DTYPE = torch.bfloat16  # the lower-precision dtype timed beside float32


def candidates(x, versions):
    """name -> zero-argument callable, all computing softmax(x, -1); ``versions``: the CUDA rungs to time."""
    functions = {"torch": lambda: torch.softmax(x, -1), "ours": lambda: ops.softmax(x, -1)}
    for version in versions:
        functions[f"v{version}"] = lambda v=version: ops.softmax(x, -1, version=v)
    return functions


def run(device="cpu", rows=ROWS, cols_list=COLS, repeats=25):
    versions = versions_to_time("softmax") if device == "cuda" else []
    if device == "cuda":
        versions_to_time("softmax", HALF_DTYPE)  # the op's own rung must pass in bfloat16 before it is timed there
    ceiling = copy_bandwidth() if device == "cpu" else None
    points = []
    for cols in cols_list:
        x = torch.randn(rows, cols, device=device)
        bytes_moved = 2 * x.numel() * x.element_size()
        seconds = time_interleaved(candidates(x, versions), repeats=repeats, device=device)
        point = {"rows": rows, "cols": cols, "seconds": seconds,
                 "gb_per_s": {name: bytes_moved / s / 1e9 for name, s in seconds.items()},
                 "ratio_to_torch": {name: s / seconds["torch"] for name, s in seconds.items()}}
        if device == "cpu":
            point["allocation_floor_seconds"] = allocation_floor(x.numel(), repeats=repeats)
        half = x.to(HALF_DTYPE)
        half_seconds = time_interleaved({"torch": lambda: torch.softmax(half, -1),
                                         "ours": lambda: ops.softmax(half, -1)}, repeats=repeats, device=device)
        point["half"] = {"dtype": str(half.dtype).removeprefix("torch."), "seconds": half_seconds,
                         "ratio_to_torch": half_seconds["ours"] / half_seconds["torch"]}
        points.append(point)
        half_note = f"  {point['half']['dtype']} ours/torch = {point['half']['ratio_to_torch']:.3f}"
        print(f"  cols={cols:6d}  ours/torch = {point['ratio_to_torch']['ours']:.3f}{half_note}", flush=True)
    return {"device": device, "machine": machine_info(), "checked_cuda_versions": versions,
            "copy_bandwidth_bytes_per_s": ceiling,
            "torch_huge_pages": os.environ.get("THP_MEM_ALLOC_ENABLE") == "1",
            "repeats": repeats, "points": points}


def to_markdown(result):
    ceiling = result["copy_bandwidth_bytes_per_s"]
    names = list(result["points"][0]["seconds"])
    headers = ["cols"] + [f"{n} ms" for n in names] + ["ours / torch", "ours GB/s"]
    if ceiling:
        headers += ["ours / copy bw", "alloc floor ms"]
    half = result["points"][0].get("half")
    if half:
        headers += [f"{half['dtype']} {n} ms" for n in ("ours", "torch")] + [f"{half['dtype']} ours / torch"]
    rows = []
    for p in result["points"]:
        row = [p["cols"]] + [f"{p['seconds'][n] * 1e3:.2f}" for n in names]
        row += [f"{p['ratio_to_torch']['ours']:.2f}x", f"{p['gb_per_s']['ours']:.1f}"]
        if ceiling:
            row += [f"{p['gb_per_s']['ours'] * 1e9 / ceiling:.0%}",
                    f"{p['allocation_floor_seconds'] * 1e3:.2f}"]
        if half:
            row += [f"{p['half']['seconds'][n] * 1e3:.2f}" for n in ("ours", "torch")]
            row += [f"{p['half']['ratio_to_torch']:.2f}x"]
        rows.append(row)
    dtypes = "float32" + (f" and {half['dtype']} (ratio to torch in the same dtype)" if half else "")
    title = (f"softmax, {result['points'][0]['rows']} rows, {dtypes}, {result['device']} "
             f"({result['machine']['torch_threads']} threads), median of {result['repeats']}")
    if ceiling:
        title += f"; copy bandwidth {ceiling / 1e9:.1f} GB/s"
    if result["torch_huge_pages"]:
        title += "; THP_MEM_ALLOC_ENABLE=1 (torch's allocator on huge pages too)"
    return f"{title}\n\n" + markdown_table(headers, rows)


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [p["cols"] for p in result["points"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in result["points"][0]["gb_per_s"]:
        ax.plot(cols, [p["gb_per_s"][name] for p in result["points"]], marker="o", label=name)
    if result["copy_bandwidth_bytes_per_s"]:
        ax.axhline(result["copy_bandwidth_bytes_per_s"] / 1e9, color="grey", linestyle="--",
                   label="copy bandwidth")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("columns (row length)")
    ax.set_ylabel("GB/s  (2 · numel · 4 bytes / time)")
    ax.set_title(f"softmax, {result['points'][0]['rows']} rows, float32, {result['device']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="3 sizes, fewer repeats (for the demo)")
    parser.add_argument("--repeats", type=int, default=None, help="samples per point (default 25; 7 quick)")
    args = parser.parse_args(argv)
    check_device(parser, args.device)
    repeats = args.repeats or (7 if args.quick else 25)
    result = run(args.device, cols_list=QUICK_COLS if args.quick else COLS, repeats=repeats)
    markdown = to_markdown(result)
    name = f"softmax_{args.device}" + ("_thp" if result["torch_huge_pages"] else "") + \
        ("_quick" if args.quick else "")
    write_results(name, result, markdown)
    plot(result, os.path.join(RESULTS_DIR, f"{name}.png"))
    print(markdown)
    return result


if __name__ == "__main__":
    main()
