"""The CUDA dropout ladder (csrc/kernels/dropout_v*.cuh) run by the CUDA emulator: its masks are the bits of
the CPU kernel and of the NumPy reference at 1 and 2 threads, in float32, float16 and bfloat16 alike; its
outputs and gradients the CPU op's bits in each of the three dtypes (both compute in float32 and round once),
in every resume order, on edge shapes (one element, sizes that are not multiples of the 4-element Philox
group, unaligned storage, values that overflow)."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops import emulated_training
from minitransformer.ops.dropout import SEED_BOUND, dropout_mask
from minitransformer.ops.emulated import ORDERS
from minitransformer.reference.dropout import dropout_forward
from minitransformer.reference.dropout import dropout_mask as reference_mask
from helpers import TOLERANCE, relative_error

_ops = torch.ops.minitransformer
VERSIONS = ops.kernel_versions("dropout")
DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def emulated_mask(shape, p, seed, offset, version, order="forward", order_seed=0, dtype=torch.float32):
    """The keep mask a rung applies: where it keeps a one (1 / (1 - p) != 0; p = 1 keeps nothing)."""
    ones = torch.ones(shape, dtype=dtype)
    return emulated_training.dropout_add(ones, None, p, seed, offset, version=version, order=order,
                                         order_seed=order_seed) != 0


@settings(max_examples=25)
@given(shape=st.sampled_from([(1,), (3,), (4,), (5,), (7, 9), (2, 3, 33), (1000,)]), p=st.floats(0.0, 1.0),
       seed=st.integers(0, SEED_BOUND - 1), offset=st.integers(0, SEED_BOUND - 1), order=st.sampled_from(ORDERS),
       dtype=st.sampled_from(DTYPES))
def test_masks_are_the_same_bits_on_the_cpu_kernel_every_emulated_rung_and_the_reference(shape, p, seed, offset,
                                                                                         order, dtype):
    expected = reference_mask(shape, p, seed, offset)
    threads = torch.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            np.testing.assert_array_equal(dropout_mask(shape, p, seed, offset).numpy(), expected)
            for version in VERSIONS:
                mask = emulated_mask(shape, p, seed, offset, version, order, seed, dtype)
                np.testing.assert_array_equal(mask.numpy(), expected, err_msg=f"dropout_v{version} {dtype}")
    finally:
        torch.set_num_threads(threads)


def unaligned(t):
    """A contiguous copy of ``t`` whose data starts one element past an aligned boundary (v2's vector loads cannot
    be used)."""
    storage = torch.empty(t.numel() + 1, dtype=t.dtype)
    view = storage[1:].view(t.shape)
    view.copy_(t)
    return view


SHAPES = [(1,), (1, 1), (5, 7), (2, 3, 33), (4, 64)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("aligned", [True, False])
def test_forward_and_backward_of_every_version_are_the_cpu_ops_bits(version, order, shape, aligned, dtype,
                                                                    error_report):
    generator = torch.Generator().manual_seed(sum(shape))
    x, residual, grad_y = (torch.randn(shape, generator=generator).to(dtype) for _ in range(3))
    if not aligned:
        x, residual, grad_y = unaligned(x), unaligned(residual), unaligned(grad_y)
    p, seed, offset = 0.3, 2024, 17
    leaves = [t.clone().requires_grad_() for t in (x, residual)]
    y = emulated_training.dropout_add(*leaves, p, seed, offset, version=version, order=order, order_seed=5)
    y.backward(grad_y)
    assert y.dtype == leaves[0].grad.dtype == dtype
    assert torch.equal(y, ops.dropout_add(x, residual, p, seed=seed, offset=offset))
    assert torch.equal(leaves[0].grad, _ops.dropout_backward(grad_y, p, seed, offset))
    assert torch.equal(leaves[1].grad, grad_y)
    expected, _ = dropout_forward(x.double().numpy(), p, seed, offset)
    error = relative_error(y, expected + residual.double().numpy())
    error_report(f"dropout_v{version} {str(dtype).removeprefix('torch.')}", error)
    assert error < (1e-6 if dtype == torch.float32 else TOLERANCE[dtype])


@pytest.mark.parametrize("version", VERSIONS)
def test_large_values_and_the_edge_probabilities(version):
    x = torch.full((3, 5), 3e38)  # x / (1 - p) overflows to inf, as on the CPU
    for p in (0.0, 0.5, 1.0):
        y = emulated_training.dropout_add(x, None, p, 9, 0, version=version)
        assert torch.equal(y, ops.dropout_add(x, None, p, seed=9))
    assert torch.isinf(emulated_training.dropout_add(x, None, 0.5, 9, 0, version=version)).any()
    assert torch.equal(emulated_training.dropout_add(x, None, 1.0, 9, 0, version=version), torch.zeros_like(x))


def test_thread_scheduler_and_an_empty_tensor():
    x = torch.randn(2, 300)
    for version in VERSIONS:
        y = emulated_training.dropout_add(x, x, 0.5, 3, 1, version=version, scheduler="threads")
        assert torch.equal(y, ops.dropout_add(x, x, 0.5, seed=3, offset=1))
        assert emulated_training.dropout_add(torch.empty(0, 4), None, 0.5, 3, version=version).shape == (0, 4)


def test_opcheck_of_the_emulated_op():
    for requires_grad in (False, True):
        x, residual = (torch.randn(5, 11, requires_grad=requires_grad) for _ in range(2))
        torch.library.opcheck(_ops.emulated_dropout_add, (x, residual, 0.2, 5, 0, VERSIONS[0], "reverse", 0, "fibers"))
        torch.library.opcheck(_ops.emulated_dropout_add, (x, None, 0.2, 5, 3, VERSIONS[-1], "shuffle", 4, "fibers"))


def test_bad_arguments_give_one_line_errors():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match=re.escape(f"version must be one of {VERSIONS}")):
        emulated_training.dropout_add(x, None, 0.5, 1, version=VERSIONS[-1] + 1)
    with pytest.raises(RuntimeError, match=re.escape(f"version must be one of {list(VERSIONS)}, got 0")):
        _ops.emulated_dropout_add(x, None, 0.5, 1, 0, 0, "forward", 0, "fibers")
    with pytest.raises(RuntimeError, match="x must be float32, float16 or bfloat16 .*got Double"):
        emulated_training.dropout_add(x.double(), None, 0.5, 1)
    with pytest.raises(RuntimeError, match="residual must have x's shape"):
        emulated_training.dropout_add(x, torch.randn(4), 0.5, 1)
    with pytest.raises(RuntimeError, match="seed and offset must be >= 0"):
        emulated_training.dropout_add(x, None, 0.5, -1)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        emulated_training.dropout_add(x, None, 1.5, 1)
