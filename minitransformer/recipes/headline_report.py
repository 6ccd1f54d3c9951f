"""The report of the headline experiment (recipes/headline.py): tables, paired differences with 95%
confidence intervals, label efficiency, the compute of every pre-training run, and two plots.

Statistics. A cell is the test accuracy of one arm at one budget over its runs: mean ± sample std. The
difference "A − scratch" at a budget is paired over fine-tuning seeds (a seed fixes the labelled examples
and the head's initialisation for every arm): for seed s,

    d_s = mean over A's pre-training seeds of acc_A(s) − acc_scratch(s),

and we report mean(d) with the Student-t 95% interval mean(d) ± t_{0.975, n−1} · std(d) / √n, n = number
of seeds. Averaging over pre-training seeds first keeps the pairs independent; the interval then covers the
fine-tuning noise and, through the average, part of the pre-training noise (n is small: the interval is
wide and honest).
"""

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

ARM_NAMES = {"bert": "BERT pre-trained (MLM)", "gpt": "GPT pre-trained (causal LM)", "scratch": "from scratch",
             "tfidf": "TF-IDF + logistic regression"}
TASK_NAMES = {"imdb": "IMDB reviews", "movie_reviews": "VADER movie snippets", "trec_questions": "TREC questions"}


def load_records(work):
    """``{"runs": [fine-tune and TF-IDF records], "pretraining": {name: run record with history}}``."""
    work = Path(work)
    runs = [json.loads(p.read_text()) for p in sorted((work / "results").glob("*.json"))]
    pretraining = {p.parent.name: json.loads(p.read_text()) for p in sorted((work / "pretrain").glob("*/run.json"))}
    return {"runs": [r for r in runs if r["kind"] != "pretrain"], "pretraining": pretraining}


def for_config(records, config):
    """The records of ``config``'s arms: a network arm's runs at its fine-tuning rate (``config.arm_lr``)."""
    runs = [r for r in records["runs"] if r["arm"] == "tfidf" or r.get("lr", 0.0) == config.job_lr(r["arm"])]
    return {**records, "runs": runs}


def _budget_key(budget):
    return float("inf") if budget == "all" else int(budget)


def cells(runs):
    """``{task: {arm: {budget: [records]}}}`` of the final arms (not the mechanism's intermediate checkpoints)."""
    table = {}
    for run in runs:
        if run.get("at_step", 0):
            continue
        table.setdefault(run["task"], {}).setdefault(run["arm"], {}).setdefault(run["budget"], []).append(run)
    return table


def per_seed(records):
    """{fine-tuning seed: accuracy averaged over pre-training seeds}."""
    by_seed = {}
    for record in records:
        by_seed.setdefault(record["seed"], []).append(record["accuracy"])
    return {seed: float(np.mean(values)) for seed, values in by_seed.items()}


def paired_difference(records_a, records_b):
    """``(mean, low, high, n)`` in accuracy points of A − B paired over fine-tuning seeds; None if n < 2."""
    a, b = per_seed(records_a), per_seed(records_b)
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        return None
    d = 100 * np.array([a[s] - b[s] for s in seeds])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half), len(d)


def label_efficiency(task_cells, arm="bert", reference_budget="500"):
    """The smallest budget at which scratch's mean reaches ``arm``'s mean at ``reference_budget`` (or None)."""
    if reference_budget not in task_cells.get(arm, {}):
        return None
    target = np.mean([r["accuracy"] for r in task_cells[arm][reference_budget]])
    for budget in sorted(task_cells.get("scratch", {}), key=_budget_key):
        if np.mean([r["accuracy"] for r in task_cells["scratch"][budget]]) >= target:
            return budget
    return "not reached"


def _cell_text(records):
    accuracies = 100 * np.array([r["accuracy"] for r in records])
    std = accuracies.std(ddof=1) if len(accuracies) > 1 else 0.0
    return f"{accuracies.mean():.1f} ± {std:.1f} ({len(accuracies)})"


def _difference_text(difference):
    if difference is None:
        return "—"
    mean, low, high, n = difference
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]"


