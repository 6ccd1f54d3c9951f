"""The report of the pre-training experiment (train/experiment.py): mean ± standard deviation over seeds
of held-out accuracy and macro-F1 for each (arm, label budget), as JSON, a markdown table and a PNG
plot of accuracy against the number of labels."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GOAL_BUDGET, GOAL_POINTS = 500, 3.0


def summarise(results):
    """``{arm: {budget: {"n_labels", "accuracy": [per seed], "macro_f1": [...], "mean", "std", ...}}}``."""
    table = {}
    for run in sorted(results["runs"], key=lambda r: (r["arm"], str(r["budget"]), r["seed"])):
        cell = table.setdefault(run["arm"], {}).setdefault(str(run["budget"]), {
            "n_labels": run["n_labels"], "seeds": [], "accuracy": [], "macro_f1": []})
        cell["seeds"].append(run["seed"])
        cell["accuracy"].append(run["accuracy"])
        cell["macro_f1"].append(run["macro_f1"])
    for arm in table.values():
        for cell in arm.values():
            for key in ("accuracy", "macro_f1"):
                cell[f"{key}_mean"] = float(np.mean(cell[key]))
                cell[f"{key}_std"] = float(np.std(cell[key], ddof=1)) if len(cell[key]) > 1 else 0.0
    return table


def goal(table):
    """Pre-trained minus from-scratch mean accuracy at 500 labels, in points (None if either is missing)."""
    budget = str(GOAL_BUDGET)
    if budget not in table.get("pretrained", {}) or budget not in table.get("scratch", {}):
        return None
    return 100 * (table["pretrained"][budget]["accuracy_mean"] - table["scratch"][budget]["accuracy_mean"])


def _budget_order(budgets):
    return sorted(budgets, key=lambda b: float("inf") if b == "all" else int(b))


def markdown(results, table, title="Pre-trained vs from-scratch vs word2vec-initialised mini-BERT"):
    budgets = _budget_order({b for arm in table.values() for b in arm})
    seeds = sorted({r["seed"] for r in results["runs"]})
    lines = [f"# {title}", "", f"Held-out test split: {results['n_test']} examples; training pool "
             f"{results['n_train']}. Seeds {seeds}; cells are mean ± std over seeds "
             "(test accuracy %, then macro-F1 %), per-seed accuracies in brackets.", "",
             "| arm | " + " | ".join(f"{b} labels" for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for arm, cells in table.items():
        row = []
        for b in budgets:
            c = cells.get(b)
            row.append("—" if c is None else
                       f"{100 * c['accuracy_mean']:.1f} ± {100 * c['accuracy_std']:.1f} / "
                       f"{100 * c['macro_f1_mean']:.1f} [{', '.join(f'{100 * a:.1f}' for a in c['accuracy'])}]")
        lines.append(f"| {arm} | " + " | ".join(row) + " |")
    gain = goal(table)
    verdict = "not measured" if gain is None else f"{gain:+.1f} points, {'met' if gain >= GOAL_POINTS else 'NOT met'}"
    lines += ["", f"Goal: pre-trained beats from-scratch by >= 3 accuracy points at 500 labels: {verdict}."]
    if "pretrain" in results:
        final, config = results["pretrain"]["final"], results["config"]
        objective = "MLM + NSP" if config.get("pretrain_nsp", True) else "MLM only"
        names = {"eval_mlm_accuracy": "held-out MLM accuracy", "eval_nsp_accuracy": "NSP accuracy"}
        measured = [f"{name} {100 * final[key]:.1f}%" for key, name in names.items() if key in final]
        lines.append(f"Pre-training ({objective} on {', '.join(config.get('pretrain_sources', ['?']))}): "
                     f"{config['pretrain_steps']} steps of {config.get('pretrain_batch', '?')} sequences in "
                     f"{results['pretrain']['seconds']:.0f} s; final " + ", ".join(measured) + ".")
    if "word2vec" in results:
        lines.append(f"word2vec: {results['word2vec']['seconds']:.0f} s; vectors for "
                     f"{100 * results['word2vec']['coverage']:.0f}% of the tokenizer's vocabulary.")
    lines.append(f"Total wall time {results['seconds'] / 60:.1f} min.")
    return "\n".join(lines) + "\n"


def plot(table, path):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for arm, cells in table.items():
        budgets = _budget_order(cells)
        x = [cells[b]["n_labels"] for b in budgets]
        y = [100 * cells[b]["accuracy_mean"] for b in budgets]
        err = [100 * cells[b]["accuracy_std"] for b in budgets]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=arm)
    ax.set_xscale("log")
    ax.set_xlabel("labelled training examples")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title("Movie-review sentiment: accuracy vs labels (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results, stem):
    """Write ``stem.json``, ``stem.md`` and ``stem.png``; returns the markdown."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    table = summarise(results)
    text = markdown(results, table)
    stem.with_suffix(".json").write_text(json.dumps({**results, "summary": table, "goal_points_at_500": goal(table)},
                                                    indent=1))
    stem.with_suffix(".md").write_text(text)
    plot(table, stem.with_suffix(".png"))
    return text
