"""The CUDA layer-norm ladder (csrc/kernels/layer_norm_v*.cuh) run by the CUDA emulator, forward and backward,
every version in every resume order, against the NumPy float64 reference: one row, one column, widths that
are not multiples of the 32 lanes of a warp, row counts that are not multiples of a block's rows, large
values; the parameter gradients the same bits in every order. In float16 and bfloat16 (computed in float32,
mean and rstd float32) within helpers.TOLERANCE[dtype] against the reference on the same rounded inputs."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops import emulated_training
from minitransformer.ops.emulated import ORDERS
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from helpers import TOLERANCE, relative_error

_ops = torch.ops.minitransformer
VERSIONS = ops.kernel_versions("layer_norm")
EPS = 1e-5

# (shape, scale, shift) of x: 33 and 70 columns are ragged against a warp, 9 and 37 rows against 8 rows a block.
CASES = [((1, 1), 1.0, 0.0), ((1, 37), 1.0, 0.0), ((37, 1), 1.0, 0.0), ((9, 70), 1.0, 3.0), ((2, 3, 33), 1.0, 0.0),
         ((5, 64), 1e4, 0.0)]


def make_case(shape, scale, shift, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator) * scale + shift
    weight, bias = (torch.randn(shape[-1], generator=generator) for _ in range(2))
    grad_y = torch.randn(shape, generator=generator)
    return x, weight, bias, grad_y


def reference(x, weight, bias, grad_y):
    x64 = x.double().numpy()
    y, cache = layernorm_forward(x64, weight.double().numpy(), bias.double().numpy(), EPS)
    return y, x64.mean(axis=-1), cache[1][..., 0], layernorm_backward(grad_y.double().numpy(), cache)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_of_every_version_in_every_order(version, order, case):
    x, weight, bias, grad_y = make_case(*case, seed=version)
    ref_y, ref_mean, ref_rstd, ref_grads = reference(x, weight, bias, grad_y)
    y, mean, rstd = _ops.emulated_layer_norm_forward(x, weight, bias, EPS, version, order, 7, "fibers")
    for got, expected in ((y, ref_y), (mean, ref_mean), (rstd, ref_rstd)):
        assert got.shape == expected.shape
        assert relative_error(got, expected, floor=1.0) < TOLERANCE[torch.float32]
    grads = _ops.emulated_layer_norm_backward(grad_y, x, weight, mean, rstd, version, order, 7, "fibers")
    # dx is a difference of terms of size rstd |dy gamma|; with one column they cancel exactly, in float32 to
    # within the terms' rounding (rstd = 1/sqrt(eps) ~ 316 there): the error is measured against that size.
    floor = max(1.0, float(np.abs(ref_rstd).max()))
    for got, expected in zip(grads, ref_grads):
        assert torch.isfinite(got).all()
        assert relative_error(got, expected, floor=floor) < TOLERANCE[torch.float32]


# Half-precision cases: one row, one column, widths ragged against a warp, rows ragged against a block.
HALF_CASES = [((1, 37), 1.0, 0.0), ((37, 1), 1.0, 0.0), ((9, 70), 1.0, 3.0), ((2, 3, 33), 1.0, 0.0)]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case_index", range(len(HALF_CASES)))
def test_half_forward_and_backward_of_every_version(case_index, version, dtype, error_report):
    """y and the gradients in the input's dtype, mean and rstd float32 (to float32 accuracy): the first case in
    every resume order, the others shuffled."""
    x, weight, bias, grad_y = (t.to(dtype) for t in make_case(*HALF_CASES[case_index], seed=version))
    ref_y, ref_mean, ref_rstd, ref_grads = reference(x, weight, bias, grad_y)
    floor = max(1.0, float(np.abs(ref_rstd).max()))  # as in the float32 test
    name = f"layer_norm_v{version} {str(dtype).removeprefix('torch.')}"
    for order in ORDERS if case_index == 0 else ("shuffle",):
        y, mean, rstd = _ops.emulated_layer_norm_forward(x, weight, bias, EPS, version, order, 7, "fibers")
        assert y.dtype == dtype and mean.dtype == rstd.dtype == torch.float32
        error = relative_error(y, ref_y, floor=1.0)
        error_report(name, error)
        assert error < TOLERANCE[dtype]
        for got, expected in ((mean, ref_mean), (rstd, ref_rstd)):
            assert relative_error(got, expected, floor=1.0) < TOLERANCE[torch.float32]
        grads = _ops.emulated_layer_norm_backward(grad_y, x, weight, mean, rstd, version, order, 7, "fibers")
        for grad_name, got, expected in zip(("dx", "dweight", "dbias"), grads, ref_grads):
            assert got.dtype == dtype and torch.isfinite(got).all()
            error = relative_error(got, expected, floor=floor)
            error_report(f"{name} backward {grad_name}", error)
            assert error < TOLERANCE[dtype]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_parameter_gradients_are_the_same_bits_in_every_order(version):
    x, weight, bias, grad_y = make_case((45, 40), 1.0, 0.0, seed=3)
    _, mean, rstd = _ops.emulated_layer_norm_forward(x, weight, bias, EPS, version, "forward", 0, "fibers")
    runs = [_ops.emulated_layer_norm_backward(grad_y, x, weight, mean, rstd, version, order, 11, "fibers")
            for order in ORDERS]
    for run in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(run, runs[0]))


@settings(max_examples=8)
@given(st.integers(1, 20), st.integers(1, 80), st.sampled_from(VERSIONS), st.integers(0, 100))
def test_random_shapes_with_autograd(rows, cols, version, seed):
    x, weight, bias, grad_y = make_case((rows, cols), 1.0, 0.0, seed)
    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
    y = emulated_training.layer_norm(*leaves, EPS, version=version, order="shuffle", order_seed=seed)
    y.backward(grad_y)
    ref_y, _, _, ref_grads = reference(x, weight, bias, grad_y)
    assert relative_error(y.detach(), ref_y, floor=1.0) < TOLERANCE[torch.float32]
    for leaf, expected in zip(leaves, ref_grads):
        assert relative_error(leaf.grad, expected, floor=1.0) < TOLERANCE[torch.float32]


def test_thread_scheduler_and_an_empty_batch():
    x, weight, bias, grad_y = make_case((10, 40), 1.0, 0.0, seed=5)
    ref_y, *_ = reference(x, weight, bias, grad_y)
    for version in VERSIONS:
        y, _, _ = _ops.emulated_layer_norm_forward(x, weight, bias, EPS, version, "forward", 0, "threads")
        assert relative_error(y, ref_y, floor=1.0) < TOLERANCE[torch.float32]
        y, mean, _ = _ops.emulated_layer_norm_forward(torch.empty(0, 4), torch.ones(4), torch.zeros(4), EPS, version,
                                                      "forward", 0, "fibers")
        assert y.shape == (0, 4) and mean.shape == (0,)


def test_opcheck_of_the_emulated_ops():
    x, weight, bias, grad_y = make_case((6, 19), 1.0, 0.0, seed=2)
    for requires_grad in (False, True):
        args = [t.clone().requires_grad_(requires_grad) for t in (x, weight, bias)]
        torch.library.opcheck(_ops.emulated_layer_norm_forward, (*args, EPS, VERSIONS[0], "reverse", 0, "fibers"))
    _, mean, rstd = _ops.emulated_layer_norm_forward(x, weight, bias, EPS, VERSIONS[-1], "forward", 0, "fibers")
    torch.library.opcheck(_ops.emulated_layer_norm_backward,
                          (grad_y, x, weight, mean, rstd, VERSIONS[-1], "shuffle", 4, "fibers"))
    half = [t.half() for t in (x, weight, bias)]  # the fake's dtypes: y in x's, mean and rstd float32
    torch.library.opcheck(_ops.emulated_layer_norm_forward, (*half, EPS, VERSIONS[-1], "forward", 0, "fibers"),
                          test_utils="test_faketensor")


def test_bad_arguments_give_one_line_errors():
    x = torch.randn(2, 4)
    with pytest.raises(RuntimeError, match=r"weight and bias must be \(4,\)"):
        emulated_training.layer_norm(x, torch.ones(3), torch.zeros(3))
    with pytest.raises(RuntimeError, match="x must be float32, float16 or bfloat16 .*got Double"):
        emulated_training.layer_norm(x.double(), torch.ones(4).double(), torch.zeros(4).double())
    _, mean, rstd = _ops.emulated_layer_norm_forward(x.half(), torch.ones(4).half(), torch.zeros(4).half(), EPS,
                                                     VERSIONS[-1], "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="mean must be float32, got Half"):
        _ops.emulated_layer_norm_backward(x.half(), x.half(), torch.ones(4).half(), mean.half(), rstd, VERSIONS[-1],
                                          "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="eps must be positive"):
        emulated_training.layer_norm(x, torch.ones(4), torch.zeros(4), eps=0.0)
    with pytest.raises(RuntimeError, match=re.escape(f"version must be one of {list(VERSIONS)}, got 0")):
        _ops.emulated_layer_norm_forward(x, torch.ones(4), torch.zeros(4), EPS, 0, "forward", 0, "fibers")
    with pytest.raises(ValueError, match="version must be one of"):
        emulated_training.layer_norm(x, torch.ones(4), torch.zeros(4), version=VERSIONS[-1] + 1)
