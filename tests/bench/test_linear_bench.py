"""bench/linear.py: each pairing times the same product on both sides (ours by oneDNN, torch's by MKL);
bench/linear_ablation.py: its F.linear side really runs F.linear."""

import pytest
import torch

from helpers import load_bench_script


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("linear.py")


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this torch has no oneDNN")
def test_both_sides_of_each_pairing_compute_the_same_product(bench):
    pairs = bench.calls(37, 20, 9, torch.Generator().manual_seed(0))
    assert set(pairs) == {"forward", "forward + backward", "dx = dy W", "dW = dy^T x"}
    for what in ("forward", "dx = dy W", "dW = dy^T x"):
        ours, torch_side = pairs[what]["ours"](), pairs[what]["torch"]()
        assert ours.shape == torch_side.shape
        torch.testing.assert_close(ours, torch_side, rtol=1e-5, atol=1e-4)
    for side in pairs["forward + backward"].values():
        side()  # runs


def test_the_ablation_sends_every_call_to_f_linear_and_restores_the_choice():
    ablation = load_bench_script("linear_ablation.py")
    x, weight = torch.randn(4, 6), torch.randn(3, 6)
    seen = []
    ablation.with_f_linear(lambda: seen.append(ablation.linear_module.runs_on_onednn(x, weight)))()
    assert seen == [False]
    assert ablation.linear_module.runs_on_onednn(x, weight) == torch.backends.mkldnn.is_available()
