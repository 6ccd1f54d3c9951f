"""Every CUDA kernel version is checked against the NumPy float64 reference before it is timed (the rule of
llm.c's ``dev/cuda/``): a fast wrong kernel must never reach a results table.

:func:`check_versions` runs each version of an op's ladder on a few small cases, forward and backward, and
compares the output and the input gradients with the reference by the relative error
``||got - expected|| / max(||expected||, 1e-6)``; a version passes when the largest error over every case and
tensor is within the tolerance (a NaN fails). ``LADDERS`` holds, per op, the cases, the reference and two ways
to run a version: on CUDA tensors (what the GPU benchmarks check) and under the CUDA emulator on the CPU (what
CI checks, tests/bench/test_cuda_checks.py). Softmax and attention run any rung of their ladder on CUDA
tensors (``version=``); the training ops run only their best rung there, so only that rung is checked and
timed on the GPU. Each check runs in one dtype: float32, or float16 / bfloat16, where the cases' inputs are
first rounded to that dtype (so the reference sees exactly what the kernel sees) and the bound is the dtype's
(``ops.dtypes.TOLERANCE``; attention's tensor-core rungs at least ``TENSOR_CORE_TOLERANCE``).
"""

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
import torch

from minitransformer import ops
from minitransformer.ops import emulated_training
from minitransformer.ops.attention import TENSOR_CORE_TOLERANCE, TENSOR_CORE_VERSIONS
from minitransformer.ops.dtypes import TOLERANCE
from minitransformer.reference import activations, attention, dropout, layernorm, losses, softmax

ERROR_FLOOR = 1e-6  # the norm below which an expected tensor counts as zero


class VersionCheck(NamedTuple):
    version: int
    max_relative_error: float
    passed: bool


@dataclass(frozen=True)
class Case:
    """One input of a check: CPU float32 tensors (the floating-point ones get gradients), the upstream
    gradient of the output, and keyword options shared by the op and its reference."""
    inputs: tuple
    grad_output: torch.Tensor
    options: dict = field(default_factory=dict)


def max_relative_error(got, expected):
    """The largest relative error over pairs of tensors and float64 arrays; inf when a shape differs."""
    errors = []
    for actual, want in zip(got, expected, strict=True):
        actual = actual.detach().cpu().double().numpy()
        if actual.shape != want.shape:
            return math.inf
        errors.append(np.linalg.norm(actual - want) / max(np.linalg.norm(want), ERROR_FLOOR))
    return float(np.max(errors))  # np.max, not max: a NaN anywhere makes the result NaN


def check_versions(op, run_version, reference, cases, tolerance, versions=None):
    """[(version, max relative error, passed)] for each version of ``op``'s ladder (or of ``versions``).

    ``run_version(version, case)`` returns the output and the input gradients; ``reference(case)`` the same as
    float64 arrays; ``tolerance`` is a bound, or a function of the version giving one.
    """
    expected = [reference(case) for case in cases]
    results = []
    for version in ops.kernel_versions(op) if versions is None else versions:
        error = float(np.max([max_relative_error(run_version(version, case), want)
                              for case, want in zip(cases, expected)]))
        bound = tolerance(version) if callable(tolerance) else tolerance
        results.append(VersionCheck(version, error, bool(error <= bound)))
    return results


def runner(forward, device, dtype=torch.float32):
    """``run_version`` for :func:`check_versions`: ``forward(version, *inputs, **options)`` on ``device`` with the
    floating inputs in ``dtype``, then its backward from the case's upstream gradient; returns the output and
    the floating inputs' gradients."""
    def run_version(version, case):
        leaves = [t.to(device, dtype if t.is_floating_point() else None, copy=True)
                  .requires_grad_(t.is_floating_point()) for t in case.inputs]
        out = forward(version, *leaves, **case.options)
        out.backward(case.grad_output.to(device, out.dtype))
        return (out, *(leaf.grad for leaf in leaves if leaf.is_floating_point()))
    return run_version


def rounded(case, dtype):
    """``case`` with its floating tensors rounded to ``dtype`` (and kept in float32): the inputs a kernel in
    ``dtype`` sees, for the float64 reference to see them too."""
    def round_(t):
        return t.to(dtype).to(torch.float32) if t.is_floating_point() else t
    return Case(tuple(round_(t) for t in case.inputs), round_(case.grad_output), case.options)


# --- the ladders: cases, references, and a version run on CUDA tensors or under the emulator ---------------

