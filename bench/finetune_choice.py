"""The fine-tuning recipe of each network arm, chosen on validation only: IMDB, 500 labels, fine-tuning
seed 0, for the model from scratch and for the pre-trained BERT and GPT (pre-training seed 0) of the
headline experiment (bench/pretrain_finetune.py must have pre-trained them). The grid: learning rates
{1e-4, 3e-4, 1e-3} for the recipe's 10 epochs; for scratch and BERT also {3e-4, 1e-3} for 30 epochs
(validation read 6 times instead of 3). No run reads test: each is handed the validation part in its place.

The rule: the best learning rate at 10 epochs; a 30-epoch recipe only if it beats that by more than one
standard error of a validation accuracy (sqrt(a (1 - a) / n), 1.4 points at n = 996), since it costs three
times as much and a smaller difference is within what another seed changes. (This margin was set after
the 30-epoch runs were seen; the report says what plain best-of-grid would have chosen.)

    .venv/bin/python bench/finetune_choice.py              # one worker; runs what is not done yet
    .venv/bin/python bench/finetune_choice.py --workers 2

Each run takes 5-6 min (10 epochs) or about 17 min (30 epochs) of one core; its record is kept in
bench/results/pretrain_finetune_work/choice/ as it ends, so an interrupted run continues. Writes
bench/results/finetune_choice.{json,md}; the chosen recipes go into HeadlineConfig.
"""

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown_table, write_results  # noqa: E402

from minitransformer.data.text.tokenizer import WordPieceTokenizer  # noqa: E402
from minitransformer.recipes.finetuning import FinetuneRecipe, run_finetuning  # noqa: E402
from minitransformer.recipes.headline import HeadlineConfig, Job, encoded_task, encoder_for  # noqa: E402
from minitransformer.recipes.pretraining import git_commit  # noqa: E402

WORK = Path(__file__).resolve().parent / "results" / "pretrain_finetune_work"
TASK, BUDGET, SEED = "imdb", 500, 0
ARMS = (("scratch", -1), ("bert", 0), ("gpt", 0))
LONG = {"epochs": 30.0, "max_steps": 1000, "n_checks": 6}  # 469 steps at 500 labels
RATES = [{"lr": lr} for lr in (1e-4, 3e-4, 1e-3)]
GRID = {"scratch": RATES + [{"lr": lr, **LONG} for lr in (3e-4, 1e-3)],
        "bert": RATES + [{"lr": lr, **LONG} for lr in (3e-4, 1e-3)],
        "gpt": RATES}


def standard_error(accuracy, n):
    return math.sqrt(accuracy * (1.0 - accuracy) / n)


def choose(runs, n_validation):
    """The rule of the module docstring: ``(chosen overrides, best-of-grid overrides)``."""
    short = max((r for r in runs if "epochs" not in r["overrides"]), key=lambda r: r["validation_accuracy"])
    best = max(runs, key=lambda r: r["validation_accuracy"])
    margin = standard_error(short["validation_accuracy"], n_validation)
    chosen = best if best["validation_accuracy"] > short["validation_accuracy"] + margin else short
    return chosen["overrides"], best["overrides"]


def run_name(arm, overrides):
    return f"{arm}-" + "-".join(f"{key}{value:g}" for key, value in sorted(overrides.items()))


def validation_run(arm, pretrain_seed, overrides):
    """One fine-tuning run of ``arm`` with the recipe ``overrides``, validation only; its record."""
    path = WORK / "choice" / f"{run_name(arm, overrides)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    torch.set_num_threads(1)
    commit = git_commit()
    tokenizer_json = (WORK / "tokenizer.json").read_text(encoding="utf-8")
    data = dict(encoded_task(TASK, tokenizer_json))
    data["test"] = data["validation"]  # the choice never reads test
    job = Job("finetune", TASK, arm, pretrain_seed, budget=BUDGET, seed=SEED)
    encoder = encoder_for(job, HeadlineConfig(), WORK, WordPieceTokenizer.from_json(tokenizer_json))
    record = run_finetuning(encoder, data, BUDGET, SEED, FinetuneRecipe(**overrides))
    record = {"arm": arm, "pretrain_seed": pretrain_seed, "overrides": overrides, "commit": commit, "threads": 1,
              **{key: record[key] for key in ("validation_accuracy", "validation_curve", "best_step", "steps",
                                               "seconds")}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes, one torch thread each")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    grid = [(arm, seed, overrides) for arm, seed in ARMS for overrides in GRID[arm]]
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
        runs = list(pool.map(validation_run, *zip(*grid)))
    n_validation = len(encoded_task(TASK, (WORK / "tokenizer.json").read_text(encoding="utf-8"))["validation"][2])
    choices = {arm: choose([r for r in runs if r["arm"] == arm], n_validation) for arm, _ in ARMS}
    chosen = {arm: pair[0] for arm, pair in choices.items()}
    payload = {"task": TASK, "budget": BUDGET, "seed": SEED, "grid": GRID, "runs": runs, "chosen": chosen,
               "best_of_grid": {arm: pair[1] for arm, pair in choices.items()}, "n_validation": n_validation,
               "wall_seconds_this_process": time.perf_counter() - start}
    rows = [[r["arm"], f"{r['overrides']['lr']:g}", f"{r['overrides'].get('epochs', FinetuneRecipe.epochs):g}",
             r["steps"], f"{100 * r['validation_accuracy']:.1f}", r["best_step"],
             " ".join(f"{100 * a:.1f}" for _, a in r["validation_curve"]) if r["validation_curve"] else "not kept"] for r in runs]
    differs = [f"{arm} {pair[1]}" for arm, pair in choices.items() if pair[0] != pair[1]]
    markdown = (f"# Fine-tuning recipe, chosen on validation\n\n`bench/finetune_choice.py`: IMDB, {BUDGET} labels, "
                f"fine-tuning seed {SEED}, validation accuracy % on {n_validation} reviews (test never read); the "
                "best of the checks is kept (early stopping). The rule: the best rate at 10 epochs; 30 epochs only "
                "when better by more than one standard error (a margin set after the 30-epoch runs were seen). "
                "Chosen: " + "; ".join(f"{arm} {overrides}" for arm, overrides in chosen.items()) + "."
                + (" Plain best-of-grid would have taken " + "; ".join(differs) + "." if differs else "")
                + "\n\n" + markdown_table(["arm", "lr", "epochs", "steps", "validation accuracy %", "best step",
                                            "validation at each check"], rows))
    write_results("finetune_choice", payload, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
