"""The fine-tuning recipe of the headline experiment, and one fine-tuning run of it:

    labelled budget (stratified, seeded) -> [CLS] text [SEP] at the task's length -> SequenceClassifier
    (mean pooling over the encoder's states, dropout, linear head) -> AdamW, every weight learning at ``lr``
       (freezing "all", train/freezing.py)
    -> held-out validation accuracy at ``n_checks`` points of the run; the best state is kept
       (early stopping: the one choice made per run, on validation)
    -> test accuracy of that state, read once

The same recipe serves every arm: a pre-trained BERT, a pre-trained GPT (models/gpt.py:GPTEncoder) and the
same BERT architecture freshly initialised ("scratch").
"""

import copy
import math
import time
from dataclasses import dataclass

import torch

from minitransformer.data.labelled.budget import label_budget
from minitransformer.models.classifier import POOLINGS, SequenceClassifier
from minitransformer.train.finetune import evaluate_classifier, finetune
from minitransformer.train.freezing import check_freezing
from minitransformer.train.loop import TrainConfig


@dataclass
class FinetuneRecipe:
    """Defaults: the recipe every arm of the headline uses (docs/pretraining.md)."""
    lr: float = 1e-3
    backbone_lr_scale: float = 1.0
    batch_size: int = 32
    epochs: float = 10.0
    min_steps: int = 50
    max_steps: int = 300
    pooling: str = "mean"
    n_checks: int = 3  # validation evaluations per run (early stopping)
    freezing: str = "all"  # what learns (train/freezing.py)
    top_layers: int = 1  # encoder layers that learn under freezing "top"
    dtype: str = "float32"  # the training forward's precision (train/loop.py: DTYPES)

    def __post_init__(self):
        check_freezing(self.freezing)
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not 1 <= self.min_steps <= self.max_steps:
            raise ValueError(f"need 1 <= min_steps <= max_steps, got {self.min_steps} and {self.max_steps}")
        if self.n_checks < 1:
            raise ValueError(f"n_checks must be >= 1, got {self.n_checks}")

    def steps(self, n_labels):
        """About ``epochs`` passes over the labels, clamped to [min_steps, max_steps]."""
        return int(min(self.max_steps, max(self.min_steps, math.ceil(self.epochs * n_labels / self.batch_size))))


def run_finetuning(encoder, data, budget, seed, recipe, return_classifier=False):
    """Fine-tune ``encoder`` on ``budget`` labels (None = all) of ``data`` (the encoded task: ``train``,
    ``validation``, ``test``, each ``(ids, padding_mask, labels)``, and ``num_classes``); returns a record,
    or ``(record, classifier)`` with ``return_classifier`` (the classifier in its best validation state)."""
    torch.manual_seed(seed)
    classifier = SequenceClassifier(encoder, data["num_classes"], pooling=recipe.pooling)
    train_ids, train_pad, train_labels = data["train"]
    chosen = label_budget(train_labels, budget, seed=seed)
    steps = recipe.steps(len(chosen))
    check_every = math.ceil(steps / recipe.n_checks)
    best = {"accuracy": -1.0}

    def check_validation(model):
        accuracy = evaluate_classifier(model, *data["validation"], data["num_classes"])["accuracy"]
        if accuracy > best["accuracy"]:
            best.update(accuracy=accuracy, state=copy.deepcopy(model.state_dict()))
        return {"accuracy": accuracy}

    config = TrainConfig(steps=steps, lr=recipe.lr, warmup_steps=steps // 10, eval_every=check_every,
                         checkpoint_every=0, seed=seed, dtype=recipe.dtype)
    start = time.perf_counter()
    history = finetune(classifier, train_ids[chosen], train_pad[chosen], [train_labels[i] for i in chosen], config,
                       batch_size=recipe.batch_size, freezing=recipe.freezing, top_layers=recipe.top_layers,
                       backbone_lr_scale=recipe.backbone_lr_scale,
                       evaluate=check_validation, progress=False)
    best_step = next(r["step"] for r in history if r.get("eval_accuracy") == best["accuracy"])
    classifier.load_state_dict(best["state"])
    test = evaluate_classifier(classifier, *data["test"], data["num_classes"])
    record = {"n_labels": len(chosen), "steps": steps, "best_step": best_step, "validation_accuracy": best["accuracy"],
              "accuracy": test["accuracy"], "macro_f1": test["macro_f1"], "confusion_matrix": test["confusion_matrix"],
              "validation_curve": [[r["step"], r["eval_accuracy"]] for r in history if "eval_accuracy" in r],
              "final_train_loss": history[-1]["loss"], "seconds": time.perf_counter() - start}
    return (record, classifier) if return_classifier else record
