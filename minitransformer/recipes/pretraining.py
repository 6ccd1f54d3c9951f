"""Pre-training recipes on the review corpus (recipes/corpus.py): mini-BERT with the masked-LM loss and
mini-GPT with the causal-LM loss, on the same packed token stream, the same tokenizer and windows of the
same length:

    corpus -> WordPiece tokenizer -> documents shuffled (seed 0) and joined by [SEP] into one stream
           -> the last ``held_out_fraction`` of the stream is held out (the same for every run)
           -> per step: ``batch_size`` random windows of ``max_len`` tokens
              bert: [CLS] window [SEP], 15% masked (data/pretraining/windows.py); L = CE at the masked positions
              gpt:  next-token prediction at every position (data/pretraining/causal.py)
           -> train/loop.py (AdamW, warm-up then linear decay, checkpoints with exact resume)

``RECIPES`` names the measured configurations; ``PretrainRecipe()`` (the defaults) is the headline's BERT.
A run writes OUT/checkpoint.safetensors (model, config, tokenizer, recipe, corpus fingerprint, compute),
OUT/checkpoint_step<N>.safetensors at ``keep_steps``, OUT/history.json and OUT/loss_curve.png.
"""

import json
import math
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch

from minitransformer.data.pretraining import causal
from minitransformer.data.pretraining.causal import causal_lm_batch
from minitransformer.data.pretraining.mlm import IGNORE_INDEX
from minitransformer.data.pretraining.windows import mlm_window_batch
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.config import TransformerConfig, check_positions
from minitransformer.recipes.corpus import corpus_sha256, review_corpus
from minitransformer.train.checkpoint import PRETRAINED_MODELS, pretraining_state, read_checkpoint
from minitransformer.train.distributed import is_main_process
from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig, train
from minitransformer.train.seeding import seeded_generator

MODELS = tuple(PRETRAINED_MODELS)
EVAL_WINDOWS = 256
EVAL_SEED = 12345  # the held-out windows and their masking: the same for every run


@dataclass
class PretrainRecipe:
    """One pre-training run. The defaults are the headline's BERT (docs/pretraining.md says why). The model's
    fields (``model_kwargs``) keep models/config.py's defaults except the window length and the positions,
    the recipe's own choices."""
    model: str = "bert"
    vocab_size: int = 8000  # the WordPiece vocabulary the tokenizer is trained to
    d_model: int = TransformerConfig.d_model
    n_layers: int = TransformerConfig.n_layers
    n_heads: int = TransformerConfig.n_heads
    d_ff: int = TransformerConfig.d_ff
    max_len: int = 256  # the length IMDB reviews are read at for fine-tuning (recipes/corpus.py, TASKS)
    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-3
    warmup_fraction: float = 0.05
    seed: int = 0
    held_out_fraction: float = 0.02
    eval_every: int = 250
    checkpoint_every: int = 100
    keep_steps: list = field(default_factory=lambda: [375, 750, 1500])  # for the gain-vs-tokens curve
    backend: str = TransformerConfig.backend
    positions: str = "rotary"  # models/bert.py: learned positions kept the MLM on a plateau for 1,800 steps
    dtype: str = "float32"  # the training forward's precision (train/loop.py: DTYPES)

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        check_positions(self.positions)
        if not 0.0 < self.held_out_fraction < 0.5:
            raise ValueError(f"held_out_fraction must be in (0, 0.5), got {self.held_out_fraction}")

    def model_kwargs(self):
        """The model config's fields the recipe sets (all but the vocabulary, which is the tokenizer's size)."""
        return {f.name: getattr(self, f.name) for f in fields(TransformerConfig)
                if f.name != "vocab_size" and hasattr(self, f.name)}

    def train_config(self):
        return TrainConfig(steps=self.steps, lr=self.lr, warmup_steps=int(self.warmup_fraction * self.steps),
                           eval_every=self.eval_every, checkpoint_every=self.checkpoint_every, seed=self.seed,
                           keep_steps=tuple(self.keep_steps), dtype=self.dtype)


RECIPES = {
    "reviews-bert": PretrainRecipe(),
    # GPT's step costs ~3x BERT's (logits at every position): 1,000 steps take reviews-bert's wall time.
    "reviews-gpt": PretrainRecipe(model="gpt", steps=1000, eval_every=100, keep_steps=[]),
}
DEFAULT_RECIPE = "reviews-bert"