@dataclass(frozen=True)
class Ladder:
    cases: Callable[[], list]  # () -> [Case]
    reference: Callable  # Case -> (output, gradient of each floating input), float64 arrays
    cuda: Callable  # (version, *inputs, **options) -> output, on CUDA tensors
    emulated: Callable  # the same on CPU tensors, by the CUDA emulator
    any_version_on_cuda: bool = False  # False: the op runs only its best rung on CUDA tensors
    tensor_core_versions: tuple = ()  # rungs that round to half precision inside, whatever the input dtype

    def tolerance(self, version, dtype=torch.float32):
        """The bound on a version's relative error for inputs in ``dtype``."""
        if version in self.tensor_core_versions:
            return max(TOLERANCE[dtype], TENSOR_CORE_TOLERANCE)
        return TOLERANCE[dtype]

    def check(self, op, run, dtype=torch.float32, versions=None):
        """:func:`check_versions` of ``run`` (``runner(self.cuda or self.emulated, device, dtype)``) on the cases
        rounded to ``dtype``, against the dtype's bounds."""
        return check_versions(op, run, self.reference, [rounded(case, dtype) for case in self.cases()],
                              lambda version: self.tolerance(version, dtype), versions)


def _randn(generator, *shape, scale=1.0):
    return torch.randn(shape, generator=generator) * scale


def _numpy(case):
    return [t.double().numpy() if t.is_floating_point() else t.numpy() for t in case.inputs], \
        case.grad_output.double().numpy()


def _softmax_cases():
    g = torch.Generator().manual_seed(0)
    return [Case((_randn(g, rows, cols, scale=3.0),), _randn(g, rows, cols)) for rows, cols in ((9, 70), (4, 300))]


def _softmax_reference(case):
    (x,), grad = _numpy(case)
    y = softmax.softmax(x)
    return y, softmax.softmax_backward(y, grad)


def _attention_cases():
    g = torch.Generator().manual_seed(1)
    cases = []
    for (batch, heads, n_q, n_k, dim), causal in (((1, 2, 37, 45, 24), True), ((2, 1, 33, 70, 16), False)):
        qkv = tuple(_randn(g, batch, heads, n, dim) for n in (n_q, n_k, n_k))
        cases.append(Case(qkv, _randn(g, batch, heads, n_q, dim), {"causal": causal}))
    return cases


def _attention_reference(case):
    (q, k, v), grad = _numpy(case)
    out, lse = attention.attention_forward(q, k, v, **case.options)
    return (out, *attention.attention_backward(q, k, v, out, lse, grad, **case.options))


def _layer_norm_cases():
    g = torch.Generator().manual_seed(2)
    return [Case((_randn(g, rows, width) + 3.0, _randn(g, width), _randn(g, width)), _randn(g, rows, width))
            for rows, width in ((9, 70), (4, 256))]


def _layer_norm_reference(case):
    (x, weight, bias), grad = _numpy(case)
    y, cache = layernorm.layernorm_forward(x, weight, bias)
    return (y, *layernorm.layernorm_backward(grad, cache))


def _bias_gelu_cases():
    g = torch.Generator().manual_seed(3)
    return [Case((_randn(g, 9, 70, scale=2.0), _randn(g, 70)), _randn(g, 9, 70), {"approximate": approximate})
            for approximate in ("none", "tanh")]


def _bias_gelu_reference(case):
    (x, bias), grad = _numpy(case)
    approximate = case.options["approximate"]
    grad_x = activations.gelu_backward(x + bias, grad, approximate)
    return activations.gelu(x + bias, approximate), grad_x, grad_x.sum(axis=0)


def _dropout_cases():
    g = torch.Generator().manual_seed(4)
    return [Case((_randn(g, rows, width), _randn(g, rows, width)), _randn(g, rows, width),
                 {"p": p, "seed": 1234 + rows, "offset": offset})
            for (rows, width), p, offset in (((9, 70), 0.1, 0), ((4, 301), 0.5, 8))]


def _dropout_reference(case):
    (x, residual), grad = _numpy(case)
    p, seed, offset = case.options["p"], case.options["seed"], case.options["offset"]
    return (residual + dropout.dropout_forward(x, p, seed, offset)[0], dropout.dropout_backward(grad, p, seed, offset),
            grad)


def _cross_entropy_cases():
    g = torch.Generator().manual_seed(5)
    cases = []
    for (rows, classes), smoothing in (((9, 70), 0.0), ((5, 1000), 0.1)):
        targets = torch.randint(0, classes, (rows,), generator=g)
        targets[1] = -100  # one ignored row
        cases.append(Case((_randn(g, rows, classes, scale=2.0), targets), _randn(g, rows),
                          {"label_smoothing": smoothing}))
    return cases


