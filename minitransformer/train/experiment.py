"""The headline experiment: does pre-training help when labels are scarce?

1. Train a WordPiece tokenizer and pre-train mini-BERT on unlabelled text (train/pretrain.py): by default
   MLM alone on the movie-review snippets and Rotten Tomatoes texts with their labels removed
   (``pretrain_sources``, ``pretrain_nsp``; BERT's MLM + NSP with Shakespeare was the first recipe and lost).
2. Fine-tune a classifier (mean pooling by default, or [CLS]) on the VADER movie reviews with label
   budgets (e.g. 100, 500, 2000, all) drawn from the training part of a fixed held-out split, for three
   initialisations of the same model:
     pretrained  the encoder from step 1;
     scratch     a freshly initialised encoder;
     word2vec    a fresh encoder whose token embeddings of whole words are skip-gram vectors
                 (train/word2vec.py) trained on the same unlabelled text, scaled to the init std 0.02.
3. Report accuracy and macro-F1 on the held-out split for each (arm, budget, seed): train/experiment_report.py.

Jobs run in a pool of spawned worker processes (one torch thread each): pre-training, word2vec and the
from-scratch fine-tunes start at once; the other fine-tunes start when their initialisation is ready.
"""

import math
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from minitransformer.data.corpus import corpus_sentences
from minitransformer.data.labelled import held_out_split, label_budget, load_dataset, save_split
from minitransformer.data.labelled_batches import encode_texts
from minitransformer.data.tokenizer import SPECIAL_TOKENS, WordPieceTokenizer
from minitransformer.models.bert import INIT_STD, BertConfig, BertModel
from minitransformer.models.classifier import POOLINGS, SequenceClassifier
from minitransformer.train.finetune import evaluate_classifier, finetune
from minitransformer.train.experiment_report import write_report
from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig
from minitransformer.train.pretrain import SOURCES, load_bert, pretrain_bert, pretraining_texts

ARMS = ("pretrained", "scratch", "word2vec")


@dataclass
class ExperimentConfig:
    """The defaults are the recipe of the measured table (preset ``full``); docs/pretraining.md says why."""
    dataset: str = "movie_reviews"
    budgets: list = field(default_factory=lambda: [100, 500, 2000, None])  # None = all training labels
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    arms: list = field(default_factory=lambda: list(ARMS))
    pretrain_sources: list = field(default_factory=lambda: ["movie_reviews", "rotten_tomatoes"])
    vocab_size: int = 3000
    model: dict = field(default_factory=lambda: {"max_len": 64, "d_model": 128, "n_layers": 2, "n_heads": 4,
                                                 "d_ff": 512, "backend": "auto"})
    pretrain_steps: int = 9000
    pretrain_batch: int = 64
    pretrain_lr: float = 2e-3
    pretrain_nsp: bool = False  # True: BERT's MLM + NSP pairs; False: MLM alone on whole documents (RoBERTa)
    finetune_lr: float = 1e-3
    pooling: str = "mean"
    backbone_lr_scale: float = 1.0
    finetune_batch: int = 32
    finetune_epochs: float = 10.0
    finetune_min_steps: int = 60
    finetune_max_steps: int = 400
    word2vec_epochs: int = 3
    test_fraction: float = 0.2
    split_seed: int = 0
    workers: int = 2

    def __post_init__(self):
        if not self.arms or set(self.arms) - set(ARMS):
            raise ValueError(f"arms must be a non-empty subset of {ARMS}, got {self.arms}")
        if not self.seeds or not self.budgets:
            raise ValueError("seeds and budgets must be non-empty")
        if any(b is not None and (not isinstance(b, int) or b < 2) for b in self.budgets):
            raise ValueError(f"budgets must be ints >= 2 or None (all), got {self.budgets}")
        if not self.pretrain_sources or set(self.pretrain_sources) - set(SOURCES):
            raise ValueError(f"pretrain_sources must be a non-empty subset of {SOURCES}, got {self.pretrain_sources}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")