def recipe(name, **overrides):
    """The named recipe with ``overrides`` (field=value) applied; ValueError for an unknown name or field."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r}")
    unknown = set(overrides) - set(asdict(RECIPES[name]))
    if unknown:
        raise ValueError(f"unknown recipe fields {sorted(unknown)}")
    return replace(RECIPES[name], **overrides)


def token_stream(tokenizer, texts, seed=0):
    """The documents in a seeded order, encoded and joined by [SEP] (data/pretraining/causal.py): a 1-D long
    tensor."""
    order = np.random.default_rng(seed).permutation(len(texts))
    return causal.token_stream(tokenizer, [texts[index] for index in order])


def split_stream(recipe_, stream):
    """``(training stream, held-out stream)``: the last ``held_out_fraction`` of the stream is held out."""
    split = int(stream.numel() * (1.0 - recipe_.held_out_fraction))
    return stream[:split], stream[split:]


def build_model(recipe_, vocab_size):
    """The freshly initialised model of ``recipe_``; the initialisation is drawn from ``recipe_.seed``, so that
    two pre-training seeds differ in their initial weights as well as in their batches and masking."""
    config_class, model_class = PRETRAINED_MODELS[recipe_.model]
    torch.manual_seed(recipe_.seed)
    return model_class(config_class(vocab_size=vocab_size, **recipe_.model_kwargs()))


def make_batches(recipe_, stream, vocab_size):
    """``get_batch(step)``: a pure function of the step (a generator seeded by (seed, step))."""
    def get_batch(step):
        generator = seeded_generator(recipe_.seed, step)
        if recipe_.model == "bert":
            return mlm_window_batch(stream, recipe_.max_len, recipe_.batch_size, vocab_size, generator)
        return causal_lm_batch(stream, recipe_.max_len, recipe_.batch_size, generator)
    return get_batch


def make_evaluator(recipe_, held_out, vocab_size):
    """Held-out loss (and MLM accuracy, or perplexity) on fixed windows with a fixed masking."""
    generator = seeded_generator(EVAL_SEED)
    batches = []
    for _ in range(EVAL_WINDOWS // 64):
        if recipe_.model == "bert":
            batches.append(mlm_window_batch(held_out, recipe_.max_len, 64, vocab_size, generator))
        else:
            batches.append(causal_lm_batch(held_out, recipe_.max_len, 64, generator))

    def evaluate(model):
        loss = correct = predicted = 0.0
        for batch in batches:
            if recipe_.model == "bert":
                hidden = model.bert(batch["input_ids"], batch["segment_ids"], batch["padding_mask"])
                used = batch["mlm_labels"] != IGNORE_INDEX  # (B, P): the slots that hold a prediction
                logits = model.masked_logits(hidden, batch["mlm_positions"])[used]
                labels = batch["mlm_labels"][used]
                loss += float(torch.nn.functional.cross_entropy(logits, labels, reduction="sum"))
                correct += float((logits.argmax(-1) == labels).sum())
                predicted += labels.numel()
            else:
                inputs, targets = batch
                loss += float(model.loss(batch)[0]) * targets.numel()
                predicted += targets.numel()
        loss /= predicted
        if recipe_.model == "bert":
            return {"loss": loss, "mlm_accuracy": correct / predicted}
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0))}
    return evaluate


RESULTS_DIR = "bench/results"  # what runs write: a change there is not a change of the code


def git_commit(cwd=None):
    """The commit of the code that runs, with ``+modified`` when a tracked file outside ``bench/results``
    differs from it (``unknown`` outside a git checkout). Read it when a run starts: the checkout may move on
    meanwhile. ``cwd``: a directory of the checkout (default: this package's)."""
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                              cwd=cwd or Path(__file__).resolve().parent).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD") or "unknown"
        code_changed = commit != "unknown" and git("status", "--porcelain", "--untracked-files=no", "--",
                                                   ":(top)", f":(top,exclude){RESULTS_DIR}")
        return commit + ("+modified" if code_changed else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_pretraining(recipe_, out_dir, resume=False, progress=True, texts=None):
    """Pre-train ``recipe_`` on ``texts`` (default: the review corpus); returns the run's record (also saved
    as OUT/run.json): recipe, corpus fingerprint, tokens seen, steps, wall time, threads, commit, history.
    ``resume`` continues OUT/checkpoint.safetensors, which must come from the same recipe and corpus."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = review_corpus() if texts is None else texts
    provenance = {"recipe": asdict(recipe_), "corpus_sha256": corpus_sha256(texts), "corpus_documents": len(texts)}
    if resume:
        saved = read_checkpoint(out_dir / CHECKPOINT_NAME)[1]
        for key in ("recipe", "corpus_sha256"):
            if saved.get(key) != provenance[key]:
                raise ValueError(f"{out_dir / CHECKPOINT_NAME} was made with another {key.replace('_', ' ')}; "
                                 "resume it with the same recipe, options and text")
    tokenizer = WordPieceTokenizer.train(texts, vocab_size=recipe_.vocab_size)
    stream = token_stream(tokenizer, texts)
    train_stream, held_out = split_stream(recipe_, stream)
    if held_out.numel() <= recipe_.max_len + 1:
        raise ValueError(f"the corpus gives {stream.numel()} tokens: too few to hold out windows of {recipe_.max_len}")
    model = build_model(recipe_, len(tokenizer))
    provenance.update(corpus_tokens=int(stream.numel()), tokens_per_step=recipe_.batch_size * recipe_.max_len)
    if is_main_process():
        tokenizer.save(out_dir / "tokenizer.json")
    start, commit = time.perf_counter(), git_commit()
    history = train(model, make_batches(recipe_, train_stream, len(tokenizer)), recipe_.train_config(),
                    out_dir=out_dir, evaluate=make_evaluator(recipe_, held_out, len(tokenizer)), resume=resume,
                    progress=progress, desc=f"pre-train {recipe_.model.upper()}",
                    checkpoint_state={**pretraining_state(model, tokenizer), **provenance})
    record = {**provenance, "steps": recipe_.steps, "tokens_seen": recipe_.steps * recipe_.batch_size * recipe_.max_len,
              "seconds_this_process": time.perf_counter() - start, "threads": torch.get_num_threads(),
              "commit": commit, "final": history[-1], "history": history}
    if is_main_process():
        (out_dir / "run.json").write_text(json.dumps(record))
    return record
