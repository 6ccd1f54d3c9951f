"""Loss curves as PNG (matplotlib, Agg backend: no display needed)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_history(history, path, title="training"):
    """Training loss per step, and every ``eval_*`` value at the steps where it was measured."""
    if not history:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["step"] for r in history], [r["loss"] for r in history], lw=0.8, label="train loss")
    eval_keys = sorted({k for r in history for k in r if k.startswith("eval_") and "loss" in k})
    for key in eval_keys:
        points = [(r["step"], r[key]) for r in history if key in r]
        ax.plot(*zip(*points), "o-", label=key.replace("_", " "))
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