def _cross_entropy_reference(case):
    (logits, targets), grad = _numpy(case)
    smoothing = case.options["label_smoothing"]
    losses_ = losses.cross_entropy(logits, targets, label_smoothing=smoothing, reduction="none")
    grad_logits = losses.cross_entropy_backward(logits, targets, label_smoothing=smoothing, reduction="sum")
    return losses_, grad_logits * grad[:, None]


LADDERS = {
    "softmax": Ladder(
        _softmax_cases, _softmax_reference,
        cuda=lambda version, x: ops.softmax(x, -1, version=version),
        emulated=lambda version, x: ops.softmax(x, -1, backend="emulated", version=version),
        any_version_on_cuda=True),
    "attention": Ladder(
        _attention_cases, _attention_reference,
        cuda=lambda version, q, k, v, causal: ops.attention(q, k, v, causal=causal, version=version),
        emulated=lambda version, q, k, v, causal: ops.attention(q, k, v, causal=causal, backend="emulated",
                                                                version=version),
        any_version_on_cuda=True, tensor_core_versions=TENSOR_CORE_VERSIONS),
    "layer_norm": Ladder(
        _layer_norm_cases, _layer_norm_reference,
        cuda=lambda version, x, weight, bias: ops.layer_norm(x, weight, bias),
        emulated=lambda version, x, weight, bias: emulated_training.layer_norm(x, weight, bias, version=version)),
    "bias_gelu": Ladder(
        _bias_gelu_cases, _bias_gelu_reference,
        cuda=lambda version, x, bias, approximate: ops.bias_gelu(x, bias, approximate),
        emulated=lambda version, x, bias, approximate: emulated_training.bias_gelu(x, bias, approximate,
                                                                                   version=version)),
    "dropout": Ladder(
        _dropout_cases, _dropout_reference,
        cuda=lambda version, x, residual, p, seed, offset: ops.dropout_add(x, residual, p, seed=seed, offset=offset),
        emulated=lambda version, x, residual, p, seed, offset: emulated_training.dropout_add(
            x, residual, p, seed, offset, version=version)),
    "cross_entropy": Ladder(
        _cross_entropy_cases, _cross_entropy_reference,
        cuda=lambda version, logits, targets, label_smoothing: ops.cross_entropy(
            logits, targets, label_smoothing=label_smoothing, reduction="none"),
        emulated=lambda version, logits, targets, label_smoothing: emulated_training.cross_entropy(
            logits, targets, label_smoothing=label_smoothing, version=version)),
}


def cuda_versions(op):
    """The versions of ``op``'s ladder that can run on CUDA tensors: every rung, or only the best."""
    versions = ops.kernel_versions(op)
    return versions if LADDERS[op].any_version_on_cuda else versions[-1:]


def check_device(parser, device):
    """A benchmark's ``--device cuda`` that cannot run here ends as a one-line usage error."""
    if device != "cuda":
        return
    if not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU is visible")
    if not ops.HAS_CUDA_KERNELS:
        parser.error("--device cuda: minitransformer was built without its CUDA kernels")


def default_rungs(op):
    """The rungs the op itself runs on CUDA tensors: the best, and for attention the best for float32 (no
    tensor cores) and the best for half precision (the last)."""
    versions = ops.kernel_versions(op)
    if op == "attention":
        return {max(v for v in versions if v not in TENSOR_CORE_VERSIONS), versions[-1]}
    return {versions[-1]}


def versions_to_time(op, dtype=torch.float32):
    """Check ``op`` on the GPU in ``dtype`` (:func:`checked_cuda_versions`) and return the versions that passed;
    when a rung the op runs by default failed, the benchmark stops with one line, since the op itself cannot
    be timed."""
    passed = checked_cuda_versions(op, dtype)
    failed = sorted(default_rungs(op) - set(passed))
    if failed:
        raise SystemExit(f"{op}: the op's own CUDA kernel (v{', v'.join(map(str, failed))}) fails its check "
                         f"in {str(dtype).removeprefix('torch.')} against the float64 reference; nothing is timed")
    return passed


def checked_cuda_versions(op, dtype=torch.float32):
    """Check each version of ``op`` reachable on the GPU, in ``dtype``, print one line per version, and return
    the versions that passed: the only ones a benchmark may time in that dtype."""
    ladder = LADDERS[op]
    results = ladder.check(op, runner(ladder.cuda, "cuda", dtype), dtype, versions=cuda_versions(op))
    name = str(dtype).removeprefix("torch.")
    for version, error, passed in results:
        bound = ladder.tolerance(version, dtype)
        verdict = "checked" if passed else "FAILED, not timed"
        print(f"  {op} v{version} {name}: max relative error {error:.1e} vs the float64 reference "
              f"({'<=' if passed else 'not <='} {bound:.0e}): {verdict}", flush=True)
    return [version for version, _, passed in results if passed]
