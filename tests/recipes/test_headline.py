"""The headline experiment's plan and report: job order and dependencies, paired differences with their
confidence interval, label efficiency, the report files."""

import json

import numpy as np
import pytest
from scipy import stats

from minitransformer.recipes.headline import HeadlineConfig, Job, plan
from minitransformer.recipes.headline_report import (for_config, label_efficiency, markdown, paired_difference,
                                                     write_report)


def test_plan_puts_pretraining_first_and_imdb_500_next():
    jobs = plan(HeadlineConfig(gpt_seeds=[0]))
    names = [job.name for job in jobs]
    assert names[:3] == ["pretrain-bert0", "pretrain-bert1", "pretrain-gpt0"]
    assert all(job.task == "imdb" and job.budget == 500 for job in jobs[3:18]) and len(set(names)) == len(names)
    assert Job("finetune", "imdb", "bert", 1, budget=500).needs() == Job("pretrain", arm="bert", pretrain_seed=1)
    assert Job("finetune", "imdb", "scratch", budget=500).needs() is None
    assert Job("pretrain", arm="gpt", pretrain_seed=0).needs() is None
    assert all(job.budget == 500 and job.task != "imdb" for job in jobs[18:48])
    mechanism = [job for job in jobs if job.at_step]
    assert {job.at_step for job in mechanism} == {375, 750, 1500} and jobs[48:57] == mechanism
    assert [job.budget for job in jobs[57:]] == sorted((job.budget for job in jobs[57:]),
                                                       key=lambda b: float("inf") if b is None else b)
    assert jobs[-1].task == "imdb" and jobs[-1].budget is None
    # 3 tasks x 4 budgets x 3 seeds x (tfidf, scratch, bert0, bert1, gpt0), pre-training and the mechanism
    assert len(jobs) == 3 * 4 * 3 * 5 + 3 + 9


@pytest.mark.parametrize("kwargs, message", [({"arms": ["t5"]}, "arms"), ({"tasks": ["wiki"]}, "tasks"),
                                             ({"budgets": [1]}, "budgets"), ({"finetune_seeds": []}, "seeds"),
                                             ({"finetune": {"pooling": "max"}}, "pooling"),
                                             ({"arm_lr": {"tfidf": 1e-3}}, "arm_lr"), ({"arm_lr": {"bert": 0}}, "arm_lr")])
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HeadlineConfig(**kwargs)


def _run(task, arm, budget, seed, accuracy, pretrain_seed=-1, n_labels=None):
    return {"kind": "tfidf" if arm == "tfidf" else "finetune", "task": task, "arm": arm, "budget": budget,
            "seed": seed, "pretrain_seed": pretrain_seed, "at_step": 0, "accuracy": accuracy,
            "n_labels": n_labels or (20_000 if budget == "all" else int(budget))}


def test_arm_learning_rates_name_their_jobs_and_select_their_runs():
    config = HeadlineConfig(arm_lr={"bert": 3e-4, "scratch": 1e-3}, tasks=["imdb"], budgets=[500])
    assert (config.job_lr("bert"), config.job_lr("scratch"), config.job_lr("gpt")) == (3e-4, 0.0, 0.0)
    assert (config.finetune_recipe("bert").lr, config.finetune_recipe("gpt").lr) == (3e-4, 1e-3)
    jobs = {job.name: job for job in plan(config)}
    assert "imdb-bert1-500-seed2-lr0.0003" in jobs and "imdb-scratch-500-seed2" in jobs
    assert all(job.lr == 3e-4 for job in jobs.values() if job.arm == "bert" and job.kind == "finetune")
    assert jobs["imdb-bert0@375-500-seed0-lr0.0003"].at_step == 375
    runs = [{**_run("imdb", "bert", "500", 0, 0.7, 0), "lr": 0.0}, {**_run("imdb", "bert", "500", 0, 0.8, 0), "lr": 3e-4},
            {**_run("imdb", "scratch", "500", 0, 0.6), "lr": 0.0}, _run("imdb", "tfidf", "500", 0, 0.9)]
    kept = for_config({"runs": runs, "pretraining": {}}, config)["runs"]
    assert [(r["arm"], r["accuracy"]) for r in kept] == [("bert", 0.8), ("scratch", 0.6), ("tfidf", 0.9)]
    assert "chosen on validation" in markdown({"runs": kept, "pretraining": {}}, config)


def test_paired_difference_averages_pretraining_seeds_then_uses_student_t():
    scratch = [_run("imdb", "scratch", "500", s, a) for s, a in enumerate([0.60, 0.62, 0.61])]
    bert = [_run("imdb", "bert", "500", s, a, p) for p, accs in enumerate([[0.70, 0.71, 0.69], [0.72, 0.73, 0.71]])
            for s, a in enumerate(accs)]
    mean, low, high, n = paired_difference(bert, scratch)
    d = 100 * (np.array([0.71, 0.72, 0.70]) - np.array([0.60, 0.62, 0.61]))
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert n == 3 and mean == pytest.approx(d.mean())
    assert (low, high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert paired_difference(bert[:1], scratch) is None  # one seed: no interval


def _results():
    runs = []
    for budget, base in [("100", 0.55), ("500", 0.60), ("2000", 0.70), ("all", 0.80)]:
        for seed in range(3):
            runs.append(_run("imdb", "scratch", budget, seed, base + 0.01 * seed))
            runs.append(_run("imdb", "tfidf", budget, seed, base + 0.08))
            runs += [_run("imdb", "bert", budget, seed, base + 0.06 + 0.01 * seed, p) for p in (0, 1)]
    runs += [dict(_run("imdb", "bert", "500", seed, 0.62, 0), at_step=450) for seed in range(3)]
    history = [{"step": 450, "eval_mlm_accuracy": 0.2}, {"step": 900, "eval_mlm_accuracy": 0.3, "wall_seconds": 60}]
    pretraining = {"bert_seed0": {"steps": 900, "tokens_seen": 900 * 8192, "tokens_per_step": 8192, "threads": 1,
                                  "commit": "abc", "corpus_documents": 10, "corpus_tokens": 1000,
                                  "corpus_sha256": "f" * 64, "final": history[-1], "history": history}}
    return {"runs": runs, "pretraining": pretraining}


def test_label_efficiency():
    from minitransformer.recipes.headline_report import cells
    table = cells(_results()["runs"])["imdb"]
    assert label_efficiency(table) == "2000"  # scratch's 70-72% first reaches BERT's 67% at 2000 labels
    table["scratch"].pop("2000"), table["scratch"].pop("all")
    assert label_efficiency(table) == "not reached"


def test_report_files_and_text(tmp_path):
    text = write_report(_results(), HeadlineConfig(arm_lr={}), tmp_path / "report")
    assert "**IMDB, 500 labels: pre-trained BERT − scratch = +6.0 [" in text
    assert "| bert − tfidf | -1.0 [-3.5, +1.5] |" in text and "reached by scratch at 2,000 labels" in text
    assert "| bert_seed0 | 900 | 7.4 M | 1 min | 1 | MLM accuracy 30.0% | abc |" in text
    assert "| 3.7 M | +1.0 [" in text  # the mechanism: 450 steps x 8192 tokens, gain 62 - 61
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["summary"]["imdb"]["bert"]["500"]["accuracy"] == pytest.approx([0.66, 0.66, 0.67, 0.67, 0.68, 0.68])
    assert (tmp_path / "report.png").stat().st_size > 1000 and (tmp_path / "report_tokens.png").stat().st_size > 1000
    assert "NOT met" not in markdown(_results(), HeadlineConfig())
