"""The fine-tuning learning rate of each network arm, chosen on validation only: IMDB, 500 labels,
fine-tuning seed 0, learning rates {1e-4, 3e-4, 1e-3}, for the model from scratch and for the pre-trained
BERT (pre-training seed 0) of the headline experiment (bench/pretrain_finetune.py, which must have
pre-trained it and run both arms' seed-0 job at the recipe's rate, 1e-3: that job's validation accuracy is
reused). The other rates' runs never read test: each is handed the validation part in its place.

    .venv/bin/python bench/finetune_lr_choice.py          # about 20 min of one core; 2 workers

Writes bench/results/finetune_lr_choice.{json,md}; the chosen rates go into HeadlineConfig.arm_lr.
"""

import json
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
from minitransformer.recipes.headline import HeadlineConfig, Job, _encoder, encoded_task  # noqa: E402
from minitransformer.recipes.pretraining import git_commit  # noqa: E402

WORK = Path(__file__).resolve().parent / "results" / "pretrain_finetune_work"
TASK, BUDGET, SEED = "imdb", 500, 0
LEARNING_RATES = (1e-4, 3e-4)  # and the recipe's rate, from the headline's record
ARMS = (("scratch", -1), ("bert", 0))


def validation_run(arm, pretrain_seed, lr):
    torch.set_num_threads(1)
    tokenizer_json = (WORK / "tokenizer.json").read_text(encoding="utf-8")
    data = dict(encoded_task(TASK, tokenizer_json))
    data["test"] = data["validation"]  # the choice never reads test
    job = Job("finetune", TASK, arm, pretrain_seed, budget=BUDGET, seed=SEED)
    encoder = _encoder(job, HeadlineConfig(), WORK, WordPieceTokenizer.from_json(tokenizer_json))
    record = run_finetuning(encoder, data, BUDGET, SEED, FinetuneRecipe(lr=lr))
    return {"arm": arm, "pretrain_seed": pretrain_seed, "lr": lr, "validation_accuracy": record["validation_accuracy"],
            "best_step": record["best_step"], "steps": record["steps"], "seconds": record["seconds"], "threads": 1}


def main():
    start = time.perf_counter()
    grid = [(arm, seed, lr) for arm, seed in ARMS for lr in LEARNING_RATES]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        runs = list(pool.map(validation_run, *zip(*grid)))
    for arm, seed in ARMS:
        name = Job("finetune", TASK, arm, seed, budget=BUDGET, seed=SEED).name
        record = json.loads((WORK / "results" / f"{name}.json").read_text())
        runs.append({"arm": arm, "pretrain_seed": seed, "lr": FinetuneRecipe().lr, "from_record": name,
                     **{key: record[key] for key in ("validation_accuracy", "best_step", "steps", "seconds", "threads")}})
    chosen = {arm: max((r for r in runs if r["arm"] == arm), key=lambda r: r["validation_accuracy"])["lr"]
              for arm, _ in ARMS}
    payload = {"task": TASK, "budget": BUDGET, "seed": SEED, "runs": runs, "chosen": chosen, "commit": git_commit(),
               "wall_seconds": time.perf_counter() - start}
    rows = [[r["arm"], f"{r['lr']:g}", f"{100 * r['validation_accuracy']:.1f}", r["best_step"]] for r in runs]
    markdown = (f"# Fine-tuning learning rate, chosen on validation\n\n`bench/finetune_lr_choice.py`: IMDB, "
                f"{BUDGET} labels, fine-tuning seed {SEED}, validation accuracy % (test never read). Chosen: "
                + ", ".join(f"{arm} {lr:g}" for arm, lr in chosen.items()) + ".\n\n"
                + markdown_table(["arm", "lr", "validation accuracy %", "best step"], rows))
    write_results("finetune_lr_choice", payload, markdown)
    print(markdown)
    print(json.dumps(chosen))


if __name__ == "__main__":
    main()