def task_section(task, task_cells):
    budgets = sorted({b for arm in task_cells.values() for b in arm}, key=_budget_key)
    n_labels = {b: next(r["n_labels"] for arm in task_cells.values() for r in arm.get(b, [])) for b in budgets}
    lines = [f"### {TASK_NAMES.get(task, task)}", "",
             "| arm | " + " | ".join(f"{n_labels[b]:,} labels" for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for arm in [a for a in ARM_NAMES if a in task_cells]:
        lines.append(f"| {ARM_NAMES[arm]} | " + " | ".join(
            _cell_text(task_cells[arm][b]) if b in task_cells[arm] else "—" for b in budgets) + " |")
    lines += ["", "| difference (points, 95% CI) | " + " | ".join(f"{n_labels[b]:,}" for b in budgets) + " |",
              "|---|" + "---|" * len(budgets)]
    for a, b_arm in [("bert", "scratch"), ("gpt", "scratch"), ("bert", "tfidf"), ("gpt", "bert")]:
        if a in task_cells and b_arm in task_cells:
            row = [_difference_text(paired_difference(task_cells[a].get(b, []), task_cells[b_arm].get(b, [])))
                   for b in budgets]
            lines.append(f"| {a} − {b_arm} | " + " | ".join(row) + " |")
    efficiency = label_efficiency(task_cells)
    if efficiency is not None:
        if efficiency == "not reached":
            reached = "is not reached by scratch with any budget measured"
        elif _budget_key(efficiency) <= 500:
            reached = f"is matched by scratch with {n_labels[efficiency]:,} labels: pre-training saved no labels"
        else:
            reached = f"is reached by scratch at {n_labels[efficiency]:,} labels"
        lines += ["", f"Label efficiency: BERT's accuracy with {n_labels.get('500', 500):,} labels {reached}."]
    return lines


def short_commit(commit):
    """``abcdef1234`` or ``abcdef1234+modified`` (the working tree differed from the commit)."""
    base, modified, _ = commit.partition("+modified")
    return base[:10] + modified


def compute_section(pretraining):
    lines = ["| run | steps | tokens seen | wall time | threads | held-out | commit |", "|---|---|---|---|---|---|---|"]
    for name, run in sorted(pretraining.items()):
        final = run["final"]
        held_out = (f"MLM accuracy {100 * final['eval_mlm_accuracy']:.1f}%" if "eval_mlm_accuracy" in final
                    else f"perplexity {final['eval_perplexity']:.0f}")
        lines.append(f"| {name} | {run['steps']:,} | {run['tokens_seen'] / 1e6:.1f} M | "
                     f"{final['wall_seconds'] / 60:.0f} min | {run['threads']} | {held_out} | {short_commit(run['commit'])} |")
    return lines


def markdown(records, config):
    table = cells(records["runs"])
    corpus = next(iter(records["pretraining"].values()), None)
    lines = ["# Does pre-training pay? Pre-trained vs from-scratch vs TF-IDF, with few labels", "",
             "Test accuracy %, mean ± std over runs (number of runs); each run is one fine-tuning seed of one "
             f"pre-trained model. Fine-tuning seeds {config.finetune_seeds}; BERT pre-training seeds "
             f"{config.bert_seeds}; " + (f"GPT pre-training seeds {config.gpt_seeds}" if config.gpt_seeds else
                                         "no GPT arm in this run") + ". Differences are paired over "
             "fine-tuning seeds (pre-training seeds averaged first), with a Student-t 95% interval. "
             + (f"Fine-tuning learning rate per arm, chosen on validation: {config.arm_lr}. " if config.arm_lr else "")
             + "Test texts "
             "never reached the tokenizer, pre-training or any choice; choices (early stopping, TF-IDF's C) "
             "were made on validation. Splits: pretrain_finetune_splits/.", ""]
    headline = paired_difference(table.get("imdb", {}).get("bert", {}).get("500", []),
                                 table.get("imdb", {}).get("scratch", {}).get("500", []))
    if headline is not None:
        lines += [f"**IMDB, 500 labels: pre-trained BERT − scratch = {_difference_text(headline)} points** "
                  f"(mean [95% CI], {headline[3]} paired seeds).", ""]
    for task in [t for t in TASK_NAMES if t in table]:
        lines += task_section(task, table[task]) + [""]
    if records["pretraining"]:
        lines += ["### Pre-training runs (the compute)", ""] + compute_section(records["pretraining"])
        lines += ["", f"Corpus: {corpus['corpus_documents']:,} documents, "
                      f"{corpus['corpus_tokens'] / 1e6:.1f} M tokens, "
                      f"SHA-256 {corpus['corpus_sha256'][:16]}…", ""]
    mechanism = mechanism_points(records)
    if mechanism:
        lines += ["### The gain along one pre-training run (IMDB, 500 labels, BERT seed 0)", "",
                  "| pre-training tokens | BERT − scratch (points, 95% CI) |", "|---|---|"]
        lines += ["| 0 (no pre-training) | 0 by definition: the scratch arm itself |"]
        lines += [f"| {tokens / 1e6:.1f} M | {_difference_text(d)} |" for tokens, d in mechanism]
    return "\n".join(lines) + "\n"


def mechanism_points(records):
    """[(tokens seen, paired difference vs scratch)] at IMDB 500 labels along BERT seed 0's run."""
    run = records["pretraining"].get("bert_seed0")
    scratch = [r for r in records["runs"] if (r["task"], r["arm"], r["budget"]) == ("imdb", "scratch", "500")]
    if run is None or not scratch:
        return []
    tokens_per_step = run["tokens_per_step"]
    by_step = {}
    for r in records["runs"]:
        if (r["task"], r["arm"], r["budget"], r.get("pretrain_seed")) == ("imdb", "bert", "500", 0):
            by_step.setdefault(r.get("at_step") or run["steps"], []).append(r)
    points = [(step * tokens_per_step, paired_difference(rs, scratch)) for step, rs in sorted(by_step.items())]
    return [(tokens, d) for tokens, d in points if d is not None]


def plot_accuracy(table, path):
    tasks = [t for t in TASK_NAMES if t in table]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for arm in [a for a in ARM_NAMES if a in table[task]]:
            budgets = sorted(table[task][arm], key=_budget_key)
            x = [table[task][arm][b][0]["n_labels"] for b in budgets]
            acc = [100 * np.array([r["accuracy"] for r in table[task][arm][b]]) for b in budgets]
            ax.errorbar(x, [a.mean() for a in acc], yerr=[a.std(ddof=1) if len(a) > 1 else 0 for a in acc],
                        marker="o", capsize=3, label=ARM_NAMES[arm])
        ax.set(xscale="log", xlabel="labelled training examples", ylabel="test accuracy (%)",
               title=TASK_NAMES[task])
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_mechanism(records, path):
    points = mechanism_points(records)
    run = records["pretraining"].get("bert_seed0")
    if not points or run is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2))
    tokens = [t / 1e6 for t, _ in points]
    errors = [[d[0] - d[1] for _, d in points], [d[2] - d[0] for _, d in points]]
    gain = ax.errorbar(tokens, [d[0] for _, d in points], yerr=errors, marker="o", capsize=3, color="C0",
                       label="BERT − scratch at 500 IMDB labels (95% CI)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="pre-training tokens seen (millions)", ylabel="accuracy gain over scratch (points)", xlim=(0, None))
    twin = ax.twinx()
    evals = [r for r in run["history"] if "eval_mlm_accuracy" in r]
    (mlm,) = twin.plot([r["step"] * run["tokens_per_step"] / 1e6 for r in evals],
                       [100 * r["eval_mlm_accuracy"] for r in evals], color="C1", label="held-out MLM accuracy")
    twin.set_ylabel("held-out MLM accuracy (%)")
    ax.legend(handles=[gain, mlm], loc="lower right", fontsize=8)
    ax.set_title("The gain from pre-training along one run (BERT, pre-training seed 0)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(records, config, stem):
    """Write ``stem.md``, ``stem.json``, ``stem.png`` and ``stem_tokens.png``; returns the markdown."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    records = for_config(records, config)
    text = markdown(records, config)
    table = cells(records["runs"])
    summary = {task: {arm: {b: {"accuracy": [r["accuracy"] for r in rs]} for b, rs in arms.items()}
                      for arm, arms in by_arm.items()} for task, by_arm in table.items()}
    pretraining = {name: {k: v for k, v in run.items() if k != "history"}
                   for name, run in records["pretraining"].items()}
    stem.with_suffix(".json").write_text(json.dumps({"runs": records["runs"], "pretraining": pretraining,
                                                     "summary": summary}, indent=1))
    stem.with_suffix(".md").write_text(text)
    plot_accuracy(table, stem.with_suffix(".png"))
    plot_mechanism(records, stem.with_name(f"{stem.name}_tokens.png"))
    return text
