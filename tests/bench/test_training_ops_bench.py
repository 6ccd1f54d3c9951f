"""bench/training_ops.py on small rows: in every dtype each side of each case gets inputs of the dtype asked for,
and the three sides (ours, torch, our eager modules) compute the same function (dropout: each its own mask);
the whole benchmark runs and writes its table."""

import sys

import pytest
import torch

from helpers import load_bench_script


@pytest.fixture(scope="module")
def bench():
    module = load_bench_script("training_ops.py")
    module.ROWS = 8  # the training shapes' widths, on a few rows
    return module


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
def test_every_side_of_every_case_runs_in_the_dtype_asked_for(bench, dtype):
    tolerance = {torch.float32: 1e-4, torch.bfloat16: 5e-2, torch.float16: 1e-2}[dtype]
    for op, width, inputs, grad_output, functions in bench.cases(torch.Generator().manual_seed(0), "cpu", dtype):
        assert all(t.dtype == dtype for t in inputs), op
        outputs = {name: function(*inputs) for name, function in functions.items()}
        assert all(out.dtype == dtype for out in outputs.values()), (op, width)
        if op == "dropout_add":  # each side draws its own mask
            continue
        scale = outputs["torch"].float().abs().max().clamp(min=1)
        for name in ("ours", "eager"):
            error = (outputs[name].float() - outputs["torch"].float()).abs().max() / scale
            assert error < tolerance, (op, width, name)


def test_the_benchmark_runs_and_writes_its_table(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["common"], "RESULTS_DIR", str(tmp_path))
    bench.main(["--quick", "--dtype", "bfloat16"])
    table = (tmp_path / "training_ops_quick_bfloat16.md").read_text()
    assert "--dtype bfloat16" in table and table.count("| layer_norm |") == 2
