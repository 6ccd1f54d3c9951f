"""The experiment's bookkeeping: fine-tuning steps per budget, the summary table, the goal, the report files."""

import json

import pytest

from minitransformer.train.experiment import PRESETS, ExperimentConfig, finetune_steps
from minitransformer.train.experiment_report import goal, summarise, write_report


def _results():
    runs = []
    for arm, base in [("pretrained", 0.70), ("scratch", 0.60)]:
        for budget, n in [(100, 100), (500, 500), ("all", 8454)]:
            for seed in range(3):
                accuracy = base + 0.01 * seed + (0.1 if budget == "all" else 0.0)
                runs.append({"arm": arm, "seed": seed, "budget": budget, "n_labels": n, "accuracy": accuracy,
                             "macro_f1": accuracy - 0.01})
    return {"config": {"pretrain_steps": 10}, "runs": runs, "n_train": 8454, "n_test": 2114, "seconds": 60.0}


def test_finetune_steps_follow_epochs_within_bounds():
    config = ExperimentConfig(finetune_epochs=5, finetune_batch=32, finetune_min_steps=30, finetune_max_steps=150)
    assert [finetune_steps(n, config) for n in (10, 500, 800, 8454)] == [30, 79, 125, 150]


def test_summary_means_stds_and_goal():
    table = summarise(_results())
    cell = table["pretrained"]["500"]
    assert cell["accuracy"] == pytest.approx([0.70, 0.71, 0.72])
    assert cell["accuracy_mean"] == pytest.approx(0.71) and cell["accuracy_std"] == pytest.approx(0.01)
    assert goal(table) == pytest.approx(10.0)
    assert goal({"scratch": table["scratch"]}) is None


def test_report_files(tmp_path):
    text = write_report(_results(), tmp_path / "report")
    assert "| pretrained | 71.0 ± 1.0" in text and "+10.0 points, met" in text
    assert text.index("100 labels") < text.index("500 labels") < text.index("all labels")
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["goal_points_at_500"] == pytest.approx(10.0)
    assert (tmp_path / "report.png").stat().st_size > 1000


def test_presets_are_valid_configs():
    for preset in PRESETS.values():
        ExperimentConfig(**preset)


@pytest.mark.parametrize("kwargs, message", [({"arms": ["bert"]}, "arms"), ({"seeds": []}, "seeds"),
                                             ({"budgets": [0]}, "budgets"),
                                             ({"pretrain_sources": ["wikipedia"]}, "pretrain_sources"),
                                             ({"pooling": "max"}, "pooling")])
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ExperimentConfig(**kwargs)


def test_report_names_the_pretraining_objective(tmp_path):
    results = _results()
    results["config"] = {"pretrain_steps": 10, "pretrain_batch": 64, "pretrain_nsp": False,
                         "pretrain_sources": ["movie_reviews", "rotten_tomatoes"]}
    results["pretrain"] = {"seconds": 5.0, "final": {"eval_mlm_accuracy": 0.3125}}
    text = write_report(results, tmp_path / "report")
    assert ("Pre-training (MLM only on movie_reviews, rotten_tomatoes): 10 steps of 64 sequences in 5 s; "
            "final held-out MLM accuracy 31.2%.") in text and "NSP accuracy" not in text
