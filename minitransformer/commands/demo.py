"""`minitransformer demo`: the project's main job, as run by `make demo`.

1. The paradigm (recipes/demo.py): a minute of live pre-training (the masked-LM loss falls), then the
   shipped pre-trained BERT, the same model from scratch and TF-IDF + logistic regression fine-tuned on the
   same 500 TREC questions with 3 seeds, and the gain with its 95% interval (the full measurement with
   every task and budget is bench/pretrain_finetune.py).
2. Check every implementation of our ops (softmax, attention) — the C++ op, each CUDA kernel version
   (on the GPU, or emulated on the CPU), the hand-written torch version — against the NumPy float64
   references.
3. Benchmark softmax against torch.softmax and attention against SDPA (quick sweeps); print the tables.
"""

from pathlib import Path

import numpy as np
import torch

from minitransformer.commands import bench
from minitransformer.nn.attention import scaled_dot_product_attention
from minitransformer.nn.softmax import softmax as eager_softmax
from minitransformer.reference import attention as ref_attention
from minitransformer.reference import softmax as ref_softmax
from minitransformer.recipes import demo as paradigm

SOFTMAX_SHAPES = [(1, 1), (7, 33), (64, 1000), (5, 4097)]
# (B, H, N_q, N_k, D, causal): N = 1, ragged tiles, N_q != N_k, D not a power of two.
ATTENTION_CASES = [(1, 1, 1, 1, 16, False), (2, 2, 70, 70, 24, True), (1, 2, 33, 95, 64, False)]


def _eager_attention(q, k, v, causal=False):
    return scaled_dot_product_attention(q, k, v, is_causal=causal, backend="eager")


# float32 against float64; the tensor-core rungs round to float16 (minitransformer/ops/attention.py).
TOLERANCE = 1e-5
EAGER = {"softmax": eager_softmax, "attention": _eager_attention}  # the hand-written torch versions (nn/)


def _variants(op, versions):
    """name -> (function, its keyword arguments, whether inputs go to the GPU, its tolerance)."""
    import minitransformer.ops as ops
    from minitransformer.ops.attention import TENSOR_CORE_TOLERANCE, TENSOR_CORE_VERSIONS
    fn = getattr(ops, op)
    variants = {"cpu op (fused)": (fn, {}, False, TOLERANCE), "hand-written torch": (EAGER[op], {}, False, TOLERANCE)}
    on_gpu = torch.cuda.is_available() and ops.HAS_CUDA_KERNELS
    for version in versions:
        tolerance = TENSOR_CORE_TOLERANCE if op == "attention" and version in TENSOR_CORE_VERSIONS else TOLERANCE
        if on_gpu:
            variants[f"cuda v{version}"] = (fn, {"version": version}, True, tolerance)
        else:
            variants[f"cuda v{version} (emulated)"] = (fn, {"backend": "emulated", "version": version}, False,
                                                       tolerance)
    return variants


def _worst_error(fn, cases, kwargs, to_gpu):
    """Max relative error ‖y − y_ref‖ / ‖y_ref‖ of fn(*inputs, **kwargs) over (inputs, expected) cases."""
    worst = 0.0
    for inputs, options, expected in cases:
        tensors = [torch.from_numpy(a).cuda() if to_gpu else torch.from_numpy(a) for a in inputs]
        y = fn(*tensors, **options, **kwargs).cpu().numpy()
        worst = max(worst, np.linalg.norm(y - expected) / max(np.linalg.norm(expected), 1e-30))
    return worst


def check_against_reference(seed=0):
    """{op: {implementation: (max relative error, tolerance)}} against the NumPy float64 references."""
    import minitransformer.ops as ops
    rng = np.random.default_rng(seed)
    softmax_cases = []
    for shape in SOFTMAX_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32) * 10
        softmax_cases.append(((x,), {}, ref_softmax.softmax(x)))
    attention_cases = []
    for batch, heads, n_q, n_k, dim, causal in ATTENTION_CASES:
        q, k, v = (rng.standard_normal((batch, heads, n, dim)).astype(np.float32) for n in (n_q, n_k, n_k))
        expected = ref_attention.attention_forward(q, k, v, causal=causal)[0]
        attention_cases.append(((q, k, v), {"causal": causal}, expected))
    errors = {}
    for op, cases in [("softmax", softmax_cases), ("attention", attention_cases)]:
        errors[op] = {name: (_worst_error(fn, cases, kwargs, to_gpu), tolerance)
                      for name, (fn, kwargs, to_gpu, tolerance) in _variants(op, ops.kernel_versions(op)).items()}
    return errors


def _run(args):
    if not args.skip_experiment:
        print("== 1. does pre-training pay? pre-train, then fine-tune with few labels ==")
        paradigm.run(Path(args.work))
    print("== 2. our kernels against the NumPy float64 references ==")
    errors = check_against_reference()
    for op, by_name in errors.items():
        for name, (error, tolerance) in by_name.items():
            status = "ok" if error <= tolerance else "FAILED"
            print(f"  {op:10s} {name:28s} max relative error {error:.2e} (tolerance {tolerance:.0e})  {status}")
    print("\n== 3. speed against PyTorch, measured side by side (quick sweeps; full: make bench) ==")
    bench.run_script("softmax", ["--quick"])
    bench.run_script("attention", ["--quick"])
    return 0 if all(e <= tolerance for by_name in errors.values() for e, tolerance in by_name.values()) else 1


def register(subparsers):
    parser = subparsers.add_parser("demo", description=__doc__,
                                   help="pre-train, fine-tune with few labels, then check and time our kernels")
    parser.add_argument("--skip-experiment", action="store_true", help="only the kernel checks and benchmark")
    parser.add_argument("--work", default="runs/demo", help="where the demo's live pre-training run goes")
    parser.set_defaults(func=_run)
