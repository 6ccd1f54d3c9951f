"""The checking half of the GPU benchmarks (bench/cuda_checks.py), run in CI through the CUDA emulator:
every version of every ladder passes against the NumPy float64 reference, a wrong version is reported as
failing (and so never timed), and ``--device cuda`` on a machine without a GPU is a one-line usage error."""

import importlib.util
import pathlib
import runpy

import numpy as np
import pytest
import torch

from minitransformer import ops
from minitransformer.ops.emulated import KERNEL_DTYPES

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
_spec = importlib.util.spec_from_file_location("cuda_checks", BENCH / "cuda_checks.py")
cuda_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cuda_checks)

OPS = sorted(cuda_checks.LADDERS)


DTYPES = KERNEL_DTYPES  # every CUDA kernel's


def check_emulated(op, run_version=None, dtype=torch.float32):
    ladder = cuda_checks.LADDERS[op]
    return ladder.check(op, run_version or cuda_checks.runner(ladder.emulated, "cpu", dtype), dtype)


def test_every_op_with_a_ladder_has_checks():
    assert set(OPS) == {"softmax", "attention", "dropout", "layer_norm", "bias_gelu", "cross_entropy"}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_every_emulated_version_passes(op, dtype):
    results = check_emulated(op, dtype=dtype)
    assert [version for version, _, _ in results] == list(ops.kernel_versions(op))
    for version, error, passed in results:
        assert passed, f"{op} v{version} {dtype}: max relative error {error:.1e}"
        assert 0.0 <= error <= cuda_checks.LADDERS[op].tolerance(version, dtype)


def test_a_half_precision_check_sees_the_rounded_inputs_and_the_dtype_bound():
    case = cuda_checks.LADDERS["softmax"].cases()[0]
    rounded = cuda_checks.rounded(case, torch.bfloat16)
    assert rounded.inputs[0].dtype == torch.float32
    assert torch.equal(rounded.inputs[0], case.inputs[0].bfloat16().float())
    assert not torch.equal(rounded.inputs[0], case.inputs[0])
    ladder = cuda_checks.LADDERS["attention"]
    assert ladder.tolerance(1, torch.bfloat16) == 2e-2 and ladder.tolerance(1) == 1e-5
    for version in cuda_checks.TENSOR_CORE_VERSIONS:
        assert ladder.tolerance(version) == cuda_checks.TENSOR_CORE_TOLERANCE


def one_wrong_version(op, wrong, scale):
    """A run_version that runs the emulated kernels, except that version ``wrong`` returns the reference plus
    noise of ``scale`` relative to each tensor's largest value: a kernel that is fast and wrong."""
    ladder = cuda_checks.LADDERS[op]
    emulated = cuda_checks.runner(ladder.emulated, "cpu")
    generator = np.random.default_rng(0)

    def run_version(version, case):
        if version != wrong:
            return emulated(version, case)
        return tuple(torch.from_numpy(want + scale * np.abs(want).max() * generator.standard_normal(want.shape))
                     for want in ladder.reference(case))
    return run_version


@pytest.mark.parametrize("op", ["softmax", "cross_entropy"])
def test_a_wrong_version_is_reported_as_failing(op):
    versions = ops.kernel_versions(op)
    results = check_emulated(op, one_wrong_version(op, versions[0], 1e-3))
    assert [passed for _, _, passed in results] == [False] + [True] * (len(versions) - 1)
    assert results[0].max_relative_error > 1e-4


def test_a_nan_or_a_wrong_shape_fails():
    reference = cuda_checks.LADDERS["softmax"].reference

    def nan(version, case):
        return tuple(torch.full(want.shape, float("nan")) for want in reference(case))

    def flat(version, case):
        return tuple(torch.from_numpy(want.ravel()) for want in reference(case))

    for run_version in (nan, flat):
        assert not any(passed for _, _, passed in check_emulated("softmax", run_version))


def test_only_the_best_training_op_rung_is_reachable_on_cuda():
    assert cuda_checks.cuda_versions("softmax") == ops.kernel_versions("softmax")
    assert cuda_checks.cuda_versions("layer_norm") == ops.kernel_versions("layer_norm")[-1:]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
@pytest.mark.parametrize("script", ["softmax.py", "attention.py", "training_ops.py"])
def test_device_cuda_without_a_gpu_is_a_one_line_usage_error(script, capsys):
    main = runpy.run_path(str(BENCH / script), run_name="bench")["main"]
    with pytest.raises(SystemExit) as exit_info:
        main(["--device", "cuda"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--device cuda: no CUDA GPU is visible")


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_every_version_reachable_on_the_gpu_passes(op, dtype):
    assert cuda_checks.checked_cuda_versions(op, dtype) == list(cuda_checks.cuda_versions(op))
