"""The emulator's checks (csrc/emu/block.h): each broken synchronisation rule is a clear RuntimeError
naming the barrier's file:line and the threads, under both schedulers; shared memory starts as NaN;
the warp and block intrinsics return what CUDA specifies. Kernels: tests/emu/kernels/checks.cuh."""

import numpy as np
import pytest

SCHEDULERS = ("fibers", "threads")


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("kernel, threads, message", [
    ("divergent_barrier", 64,
     r"divergent __syncthreads.*\n  threads 0\.\.15 at __syncthreads \(checks\.cuh:\d+\)\n  threads 16\.\.63"),
    ("barrier_after_return", 64,
     r"__syncthreads at checks\.cuh:\d+ is reached by 63 threads after thread\(s\) 3 returned"),
    ("absent_lane", 16, r"__shfl_xor_sync with mask 0xffffffff \(checks\.cuh:\d+.*lane 16 does not exist "
                        r"\(the block has 16 threads\)"),
    ("read_outside_mask", 32, r"__shfl_sync with mask 0xffff .*reads lane 20, which is not in the mask"),
    ("deadlock", 64, r"deadlock: thread \d+ .*waits at __shfl_xor_sync.*but thread 0 \(warp 0, lane 0\) "
                     r"waits at __syncthreads \(checks\.cuh:\d+\)"),
    ("own_lane_outside_mask", 32, r"__shfl_sync with mask 0x1 .*, but its own lane [1-9]\d* is not in the mask"),
    ("bad_width", 32, r"__shfl_xor_sync .* with width 3: width must be a power of two in 1\.\.32"),
    ("oversized_block", 32, r"invalid launch: block has 2048 threads; CUDA allows at most 1024"),
])
def test_broken_rule_is_a_clear_error(test_kernels, scheduler, kernel, threads, message):
    with pytest.raises(RuntimeError, match=rf"^{kernel}(, block \(0, 0, 0\))?: (.|\n)*{message}"):
        test_kernels.run(kernel, np.arange(threads), threads, scheduler=scheduler)


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffle"])
def test_errors_in_every_order(test_kernels, order):
    for kernel in ("divergent_barrier", "barrier_after_return", "deadlock"):
        with pytest.raises(RuntimeError, match=kernel):
            test_kernels.run(kernel, np.arange(64), 64, order=order, seed=3)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("kernel", ["read_unwritten_dynamic", "read_unwritten_static"])
def test_unwritten_shared_memory_reads_nan(test_kernels, scheduler, kernel):
    for _ in range(2):  # the static array was written by the first launch: it must be NaN again
        y = test_kernels.run(kernel, np.zeros(64), 64, scheduler=scheduler)
        assert np.all(np.isnan(y))


def expected_intrinsics(x):
    """What CUDA specifies for each intrinsic of checks.cuh:intrinsics_kernel, thread by thread."""
    n = len(x)
    out = np.zeros((n, 12))
    for t in range(n):
        warp, lane = divmod(t, 32)
        w = x[warp * 32:(warp + 1) * 32]
        seg8 = lane & ~7
        seg16 = lane & ~15
        out[t, 0] = w[5]
        out[t, 1] = w[seg8 + ((lane + 3) & 7)]
        out[t, 2] = w[lane - 2] if lane >= 2 else w[lane]
        out[t, 3] = w[lane + 3] if (lane - seg16) + 3 < 16 else w[lane]
        out[t, 4] = w[lane ^ 6]
        out[t, 5] = sum(1 << i for i in range(16) if w[i] > 0)
        out[t, 6] = float(np.any(w > 100))
        out[t, 7] = float(np.all(w > -100))
        out[t, 8] = np.sum(x > 0)
        out[t, 9] = float(np.all(x > 0))
        out[t, 10] = float(np.any(x > 0))
        out[t, 11] = n
    return out


@pytest.mark.parametrize("scheduler, order",
                         [("fibers", "forward"), ("fibers", "shuffle"), ("threads", "forward")])
def test_intrinsics_follow_cuda_semantics(test_kernels, scheduler, order):
    x = np.random.default_rng(0).normal(size=96).astype(np.float32)
    y = test_kernels.run("intrinsics", x, 96 * 12, cols=96, order=order, seed=1, scheduler=scheduler)
    np.testing.assert_array_equal(y.reshape(96, 12), expected_intrinsics(x))


def test_portable_fiber_switch_gives_the_same_results(test_kernels, test_kernels_ucontext):
    x = np.random.default_rng(5).normal(size=96).astype(np.float32)
    for order in ("forward", "reverse", "shuffle"):
        expected = test_kernels.run("intrinsics", x, 96 * 12, cols=96, order=order, seed=2)
        portable = test_kernels_ucontext.run("intrinsics", x, 96 * 12, cols=96, order=order, seed=2)
        np.testing.assert_array_equal(portable, expected)
    with pytest.raises(RuntimeError, match="deadlock"):
        test_kernels_ucontext.run("deadlock", np.arange(64), 64)
