"""`minitransformer demo`: the project's main job, as run by `make demo`.

1. Check every softmax implementation we have — the C++ op, each CUDA kernel version (on the GPU, or
   emulated on the CPU), the hand-written torch version — against the NumPy float64 reference.
2. Benchmark our softmax against torch.softmax (quick sweep) and print the table.
"""

import numpy as np
import torch

from minitransformer.commands import bench
from minitransformer.reference import softmax as ref

CHECK_SHAPES = [(1, 1), (7, 33), (64, 1000), (5, 4097)]


def _implementations():
    """name -> function(x) for every softmax this build can run here."""
    import minitransformer.ops as ops
    impls = {"cpu op (fused)": lambda x: ops.softmax(x), "hand-written torch": lambda x: ops.softmax(
        x, backend="reference")}
    for version in ops.kernel_versions("softmax"):
        if torch.cuda.is_available() and ops.HAS_CUDA_KERNELS:
            impls[f"cuda v{version}"] = lambda x, v=version: ops.softmax(x.cuda(), version=v).cpu()
        else:
            impls[f"cuda v{version} (emulated)"] = lambda x, v=version: ops.softmax(
                x, backend="emulated", version=v)
    return impls


def check_against_reference(seed=0):
    """Max relative error (‖y − y_ref‖ / ‖y_ref‖) of each implementation over CHECK_SHAPES."""
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape).astype(np.float32) * 10 for shape in CHECK_SHAPES]
    errors = {}
    for name, fn in _implementations().items():
        worst = 0.0
        for x in inputs:
            expected = ref.softmax(x)
            y = fn(torch.from_numpy(x)).numpy()
            worst = max(worst, np.linalg.norm(y - expected) / np.linalg.norm(expected))
        errors[name] = worst
    return errors


def _run(args):
    print("== 1. softmax against the NumPy float64 reference "
          f"(shapes {', '.join(str(s) for s in CHECK_SHAPES)}) ==")
    errors = check_against_reference()
    for name, error in errors.items():
        status = "ok" if error <= 1e-5 else "FAILED"
        print(f"  {name:28s} max relative error {error:.2e}  {status}")
    print("\n== 2. softmax speed against torch.softmax (quick sweep; full: make bench) ==")
    bench.run_script("softmax", ["--quick"])
    return 0 if all(e <= 1e-5 for e in errors.values()) else 1


def register(subparsers):
    parser = subparsers.add_parser("demo", help="check our kernels against NumPy, then benchmark them",
                                   description=__doc__)
    parser.set_defaults(func=_run)
