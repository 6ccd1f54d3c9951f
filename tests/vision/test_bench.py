"""The transfer experiment's script end to end at --quick size (slow: about a minute; needs the real
Fashion-MNIST)."""

import json
import runpy
from pathlib import Path

import pytest

from minitransformer.data.images.sets import DatasetMissingError, load_fashion_mnist

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "vision_transfer.py"


@pytest.mark.slow
def test_quick_transfer_experiment_writes_its_results(tmp_path):
    try:
        load_fashion_mnist("test")
    except DatasetMissingError as missing:
        pytest.skip(str(missing))
    main = runpy.run_path(str(SCRIPT), run_name="vision_transfer")["main"]
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "vision_transfer.json").read_text())
    assert len(results["runs"]) == 2 * 2 * 3  # budgets x seeds x arms
    assert all(0.0 <= run["accuracy"] <= 1.0 for run in results["runs"])
    assert "| 50 |" in (tmp_path / "vision_transfer.md").read_text()
    for png in ("vision_transfer.png", "vision_filters.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
