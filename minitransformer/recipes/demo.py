"""The demo of the paradigm (``make demo``, a few minutes on 2 cores), in two acts:

1. ``live_pretraining``: a minute of the pre-training loop, from random weights, on part of the review
   corpus (the headline recipe's model and batch): the masked-LM loss falls as you watch.
2. ``compare``: the shipped pre-trained BERT, the same model from scratch and TF-IDF + logistic regression,
   each fine-tuned on the same 500 labels of TREC question types with 3 seeds (the headline's split, test
   set and fine-tuning recipe, each network at its rate chosen on validation), and the gain with a 95%
   interval from a paired bootstrap over test examples and seeds: resample the test questions with
   replacement, average (correct_pretrained − correct_scratch) over them and over the seeds; the 2.5th and
   97.5th percentiles of 2,000 resamples bound the gain. TREC is the headline task where pre-training pays
   at this compute; on IMDB's long reviews it does not (bench/results/pretrain_finetune.md), and the demo
   says so.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.recipes.corpus import review_corpus, task_data, task_parts
from minitransformer.recipes.finetuning import run_finetuning
from minitransformer.recipes.headline_report import TASK_NAMES
from minitransformer.recipes.headline import HeadlineConfig, encoded_task
from minitransformer.recipes.pretraining import recipe, run_pretraining
from minitransformer.recipes.shipped import shipped_bert_path
from minitransformer.recipes.tfidf import run_tfidf
from minitransformer.train.finetune import predict
from minitransformer.train.checkpoint import load_pretrained

DEMO_TASK, DEMO_BUDGET, DEMO_SEEDS = "trec_questions", 500, (0, 1, 2)
ARMS = ("pretrained", "scratch", "tfidf")
BOOTSTRAP_SAMPLES = 2000


def live_pretraining(out_dir, steps=40, documents=4000):
    """A short pre-training run of the headline recipe from random weights; returns its record."""
    corpus = review_corpus()[:documents]
    short = recipe("reviews-bert", steps=steps, eval_every=steps, checkpoint_every=0, keep_steps=[],
                   vocab_size=4000, held_out_fraction=0.05)
    return run_pretraining(short, out_dir, texts=corpus)


def _demo_job(arm, seed):
    """One arm and seed on the demo task; returns (arm, seed, record, per-test-example correctness)."""
    torch.set_num_threads(1)
    path = shipped_bert_path()
    dataset, split = task_data(DEMO_TASK)
    test_labels = np.array([dataset.labels[i] for i in split.test])
    if arm == "tfidf":
        parts = task_parts(DEMO_TASK)
        record, predictions = run_tfidf(parts, len(dataset.class_names), DEMO_BUDGET, seed, return_predictions=True)
        return arm, seed, record, predictions == test_labels
    model, tokenizer, _ = load_pretrained(path, "bert")
    data = encoded_task(DEMO_TASK, tokenizer.to_json())
    if arm == "scratch":
        torch.manual_seed(seed)
        encoder = BertModel(BertConfig(**model.config.to_dict()))
    else:
        encoder = model.bert
    finetune_recipe = HeadlineConfig().finetune_recipe("scratch" if arm == "scratch" else "bert")
    record, classifier = run_finetuning(encoder, data, DEMO_BUDGET, seed, finetune_recipe, return_classifier=True)
    ids, pad, _ = data["test"]
    return arm, seed, record, predict(classifier, ids, pad).numpy() == test_labels


def bootstrap_gain(correct_a, correct_b, samples=BOOTSTRAP_SAMPLES, seed=0):
    """``(gain, low, high)`` in points: mean over seeds and test examples of correct_a − correct_b, and its
    95% paired-bootstrap interval over test examples. ``correct_*``: (seeds, examples) bool arrays."""
    differences = (np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)).mean(0)  # (examples,)
    rng = np.random.default_rng(seed)
    resampled = differences[rng.integers(0, len(differences), (samples, len(differences)))].mean(1)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return 100 * differences.mean(), 100 * low, 100 * high


def compare(workers=2):
    """Fine-tune the three arms with both seeds; returns ({arm: [records]}, {arm: (seeds, examples) bool})."""
    records, correct = {arm: [] for arm in ARMS}, {arm: [] for arm in ARMS}
    jobs = [(arm, seed) for seed in DEMO_SEEDS for arm in ARMS]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for arm, seed, record, right in pool.map(_demo_job, *zip(*jobs)):
            records[arm].append(record)
            correct[arm].append(right)
    return records, {arm: np.stack(rows) for arm, rows in correct.items()}


def verdict(low, high, other="scratch"):
    """What the 95% interval of (pre-trained − ``other``) says, in words."""
    if low > 0:
        return "pre-training pays" if other == "scratch" else "the pre-trained BERT is ahead"
    if high < 0:
        return "here pre-training costs accuracy" if other == "scratch" else "the pre-trained BERT is behind"
    return "the difference is within the noise of this comparison"


def comparison_table(records, correct):
    """The demo's table, as text for people."""
    n_labels, n_test = records["scratch"][0]["n_labels"], correct["scratch"].shape[1]
    names = {"pretrained": "shipped pre-trained BERT", "scratch": "same model from scratch",
             "tfidf": "TF-IDF + logistic regression"}
    lines = [f"{TASK_NAMES[DEMO_TASK]} with {n_labels} labels: test accuracy on {n_test:,} test examples "
             f"(seeds {list(DEMO_SEEDS)})", ""]
    for arm in ARMS:
        accuracies = [100 * r["accuracy"] for r in records[arm]]
        lines.append(f"  {names[arm]:32s} {np.mean(accuracies):5.1f}%   (per seed: "
                     + ", ".join(f"{a:.1f}" for a in accuracies) + ")")
    lines.append("")
    for other in ("scratch", "tfidf"):
        gain, low, high = bootstrap_gain(correct["pretrained"], correct[other])
        lines.append(f"  pre-trained − {other:8s} {gain:+5.1f} points, 95% interval {low:+.1f} to {high:+.1f} "
                     f"(paired bootstrap over test examples): {verdict(low, high, other)}")
    return "\n".join(lines)


def run(work_dir, log=print):
    """Both acts; returns the comparison table (text)."""
    start = time.perf_counter()
    log("-- act 1: a minute of pre-training from random weights (masked-LM loss should fall) --")
    record = live_pretraining(Path(work_dir) / "live_pretraining")
    history = record["history"]
    log(f"   loss {history[0]['loss']:.2f} at step 1 -> {history[-1]['loss']:.2f} at step {len(history)} "
        f"({record['tokens_seen']:,} tokens, {history[-1]['wall_seconds']:.0f} s). The shipped model ran the same loop "
        f"for {recipe('reviews-bert').steps:,} steps.")
    log("-- act 2: fine-tuning with few labels: shipped pre-trained BERT vs scratch vs TF-IDF --")
    table = comparison_table(*compare())
    log(table)
    log("   TREC is where pre-training pays at this compute; on IMDB's long reviews, with 500 labels, the same\n"
        "   model from scratch and TF-IDF do better (README, \"Does pre-training pay?\").")
    log(f"   ({(time.perf_counter() - start) / 60:.1f} min in all)")
    return table

