"""The kernel ladders have one source, csrc/kernels/<op>_ladder.cuh: the versions the extension reports
(``ops.kernel_versions``) are exactly the csrc/kernels/<op>_v<k>.cuh files, and a version outside the
ladder is a clear error, naming the valid versions, on every path that takes one."""

import pathlib
import re
import subprocess
import sys

import pytest
import torch

from minitransformer import ops
from minitransformer.ops import emulated, emulated_training
from minitransformer.ops.attention import CUDA_VERSIONS as ATTENTION_VERSIONS
from minitransformer.ops.attention import TENSOR_CORE_VERSIONS
from minitransformer.ops.softmax import CUDA_VERSIONS as SOFTMAX_VERSIONS

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNELS = ROOT / "csrc" / "kernels"
_ops = torch.ops.minitransformer


def rung_files():
    """{op: (k, …)}: the k of every csrc/kernels/<op>_v<k>.cuh, sorted; () for an <op>_ladder.cuh with none."""
    rungs = {path.name.removesuffix("_ladder.cuh"): [] for path in KERNELS.glob("*_ladder.cuh")}
    for path in KERNELS.glob("*.cuh"):
        match = re.fullmatch(r"(\w+)_v(\d+)\.cuh", path.name)
        if match:
            rungs.setdefault(match[1], []).append(int(match[2]))
    return {op: tuple(sorted(versions)) for op, versions in rungs.items()}


def ops_with_a_ladder():
    """The ops the extension has a ladder for, read from kernel_versions' error for an unknown op."""
    with pytest.raises(ValueError, match="unknown op 'no-such-op'") as error:
        ops.kernel_versions("no-such-op")
    return set(str(error.value).splitlines()[0].split("the ops with a kernel ladder: ")[1].split(", "))


def test_the_extension_reports_exactly_the_rung_files():
    files = rung_files()
    assert ops_with_a_ladder() == set(files), "an op has rung files but no ladder in the extension, or the reverse"
    for op, versions in files.items():
        assert ops.kernel_versions(op) == versions, \
            f"csrc/kernels/{op}_ladder.cuh lists {ops.kernel_versions(op)}; the {op}_v<k>.cuh files are {versions}"


def test_the_python_constants_are_the_extensions_lists():
    assert SOFTMAX_VERSIONS == emulated.SOFTMAX_VERSIONS == ops.kernel_versions("softmax")
    assert ATTENTION_VERSIONS == ops.kernel_versions("attention")
    assert set(TENSOR_CORE_VERSIONS) < set(ATTENTION_VERSIONS)  # the float32 default needs a rung without
    assert emulated_training.DROPOUT_VERSIONS == ops.kernel_versions("dropout")
    assert emulated_training.LAYER_NORM_VERSIONS == ops.kernel_versions("layer_norm")
    assert emulated_training.BIAS_GELU_VERSIONS == ops.kernel_versions("bias_gelu")
    assert emulated_training.CROSS_ENTROPY_VERSIONS == ops.kernel_versions("cross_entropy")


def _softmax_calls(version):
    x = torch.randn(2, 5)
    return [(ValueError, lambda: ops.softmax(x, backend="emulated", version=version)),
            (ValueError, lambda: emulated.softmax(x, version=version)),
            (RuntimeError, lambda: _ops.emulated_softmax(x, -1, version, "forward", 0, "fibers"))]


def _attention_calls(version):
    q = torch.randn(1, 1, 4, 8)
    return [(ValueError, lambda: ops.attention(q, q, q, backend="emulated", version=version)),
            (RuntimeError, lambda: _ops.emulated_attention_forward(q, q, q, False, None, None, version, "forward",
                                                                   0, "fibers"))]


def _training_op_calls(op):
    """The emulated training op ``op``'s Python face and its raw op, each given only a version."""
    x, w, targets = torch.randn(2, 5), torch.ones(5), torch.tensor([0, 1])
    face = {"dropout": lambda v: emulated_training.dropout_add(x, None, 0.5, 1, version=v),
            "layer_norm": lambda v: emulated_training.layer_norm(x, w, w, version=v),
            "bias_gelu": lambda v: emulated_training.bias_gelu(x, w, version=v),
            "cross_entropy": lambda v: emulated_training.cross_entropy(x, targets, version=v)}[op]
    raw = {"dropout": lambda v: _ops.emulated_dropout_add(x, None, 0.5, 1, 0, v, "forward", 0, "fibers"),
           "layer_norm": lambda v: _ops.emulated_layer_norm_forward(x, w, w, 1e-5, v, "forward", 0, "fibers"),
           "bias_gelu": lambda v: _ops.emulated_bias_gelu_forward(x, w, "none", v, "forward", 0, "fibers"),
           "cross_entropy": lambda v: _ops.emulated_cross_entropy_forward(x, targets, -100, 0.0, v, "forward", 0,
                                                                          "fibers")}[op]
    return lambda version: [(ValueError, lambda: face(version)), (RuntimeError, lambda: raw(version))]


TRAINING_OPS = ["dropout", "layer_norm", "bias_gelu", "cross_entropy"]


def _cuda_calls(op, version):
    if op == "softmax":
        return [(RuntimeError, lambda: _ops.softmax_kernel(torch.randn(2, 5, device="cuda"), -1, version))]
    q = torch.randn(1, 1, 4, 16, device="cuda")
    return [(RuntimeError, lambda: _ops.attention_kernel(q, q, q, False, None, None, version))]


def _check_error_names_the_ladder(op, calls, version):
    versions = ops.kernel_versions(op)
    for error_type, call in calls:
        with pytest.raises(error_type, match=f"version must be one of .*got {version}") as error:
            call()
        message = str(error.value)
        assert str(versions) in message or str(list(versions)) in message, message


@pytest.mark.parametrize("op, calls", [("softmax", _softmax_calls), ("attention", _attention_calls)]
                         + [(op, _training_op_calls(op)) for op in TRAINING_OPS])
def test_a_version_outside_the_ladder_is_an_error_naming_the_valid_ones(op, calls):
    for version in (0, ops.kernel_versions(op)[-1] + 1):
        _check_error_names_the_ladder(op, calls(version), version)


@pytest.mark.cuda
@pytest.mark.parametrize("op", ["softmax", "attention"])
def test_a_cuda_kernel_outside_the_ladder_is_an_error_naming_the_valid_ones(op):
    version = ops.kernel_versions(op)[-1] + 1
    _check_error_names_the_ladder(op, _cuda_calls(op, version), version)


def test_without_the_extension_python_imports_and_ops_says_it_is_not_built():
    code = """
import sys
sys.modules["minitransformer._C"] = None  # as if it were not built
import minitransformer.nn
from minitransformer.nn.backends import resolve_backend
assert resolve_backend("auto") == "eager"
try:
    from minitransformer.ops import kernel_versions
except ImportError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "minitransformer's C++ extension is not built" in result.stdout
