"""The emulated WMMA API and 16-bit types (csrc/emu/wmma.h, half.h; kernels: tests/emu/kernels/wmma.cuh).

The conversions round as the GPU does (to nearest, ties to even); D = A·B + C with float16 or bfloat16
A and B equals the float64 product of the rounded inputs to float32 round-off, in every memory layout;
the accumulator's element -> lane mapping is the documented one; a misaligned tile and a divergent warp are
errors. A deliberately wrong fragment layout (MT_EMU_WMMA_WRONG_LAYOUT) must fail the same checks, and
attention v4 run on it must miss the reference by far more than its tolerance.
"""

import numpy as np
import pytest
import torch

from minitransformer.ops.attention import TENSOR_CORE_TOLERANCE
from minitransformer.reference.attention import attention_forward
from helpers import relative_error

ORDERS = ("forward", "reverse", "shuffle")


def round_to_half(x):
    with np.errstate(over="ignore"):  # beyond 65504: inf, as intended
        return x.astype(np.float16).astype(np.float64)


ROUNDING = {"half": round_to_half, "bfloat16": lambda x: torch.from_numpy(x).to(torch.bfloat16).double().numpy()}
GEMMS = ["half_row_col_row", "half_col_row_col", "half_row_row_row", "half_col_col_col", "bfloat16_row_col_row",
         "bfloat16_col_row_col"]


@pytest.mark.parametrize("dtype", ["half", "bfloat16"])
def test_conversions_round_to_nearest_even(test_kernels, dtype):
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, 1.0, 65504.0, 65519.0, 65520.0, 1e6, -1e6, 2.0**-14, 2.0**-24, 2.0**-25, 3 * 2.0**-26,
               1e-8, 1 + 2.0**-11, 1 + 3 * 2.0**-11, 1 + 2.0**-8, 1 + 3 * 2.0**-8, np.inf, -np.inf]
    x = np.concatenate([special, rng.normal(size=200), rng.normal(scale=1e-5, size=100),
                        rng.normal(scale=1e4, size=100)]).astype(np.float32)
    y = test_kernels.run(f"round_{dtype}", x, len(x), cols=len(x))
    np.testing.assert_array_equal(y, ROUNDING[dtype](x).astype(np.float32))
    nan = test_kernels.run(f"round_{dtype}", np.array([np.nan], np.float32), 1, cols=1)
    assert np.isnan(nan).all()


def check_gemm(kernels, name, order="forward", seed=0):
    """Runs test kernel wmma_<name> on random A, B, C; AssertionError when D != A·B + C (A, B rounded)."""
    rng = np.random.default_rng(seed)
    a, b, c = (rng.normal(size=(16, 16)).astype(np.float32) for _ in range(3))
    d = kernels.run(f"wmma_{name}", np.concatenate([a.ravel(), b.ravel(), c.ravel()]), 256, order=order,
                    seed=seed).reshape(16, 16)
    rounding = ROUNDING[name.split("_")[0]]
    expected = rounding(a) @ rounding(b) + c
    error = np.abs(d - expected).max()
    assert error < 1e-5, f"wmma_{name}: D differs from A·B + C by up to {error:.3g} (order {order})"


@pytest.mark.parametrize("name", GEMMS)
@pytest.mark.parametrize("order", ORDERS)
def test_mma_is_the_product_of_the_rounded_inputs(test_kernels, name, order):
    check_gemm(test_kernels, name, order, seed=3)


def documented_accumulator_layout():
    """(16, 16): lane * 8 + i at the element x[i] of `lane` holds (csrc/emu/wmma.h's table)."""
    where = np.full((16, 16), -1.0)
    for lane in range(32):
        g, t = divmod(lane, 4)
        for i in range(8):
            where[g + 8 * (i // 2 % 2), 2 * t + i % 2 + 8 * (i // 4)] = lane * 8 + i
    return where


def check_fragment_map(kernels):
    got = kernels.run("wmma_fragment_map", np.zeros(1), 256).reshape(16, 16)
    wrong = np.argwhere(got != documented_accumulator_layout())
    assert len(wrong) == 0, f"{len(wrong)} of 256 accumulator elements are not where the layout says, " \
                            f"first (row, col) = {tuple(int(i) for i in wrong[0])}"


def test_accumulator_elements_are_where_the_layout_says(test_kernels):
    assert sorted(documented_accumulator_layout().ravel()) == list(range(256))  # each element exactly once
    check_fragment_map(test_kernels)


def test_misaligned_tile_and_divergent_warp_are_errors(test_kernels):
    with pytest.raises(RuntimeError, match=r"wmma::load_matrix_sync \(wmma\.cuh:\d+\): the pointer must be "
                                           r"32-byte aligned, it is 8 bytes past"):
        test_kernels.run("wmma_misaligned_load", np.zeros(1), 1)
    with pytest.raises(RuntimeError, match=r"__syncwarp with mask 0xffffffff \(wmma\.cuh:\d+.*but lane 1\d named "
                                           r"in the mask has returned"):
        test_kernels.run("wmma_divergent_mma", np.zeros(1), 1)


def attention_v4_error(kernels, order, n=37, dim=24, seed=0):
    """Relative error of attention v4 (one head, (n, dim), no mask) against the float64 reference."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(n, dim)).astype(np.float32) for _ in range(3))
    y = kernels.run("attention_v4", np.concatenate([q.ravel(), k.ravel(), v.ravel()]), n * dim + n, n, dim,
                    order=order, seed=seed)
    expected, _ = attention_forward(*(t.astype(np.float64)[None, None] for t in (q, k, v)))
    return relative_error(y[:n * dim].reshape(n, dim), expected[0, 0], floor=1.0)


@pytest.mark.parametrize("order", ORDERS)
def test_attention_v4_in_the_test_library(test_kernels, order):
    assert attention_v4_error(test_kernels, order) < TENSOR_CORE_TOLERANCE


def test_a_wrong_fragment_layout_is_caught(test_kernels_wrong_layout):
    for name in GEMMS:
        with pytest.raises(AssertionError, match=f"wmma_{name}: D differs from A·B"):
            check_gemm(test_kernels_wrong_layout, name)
    with pytest.raises(AssertionError, match="accumulator elements are not where the layout says"):
        check_fragment_map(test_kernels_wrong_layout)
    for order in ORDERS:
        assert attention_v4_error(test_kernels_wrong_layout, order) > 10 * TENSOR_CORE_TOLERANCE
