"""minitransformer.ops.dropout_add (counter-based dropout + residual, the C++ op): masks bit-identical to the
NumPy reference for any thread count, the keep fraction, the backward recomputing the same mask,
reproducibility under torch.manual_seed, gradcheck, opcheck, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer import ops
from minitransformer.ops.dropout import SEED_BOUND, dropout_mask
from minitransformer.ops.dtypes import CPU_DTYPES
from minitransformer.reference.dropout import dropout_mask as reference_mask


@settings(max_examples=30, deadline=None)
@given(shape=st.sampled_from([(1,), (3,), (4,), (5,), (7, 9), (2, 3, 33), (1000,)]), p=st.floats(0.0, 1.0),
       seed=st.integers(0, SEED_BOUND - 1), offset=st.integers(0, SEED_BOUND - 1))
def test_masks_are_the_reference_bits_for_any_thread_count(shape, p, seed, offset):
    expected = reference_mask(shape, p, seed, offset)
    threads = torch.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            np.testing.assert_array_equal(dropout_mask(shape, p, seed, offset).numpy(), expected)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("dtype", CPU_DTYPES)
@pytest.mark.parametrize("with_residual", [True, False])
def test_forward_and_backward_apply_the_same_mask(dtype, with_residual):
    generator = torch.Generator().manual_seed(0)
    x, residual, grad_y = (torch.randn(6, 37, dtype=dtype, generator=generator) for _ in range(3))
    p, seed = 0.3, 12345
    mask = torch.tensor(reference_mask(x.shape, p, seed, 0))
    xx, rr = x.clone().requires_grad_(), residual.clone().requires_grad_()
    y = ops.dropout_add(xx, rr if with_residual else None, p, seed=seed)
    y.backward(grad_y)
    # In float64, rounded once to the dtype, as the op computes (bfloat16 and float16 in float32). The op's
    # x * (1 / (1 - p)) vs x / (1 - p): the last bit may differ.
    expected = (x.double() * mask / (1 - p) + (residual.double() if with_residual else 0)).to(dtype)
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(xx.grad, (grad_y.double() * mask / (1 - p)).to(dtype))
    if with_residual:
        assert torch.equal(rr.grad, grad_y)
    else:
        assert rr.grad is None


def test_keep_fraction_and_the_edges():
    x = torch.ones(100_000)
    kept = (ops.dropout_add(x, None, 0.1, seed=3) != 0).double().mean().item()
    assert abs(kept - 0.9) < 5 * (0.9 * 0.1 / 100_000) ** 0.5
    assert torch.equal(ops.dropout_add(x, None, 1.0, seed=3), torch.zeros_like(x))
    assert torch.equal(ops.dropout_add(x, x, 0.0), 2 * x)
    assert torch.equal(ops.dropout_add(x, None, 0.5, training=False), x)


def test_torch_manual_seed_makes_the_masks_reproducible():
    x = torch.randn(50, 20)
    torch.manual_seed(7)
    first = [ops.dropout_add(x, None, 0.5) for _ in range(2)]
    torch.manual_seed(7)
    second = [ops.dropout_add(x, None, 0.5) for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not torch.equal(first[0], first[1])  # successive calls draw new seeds


def test_gradcheck_in_float64():
    x, residual = (torch.randn(4, 9, dtype=torch.float64, requires_grad=True) for _ in range(2))
    assert torch.autograd.gradcheck(lambda a, b: ops.dropout_add(a, b, 0.4, seed=99), (x, residual))


@pytest.mark.parametrize("dtype", CPU_DTYPES)
def test_opcheck(dtype):
    x, residual = (torch.randn(5, 12, dtype=dtype, requires_grad=True) for _ in range(2))
    torch.library.opcheck(torch.ops.minitransformer.dropout_add_forward, (x, residual, 0.2, 5, 0))
    torch.library.opcheck(torch.ops.minitransformer.dropout_add_forward, (x, None, 0.2, 5, 3))
    torch.library.opcheck(torch.ops.minitransformer.dropout_backward, (torch.randn(5, 12, dtype=dtype), 0.2, 5, 0))
    seed = torch.tensor(5)  # the seeded faces take the seed as a tensor
    torch.library.opcheck(torch.ops.minitransformer.dropout_add_seeded, (x, residual, 0.2, seed, 0))
    torch.library.opcheck(torch.ops.minitransformer.dropout_add_seeded, (x, None, 0.2, seed, 3))
    grad_y = torch.randn(5, 12, dtype=dtype)
    torch.library.opcheck(torch.ops.minitransformer.dropout_backward_seeded, (grad_y, 0.2, seed, 0))


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        ops.dropout_add(torch.randn(3), None, 1.5)
    with pytest.raises(RuntimeError, match="residual must have x's shape"):
        ops.dropout_add(torch.randn(3), torch.randn(4), 0.5, seed=1)
    with pytest.raises(RuntimeError, match="seed and offset must be >= 0"):
        ops.dropout_add(torch.randn(3), None, 0.5, seed=-1)
