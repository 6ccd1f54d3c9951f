"""The CUDA bias + GELU ladder (csrc/kernels/bias_gelu_v*.cuh) run by the CUDA emulator, forward and backward,
both GELU forms, every version in every resume order, against the NumPy float64 reference: one row, one
column, widths that are and are not multiples of the 4-element vector width, unaligned storage, large values;
the bias gradient the same bits in every order. In float16 and bfloat16 (computed in float32) within
helpers.TOLERANCE[dtype] against the reference on the same rounded inputs."""

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops import emulated_training
from minitransformer.ops.emulated import ORDERS
from minitransformer.reference.activations import gelu, gelu_backward
from helpers import TOLERANCE, relative_error

_ops = torch.ops.minitransformer
VERSIONS = ops.kernel_versions("bias_gelu")
APPROXIMATIONS = ("none", "tanh")

# (shape, scale) of x: 36 columns take v2's vector path, 37 and 70 do not; scale 1e3 saturates the GELU.
CASES = [((1, 1), 1.0), ((1, 37), 1.0), ((37, 1), 1.0), ((5, 36), 2.0), ((9, 70), 1.0), ((3, 5, 12), 1e3)]


def make_case(shape, scale, seed, aligned=True, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=generator) * scale).to(dtype)
    bias, grad_y = (torch.randn(size, generator=generator).to(dtype) for size in (shape[-1], shape))
    if not aligned:  # the same values one element past an aligned boundary: v2 cannot use its vector loads
        storage = torch.empty(x.numel() + 1, dtype=dtype)
        x = storage[1:].view(shape).copy_(x)
    return x, bias, grad_y


def reference(x, bias, grad_y, approximate):
    z = x.double().numpy() + bias.double().numpy()
    grad_x = gelu_backward(z, grad_y.double().numpy(), approximate)
    return gelu(z, approximate), grad_x, grad_x.reshape(-1, z.shape[-1]).sum(axis=0)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("approximate", APPROXIMATIONS)