SMALL_MODEL = {"max_len": 64, "d_model": 64, "n_layers": 2, "n_heads": 2, "d_ff": 256, "backend": "auto"}
PRESETS = {  # "full": about 45 min on 2 CPU cores; "demo" (make demo): a few minutes
    "full": {},
    "demo": {"budgets": [100, 500, None], "seeds": [0], "pretrain_steps": 400, "finetune_epochs": 5.0,
             "finetune_min_steps": 30, "finetune_max_steps": 100, "word2vec_epochs": 1, "model": SMALL_MODEL},
}


def finetune_steps(n_labels, config):
    """About ``finetune_epochs`` passes over the labels, clamped to [min_steps, max_steps]."""
    steps = math.ceil(config.finetune_epochs * n_labels / config.finetune_batch)
    return int(min(config.finetune_max_steps, max(config.finetune_min_steps, steps)))


def _pretrain_job(texts, tokenizer_json, out_dir, config):
    torch.set_num_threads(1)
    steps = config.pretrain_steps
    train_config = TrainConfig(steps=steps, lr=config.pretrain_lr, warmup_steps=steps // 10,
                               eval_every=max(1, steps // 10), checkpoint_every=500)
    start = time.perf_counter()
    _, _, history = pretrain_bert(texts, out_dir, train_config, batch_size=config.pretrain_batch,
                                  model_kwargs=config.model, tokenizer=WordPieceTokenizer.from_json(tokenizer_json),
                                  progress=False, nsp=config.pretrain_nsp)
    return {"seconds": time.perf_counter() - start, "final": history[-1]}


def _word2vec_job(texts, tokenizer_json, dim, epochs):
    from minitransformer.train.word2vec import Word2VecConfig, train_word2vec
    torch.set_num_threads(1)
    result = train_word2vec(corpus_sentences(texts), Word2VecConfig(dim=dim, epochs=epochs, min_count=3, threads=1),
                            progress=False)
    tokenizer = WordPieceTokenizer.from_json(tokenizer_json)
    rows, vectors = [], []
    for token_id, token in enumerate(tokenizer.vocab):
        if token_id >= len(SPECIAL_TOKENS) and token in result.vectors:
            rows.append(token_id)
            vectors.append(result.vectors[token])
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors *= INIT_STD / vectors.std()  # same scale as the random initialisation
    return {"rows": rows, "vectors": vectors, "seconds": result.seconds, "coverage": len(rows) / len(tokenizer)}


def _finetune_job(arm, seed, budget, data, config, init):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    if arm == "pretrained":
        encoder = load_bert(init)[0].bert
    else:
        encoder = BertModel(BertConfig(vocab_size=data["vocab_size"], **config.model))
        if arm == "word2vec":
            with torch.no_grad():
                encoder.token_embeddings.weight[init["rows"]] = torch.from_numpy(init["vectors"])
    classifier = SequenceClassifier(encoder, data["num_classes"], pooling=config.pooling)
    chosen = label_budget(data["train_labels"], budget, seed=seed)
    steps = finetune_steps(len(chosen), config)
    train_config = TrainConfig(steps=steps, lr=config.finetune_lr, warmup_steps=steps // 10, eval_every=0,
                               checkpoint_every=0, seed=seed)
    start = time.perf_counter()
    history = finetune(classifier, data["train_ids"][chosen], data["train_pad"][chosen],
                       [data["train_labels"][i] for i in chosen], train_config, batch_size=config.finetune_batch,
                       freezing="all", backbone_lr_scale=config.backbone_lr_scale, progress=False)
    report = evaluate_classifier(classifier, data["test_ids"], data["test_pad"], data["test_labels"],
                                 data["num_classes"])
    return {"arm": arm, "seed": seed, "budget": "all" if budget is None else budget, "n_labels": len(chosen),
            "steps": steps, "seconds": time.perf_counter() - start, "final_train_loss": history[-1]["loss"],
            **{k: report[k] for k in ("accuracy", "macro_f1", "macro_precision", "macro_recall", "confusion_matrix")}}


def prepare(config, out_dir):
    """Texts, tokenizer and the encoded labelled split (saved to ``out_dir/split.json``)."""
    dataset = load_dataset(config.dataset)
    texts = pretraining_texts(config.pretrain_sources)
    tokenizer = WordPieceTokenizer.train(texts, vocab_size=config.vocab_size)
    train_idx, test_idx = held_out_split(len(dataset), config.test_fraction, seed=config.split_seed)
    save_split(out_dir / "split.json", dataset, train_idx, test_idx, config.split_seed)
    train_ids, train_pad = encode_texts(tokenizer, [dataset.texts[i] for i in train_idx], config.model["max_len"])
    test_ids, test_pad = encode_texts(tokenizer, [dataset.texts[i] for i in test_idx], config.model["max_len"])
    data = {"train_ids": train_ids, "train_pad": train_pad, "train_labels": [dataset.labels[i] for i in train_idx],
            "test_ids": test_ids, "test_pad": test_pad, "test_labels": [dataset.labels[i] for i in test_idx],
            "num_classes": len(dataset.class_names), "vocab_size": len(tokenizer)}
    return texts, tokenizer, data


def run_experiment(config, out_dir, log=print):
    """Run every job; returns the results dict (also the input of experiment_report.write_report)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    texts, tokenizer, data = prepare(config, out_dir)
    log(f"tokenizer: {len(tokenizer)} tokens; {len(data['train_labels'])} training / "
        f"{len(data['test_labels'])} held-out examples")
    results = {"config": asdict(config), "runs": [], "n_train": len(data["train_labels"]),
               "n_test": len(data["test_labels"])}
    # "spawn", not fork: with the fused attention op, forked workers died (BrokenProcessPool); a fork
    # copies the parent's OpenMP runtime state, which the op's parallel loops then use.
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {}  # future -> "pretrain" | "word2vec" | "finetune"

        def submit_finetunes(arm, init):
            for seed in config.seeds:
                for budget in config.budgets:
                    pending[pool.submit(_finetune_job, arm, seed, budget, data, config, init)] = "finetune"
        if "pretrained" in config.arms:
            pending[pool.submit(_pretrain_job, texts, tokenizer.to_json(), out_dir / "pretrain", config)] = "pretrain"
        if "word2vec" in config.arms:
            pending[pool.submit(_word2vec_job, texts, tokenizer.to_json(), config.model["d_model"],
                                config.word2vec_epochs)] = "word2vec"
        if "scratch" in config.arms:
            submit_finetunes("scratch", None)
        while pending:
            done = next(iter(wait(list(pending), return_when=FIRST_COMPLETED).done))
            kind, value = pending.pop(done), done.result()
            if kind == "finetune":
                results["runs"].append(value)
                log(f"  {value['arm']:10s} seed {value['seed']} labels {value['n_labels']:5d}: "
                    f"accuracy {value['accuracy']:.3f}  macro-F1 {value['macro_f1']:.3f}  ({value['seconds']:.0f} s)")
            elif kind == "pretrain":
                results["pretrain"] = value
                log(f"pre-training done in {value['seconds']:.0f} s")
                submit_finetunes("pretrained", out_dir / "pretrain" / CHECKPOINT_NAME)
            else:
                results["word2vec"] = {k: v for k, v in value.items() if k not in ("rows", "vectors")}
                log(f"word2vec done in {value['seconds']:.0f} s")
                submit_finetunes("word2vec", value)
    results["seconds"] = time.perf_counter() - start
    return results


def run_demo(results_dir, log=print):
    """The reduced experiment of ``make demo``: writes ``pretrain_finetune_demo.{json,md,png}`` in
    ``results_dir``; returns the markdown report."""
    stem = Path(results_dir) / "pretrain_finetune_demo"
    results = run_experiment(ExperimentConfig(**PRESETS["demo"]), stem.parent / f"{stem.name}_work", log=log)
    return write_report(results, stem)
