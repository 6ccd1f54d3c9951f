"""How much does each encoder know before fine-tuning? A linear probe of its frozen features, on validation.

For each task of the headline experiment (recipes/corpus.py) and each encoder — the pre-trained BERTs and
GPTs of bench/pretrain_finetune.py and the same BERT freshly initialised — the features of a text are the
mean over its real tokens of the encoder's last hidden states (the pooling the fine-tuning recipe uses):

    z = Σ_i m_i h_L[i] / Σ_i m_i,    p(y | z) = softmax(W standardise(z) + b)   (logistic regression)

fitted on the same 500 labelled examples (budget seeds 0, 1, 2) as the headline's runs, with the L2
strength C chosen on validation from ``C_GRID``, as recipes/tfidf.py does for TF-IDF. The table sets the
probe beside the validation accuracy of the headline's fine-tuned runs and of TF-IDF on the same labels,
so a reader sees what pre-training put into the features and what fine-tuning added. Test is never read:
every figure here is a validation accuracy.

    .venv/bin/python bench/linear_probe.py     # ~5 min on one core, after bench/pretrain_finetune.py

Writes bench/results/linear_probe.{json,md}.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown_table, write_results  # noqa: E402

from minitransformer.data.labelled.budget import label_budget  # noqa: E402
from minitransformer.data.text.padding import map_trimmed_batches  # noqa: E402
from minitransformer.data.text.tokenizer import WordPieceTokenizer  # noqa: E402
from minitransformer.models.classifier import mean_pool  # noqa: E402
from minitransformer.recipes.corpus import TASKS  # noqa: E402
from minitransformer.recipes.headline import HeadlineConfig, Job, encoded_task, encoder_for  # noqa: E402
from minitransformer.recipes.pretraining import git_commit  # noqa: E402

WORK = Path(__file__).resolve().parent / "results" / "pretrain_finetune_work"
BUDGET, BUDGET_SEEDS = 500, (0, 1, 2)
C_GRID = (0.01, 0.1, 1.0, 10.0)
ENCODERS = (("bert", 0), ("bert", 1), ("gpt", 0), ("gpt", 1), ("scratch", 0), ("scratch", 1))
ARM_NAMES = {"bert": "BERT pre-trained (MLM)", "gpt": "GPT pre-trained (causal LM)", "scratch": "from scratch",
             "tfidf": "TF-IDF + logistic regression"}


@torch.no_grad()
def mean_pooled_features(encoder, ids, padding_mask, batch_size=128):
    """(N, d_model) numpy array: the mean of the last hidden states over each text's real tokens."""
    encoder.eval()
    return map_trimmed_batches(lambda batch_ids, pad: mean_pool(encoder(batch_ids, padding_mask=pad), pad),
                               ids, padding_mask, batch_size).numpy()  # (N, d_model)


def probe_accuracy(train_x, train_y, validation_x, validation_y):
    """``(validation accuracy, C)`` of the best logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, validation_x = (train_x - mean) / scale, (validation_x - mean) / scale
    scores = [(float(LogisticRegression(C=c, max_iter=3000).fit(train_x, train_y).score(validation_x, validation_y)), c)
              for c in C_GRID]
    return max(scores)


def headline_runs(task, arm):
    """The validation accuracies of the headline's runs of ``arm`` on these labels (those that were run)."""
    pretrain_seeds = sorted({seed for a, seed in ENCODERS if a == arm}) if arm in ("bert", "gpt") else [-1]
    kind, lr = ("tfidf", 0.0) if arm == "tfidf" else ("finetune", HeadlineConfig().job_lr(arm))
    paths = [WORK / "results" / f"{Job(kind, task, arm, p, budget=BUDGET, seed=b, lr=lr).name}.json"
             for p in pretrain_seeds for b in BUDGET_SEEDS]
    return [json.loads(path.read_text())["validation_accuracy"] for path in paths if path.is_file()]


def main():
    torch.set_num_threads(1)
    start, commit = time.perf_counter(), git_commit()
    tokenizer_json = (WORK / "tokenizer.json").read_text(encoding="utf-8")
    tokenizer = WordPieceTokenizer.from_json(tokenizer_json)
    runs = []
    for task in TASKS:
        data = encoded_task(task, tokenizer_json)
        train_ids, train_pad, train_labels = data["train"]
        validation_ids, validation_pad, validation_labels = data["validation"]
        for arm, encoder_seed in ENCODERS:
            job = Job("finetune", task, arm, encoder_seed if arm != "scratch" else -1, budget=BUDGET, seed=encoder_seed)
            encoder = encoder_for(job, HeadlineConfig(), WORK, tokenizer)
            validation_x = mean_pooled_features(encoder, validation_ids, validation_pad)
            for budget_seed in BUDGET_SEEDS:
                chosen = label_budget(train_labels, BUDGET, seed=budget_seed)
                train_x = mean_pooled_features(encoder, train_ids[chosen], train_pad[chosen])
                accuracy, c = probe_accuracy(train_x, [train_labels[i] for i in chosen], validation_x,
                                             validation_labels)
                runs.append({"task": task, "arm": arm, "encoder_seed": encoder_seed, "budget_seed": budget_seed,
                             "probe_validation_accuracy": accuracy, "C": c})
            print(task, arm, encoder_seed, f"{100 * accuracy:.1f}", flush=True)
    rows, finetuned = [], {}
    for task in TASKS:
        for arm in ("bert", "gpt", "scratch", "tfidf"):
            probe = [r["probe_validation_accuracy"] for r in runs if r["task"] == task and r["arm"] == arm]
            finetuned[f"{task}-{arm}"] = headline_runs(task, arm)
            rows.append([task, ARM_NAMES[arm], summary(probe), summary(finetuned[f"{task}-{arm}"])])
    payload = {"budget": BUDGET, "budget_seeds": BUDGET_SEEDS, "C_grid": C_GRID, "runs": runs, "finetuned_validation_accuracies": finetuned, "commit": commit,
               "threads": 1, "wall_seconds": time.perf_counter() - start}
    markdown = ("# What the encoders know before fine-tuning: a linear probe\n\n`bench/linear_probe.py`: "
                f"{BUDGET} labels (budget seeds {list(BUDGET_SEEDS)}), validation accuracy %, mean ± std (runs). "
                "Probe: logistic regression on the frozen encoder's mean-pooled last hidden states, C chosen on "
                "validation. Fine-tuned: the headline's runs on the same labels (their early-stopping state). "
                "From scratch: a freshly initialised encoder (init seeds 0, 1); in the fine-tuned column, the "
                "scratch arm's runs. Test is never read.\n\n"
                + markdown_table(["task", "encoder", "frozen features + probe", "fine-tuned"], rows))
    write_results("linear_probe", payload, markdown)
    print(markdown)


def summary(values):
    if not values:
        return "—"
    spread = f" ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else ""
    return f"{100 * statistics.mean(values):.1f}{spread} ({len(values)})"


if __name__ == "__main__":
    main()