@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_of_every_version_in_every_order(version, order, approximate, case):
    x, bias, grad_y = make_case(*case, seed=version)
    ref_y, ref_dx, ref_db = reference(x, bias, grad_y, approximate)
    y = _ops.emulated_bias_gelu_forward(x, bias, approximate, version, order, 7, "fibers")
    assert relative_error(y, ref_y, floor=1.0) < TOLERANCE[torch.float32]
    dx, db = _ops.emulated_bias_gelu_backward(grad_y, x, bias, approximate, version, order, 7, "fibers")
    assert relative_error(dx, ref_dx, floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(db, ref_db, floor=1.0) < TOLERANCE[torch.float32]


# Half-precision cases: one row, one column, 36 columns (v2's vector path), 70 (not a multiple of 4).
HALF_CASES = [((1, 37), 1.0), ((37, 1), 1.0), ((5, 36), 2.0), ((9, 70), 1.0)]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("approximate", APPROXIMATIONS)
@pytest.mark.parametrize("case_index", range(len(HALF_CASES)))
def test_half_forward_and_backward_of_every_version(case_index, approximate, version, dtype, error_report):
    """Outputs in the input's dtype: the first case in every resume order, the others shuffled."""
    x, bias, grad_y = make_case(*HALF_CASES[case_index], seed=version, dtype=dtype)
    ref_y, ref_dx, ref_db = reference(x, bias, grad_y, approximate)
    name = f"bias_gelu_v{version} {str(dtype).removeprefix('torch.')}"
    for order in ORDERS if case_index == 0 else ("shuffle",):
        y = _ops.emulated_bias_gelu_forward(x, bias, approximate, version, order, 7, "fibers")
        dx, db = _ops.emulated_bias_gelu_backward(grad_y, x, bias, approximate, version, order, 7, "fibers")
        for label, got, expected in (("", y, ref_y), (" backward dx", dx, ref_dx), (" backward dbias", db, ref_db)):
            assert got.dtype == dtype
            error = relative_error(got, expected, floor=1.0)
            error_report(name + label, error)
            assert error < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("version", VERSIONS)
def test_unaligned_storage_and_the_bias_gradient_bits_in_every_order(version, dtype):
    x, bias, grad_y = make_case((11, 40), 1.0, seed=4, aligned=False, dtype=dtype)
    ref_y, ref_dx, ref_db = reference(x, bias, grad_y, "tanh")
    y = emulated_training.bias_gelu(x, bias, "tanh", version=version)
    assert relative_error(y, ref_y, floor=1.0) < TOLERANCE[dtype]
    runs = [_ops.emulated_bias_gelu_backward(grad_y, x, bias, "tanh", version, order, 3, "fibers") for order in ORDERS]
    assert relative_error(runs[0][1], ref_db, floor=1.0) < TOLERANCE[dtype]
    for run in runs[1:]:
        assert torch.equal(run[0], runs[0][0]) and torch.equal(run[1], runs[0][1])


@settings(max_examples=8)
@given(st.integers(1, 20), st.integers(1, 80), st.sampled_from(VERSIONS), st.sampled_from(APPROXIMATIONS),
       st.integers(0, 100))
def test_random_shapes_with_autograd(rows, cols, version, approximate, seed):
    x, bias, grad_y = make_case((rows, cols), 2.0, seed)
    leaves = [t.clone().requires_grad_() for t in (x, bias)]
    y = emulated_training.bias_gelu(*leaves, approximate, version=version, order="shuffle", order_seed=seed)
    y.backward(grad_y)
    ref_y, ref_dx, ref_db = reference(x, bias, grad_y, approximate)
    assert relative_error(y.detach(), ref_y, floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaves[0].grad, ref_dx, floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaves[1].grad, ref_db, floor=1.0) < TOLERANCE[torch.float32]


def test_thread_scheduler_and_an_empty_batch():
    x, bias, grad_y = make_case((6, 40), 1.0, seed=5)
    ref_y, *_ = reference(x, bias, grad_y, "none")
    for version in VERSIONS:
        y = _ops.emulated_bias_gelu_forward(x, bias, "none", version, "forward", 0, "threads")
        assert relative_error(y, ref_y, floor=1.0) < TOLERANCE[torch.float32]
        dx, db = _ops.emulated_bias_gelu_backward(torch.empty(0, 4), torch.empty(0, 4), torch.zeros(4), "none",
                                                  version, "forward", 0, "fibers")
        assert dx.shape == (0, 4) and torch.equal(db, torch.zeros(4))


def test_opcheck_of_the_emulated_ops():
    x, bias, grad_y = make_case((6, 19), 1.0, seed=2)
    for requires_grad in (False, True):
        args = [t.clone().requires_grad_(requires_grad) for t in (x, bias)]
        torch.library.opcheck(_ops.emulated_bias_gelu_forward, (*args, "tanh", VERSIONS[0], "reverse", 0, "fibers"))
    torch.library.opcheck(_ops.emulated_bias_gelu_backward,
                          (grad_y, x, bias, "none", VERSIONS[-1], "shuffle", 4, "fibers"))


def test_bad_arguments_give_one_line_errors():
    x = torch.randn(2, 4)
    with pytest.raises(RuntimeError, match=r"bias must be \(4,\)"):
        emulated_training.bias_gelu(x, torch.zeros(3))
    with pytest.raises(RuntimeError, match="approximate must be 'none' or 'tanh'"):
        emulated_training.bias_gelu(x, torch.zeros(4), "sigmoid")
    with pytest.raises(RuntimeError, match="x must be float32, float16 or bfloat16 .*got Double"):
        emulated_training.bias_gelu(x.double(), torch.zeros(4).double())
    with pytest.raises(RuntimeError, match=re.escape(f"version must be one of {list(VERSIONS)}, got 0")):
        _ops.emulated_bias_gelu_forward(x, torch.zeros(4), "none", 0, "forward", 0, "fibers")
