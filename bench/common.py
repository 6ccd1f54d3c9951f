"""Shared benchmark helpers: fair timing, ceilings, and writing results (JSON + markdown + PNG).

Timing rules: warm up first, take the median of many repeats, use every thread
(``torch.utils.benchmark.Timer`` defaults to one), and compare implementations *interleaved in the same
run* — on a shared 2-core VM a bare time means little; a ratio measured side by side does.
"""

import argparse
import contextlib
import ctypes
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


@contextlib.contextmanager
def native_stderr_silenced():
    """Send what native code writes to stderr (file descriptor 2) to /dev/null for the block: the profiler's
    C++ layer logs a start and stop line per profile, and a GPU-count error on machines without a GPU."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _time_call(fn, device):
    """Seconds of one call of ``fn``: by the wall clock on the CPU; on CUDA by two CUDA events around the call's
    kernels (the queue is empty before, and the end event is waited for)."""
    if torch.device(device).type != "cuda":
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def interleaved_samples(functions, *, repeats=30, warmup=3, device="cpu", min_seconds=0.0):
    """Seconds of each call of each function in ``functions`` (name -> callable), name -> list, round by round:
    sample i of every function comes from round i.

    The functions are called in turn so that slow phases of a noisy machine hit them alike, and the turn
    rotates each round (a, b, c; b, c, a; c, a, b; …) so that each follows each of the others equally
    often: a function that runs right after one that sweeps the caches (a slow eager baseline) finds
    its inputs evicted, and with a fixed order that penalty would always fall on the same one. Each
    sample times one call, on CUDA with CUDA events after a synchronisation. At least ``repeats``
    rounds, more until ``min_seconds``.
    """
    for _ in range(warmup):
        for fn in functions.values():
            fn()
    _sync(device)
    names = list(functions)
    samples = {name: [] for name in names}
    start, turn = time.perf_counter(), 0
    while min(len(s) for s in samples.values()) < repeats or time.perf_counter() - start < min_seconds:
        for name in names[turn:] + names[:turn]:
            _sync(device)
            samples[name].append(_time_call(functions[name], device))
        turn = (turn + 1) % len(names)
    return samples


def time_interleaved(functions, **options):
    """Median seconds per call of each function in ``functions``, timed by ``interleaved_samples(functions,
    **options)``."""
    return {name: statistics.median(s) for name, s in interleaved_samples(functions, **options).items()}


def paired_ratio(numerator, denominator, *, resamples=2000, seed=0):
    """``(ratio, (low, high))`` for two sample lists of one ``interleaved_samples`` run: the median over
    rounds of numerator[i] / denominator[i] (the two calls of a round ran back to back, so a slow phase of
    the machine lands on both), and a 95% bootstrap interval of that median (rounds resampled with
    replacement, percentiles 2.5 and 97.5)."""
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError(f"paired_ratio needs two equally long, non-empty sample lists, got {len(numerator)} "
                         f"and {len(denominator)}")
    ratios = torch.tensor([a / b for a, b in zip(numerator, denominator)], dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, len(ratios), (resamples, len(ratios)), generator=generator)
    medians = ratios[picks].quantile(0.5, dim=1)
    low, high = medians.quantile(torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return ratios.quantile(0.5).item(), (low, high)


def with_interval(ratio):
    """"0.88 [0.86, 0.90]" for ``paired_ratio``'s (ratio, (low, high))."""
    value, (low, high) = ratio
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def quick_option(doc, argv=None):
    """``(quick, repeats, warmup)`` from a script whose one option is --quick: 5 rounds after 2 warm-ups with
    it (CI-sized), 25 after 3 without. ``doc``: the script's docstring, its --help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 rounds after 2 warm-ups (default 25 after 3)")
    quick = parser.parse_args(argv).quick
    return (quick, 5, 2) if quick else (quick, 25, 3)


def keep_freed_memory():
    """glibc keeps freed memory in the process for reuse: no mmap'd allocation below 1 GiB (those return to
    the kernel when freed) and no trimming of the heap's top."""
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt's parameter numbers (malloc.h)
    if not (libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 2**31 - 1)):
        raise SystemExit("--keep-freed-memory: glibc's mallopt refused the settings")


def counting_page_faults(steps):
    """``(steps, faults)``: each step wrapped to append its minor page faults to ``faults[name]``."""
    faults = {name: [] for name in steps}

    def counted(name, step):
        def run():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            step()
            faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        return run
    return {name: counted(name, step) for name, step in steps.items()}, faults


def copy_bandwidth(numel=64 * 1024 * 1024, repeats=10):
    """Bytes/s of ``dst.copy_(src)`` into a preallocated float32 tensor: the memory ceiling.

    (A ``clone`` would time the page faults of a fresh allocation instead.)
    """
    src = torch.randn(numel)
    dst = torch.empty_like(src)
    seconds = time_interleaved({"copy": lambda: dst.copy_(src)}, repeats=repeats)["copy"]
    return 2 * numel * src.element_size() / seconds


def allocation_floor(numel, repeats=10):
    """Seconds to allocate and first-touch a fresh float32 tensor of ``numel`` (page faults)."""
    return time_interleaved({"alloc": lambda: torch.empty(numel).fill_(0.0)}, repeats=repeats)["alloc"]


def machine_info():
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.uname().machine,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def write_markdown(name, markdown):
    """Write bench/results/<name>.md; return its path."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    md_path = os.path.join(RESULTS_DIR, f"{name}.md")
    with open(md_path, "w") as f:
        f.write(markdown)
    return md_path


def write_results(name, payload, markdown):
    """Write bench/results/<name>.json and .md; return the two paths."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    json_path = os.path.join(RESULTS_DIR, f"{name}.json")
    with open(json_path, "w") as f:
        json.dump(payload, f, indent=2)
    return json_path, write_markdown(name, markdown)


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
