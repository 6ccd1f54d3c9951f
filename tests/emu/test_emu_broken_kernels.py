"""Kernels with a real bug (tests/emu/kernels/softmax_*.cuh, tests only) and what catches each:
a wrong result in some fiber order, or an error from the emulator's checks. ThreadSanitizer's verdict
on the missing barrier is `make test-tsan` (tests/tsan/)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference import softmax as reference

ORDERS = ("forward", "reverse", "shuffle")


def run_softmax(test_kernels, kernel, x, order, seed=0, scheduler="fibers"):
    rows, cols = x.shape
    return test_kernels.run(kernel, x, rows * cols, rows, cols, order=order, seed=seed,
                            scheduler=scheduler).reshape(rows, cols)


def is_right(out, x):
    return np.allclose(out, reference.softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-7)


@given(rows=st.integers(1, 4), cols=st.integers(2, 300), seed=st.integers(0, 2**32 - 1))
def test_missing_barrier_is_caught_by_forward_and_shuffle_orders(test_kernels, rows, cols, seed):
    x = np.random.default_rng(seed).normal(size=(rows, cols)).astype(np.float32)
    # Reverse order runs thread 0 last, after every thread has read the max: it hides the race.
    assert is_right(run_softmax(test_kernels, "softmax_missing_barrier", x, "reverse"), x)
    # Forward order runs thread 0 first: it overwrites scratch[0] before the others read it.
    assert not is_right(run_softmax(test_kernels, "softmax_missing_barrier", x, "forward"), x)


def test_missing_barrier_shuffle_order_catches_it_for_most_seeds(test_kernels):
    x = np.random.default_rng(0).normal(size=(2, 100)).astype(np.float32)
    caught = [not is_right(run_softmax(test_kernels, "softmax_missing_barrier", x, "shuffle", seed), x)
              for seed in range(10)]
    assert sum(caught) >= 8, caught


@pytest.mark.parametrize("scheduler, order", [("fibers", o) for o in ORDERS] + [("threads", "forward")])
def test_early_return_before_shuffle_is_an_error(test_kernels, scheduler, order):
    x = np.random.default_rng(1).normal(size=(2, 20)).astype(np.float32)
    message = (r"softmax_early_return, block \(0, 0, 0\): .*__shfl_xor_sync with mask 0xffffffff "
               r"\(softmax_early_return\.cuh:\d+.*but lane (2\d|3[01]) named in the mask has returned")
    with pytest.raises(RuntimeError, match=message):
        run_softmax(test_kernels, "softmax_early_return", x, order, scheduler=scheduler)
    wide = np.random.default_rng(2).normal(size=(2, 40)).astype(np.float32)  # no lane returns: right
    assert is_right(run_softmax(test_kernels, "softmax_early_return", wide, order, scheduler=scheduler), wide)


@pytest.mark.parametrize("order", ORDERS)
def test_wrong_shuffle_lane_is_a_wrong_result_in_every_order(test_kernels, order):
    x = np.random.default_rng(3).normal(size=(3, 50)).astype(np.float32)
    assert not is_right(run_softmax(test_kernels, "softmax_wrong_lane", x, order, seed=4), x)
    # the same ladder rung done right passes in the same harness
    assert is_right(run_softmax(test_kernels, "softmax_v3", x, order, seed=4), x)
