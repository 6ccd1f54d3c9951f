"""Training word2vec (skip-gram or CBOW, negative sampling) with batched sparse SGD in worker processes.

The schedule is word2vec.c's: the learning rate falls linearly from ``alpha`` to ``min_alpha`` over all
epochs (Mikolov et al. 2013), each epoch sub-samples the corpus afresh and draws new window sizes and
negatives. word2vec.c and gensim update after every (word, context) pair, on several threads that write
the shared tables without locks ("Hogwild!", Recht et al. 2011). We keep the lock-free sharing and
hand ``batch_size`` windows at a time to the step: by default the fused C++ op (ops/word2vec.py), which
updates window after window in place as word2vec.c does; with ``step="torch"`` the readable PyTorch
step, which computes a batch's gradients from the same parameters and sums them into the touched rows
with ``index_add_`` (models/word2vec.py). Windows are built an epoch at a time and negatives 16 batches
at a time, vectorised (data/word2vec/windows.py); a batch is a slice of them, so per step Python only
calls the step.

Workers are processes, not threads: the corpus is cut at sentence boundaries into ``threads`` shards,
each worker trains on its shard for all epochs, and the two tables live in shared memory. Processes
do not share a GIL, which every small torch op takes and releases (on our busy 2-core machine two
threads were slower than one). Each worker runs its torch ops on one core (intra-op threads = 1):
OpenMP's spinning barriers made 2-thread ops ~10x slower there. The learning rate is read from a
words-done counter all workers add to. With ``threads=1`` the work runs in this process and is
deterministic for a seed; with more, like gensim with several workers, it is not.

Defaults are gensim's Word2Vec defaults (dim 100, window 5, negative 5, epochs 5, min_count 5,
sample 1e-3, alpha 0.025, min_alpha 1e-4), so a comparison needs no extra flags.
"""

import json
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait

import numpy as np
import torch
import torch.multiprocessing as mp
from safetensors.torch import save_file
from tqdm.auto import tqdm

from minitransformer.data.word2vec.negatives import NegativeSampler
from minitransformer.data.word2vec.subsampling import keep_probabilities
from minitransformer.data.word2vec.vectors import WordVectors
from minitransformer.data.word2vec.vocab import build_vocabulary
from minitransformer.data.word2vec.windows import batch_order, epoch_windows, window_batches
from minitransformer.models.word2vec import CBOW, SkipGram
from minitransformer.train.seeding import seeded_generator

MODELS = {"skipgram": SkipGram, "cbow": CBOW}
STEPS = ("auto", "fused", "torch")
WORKER_STRIDE = 1000  # worker r of a run seeded s draws from seed s · 1000 + r


def _sgd_step(config):
    """``(step, trim)``: the function ``(model, batch, lr) -> loss`` that trains, and whether its batches
    should drop their padding columns. The step is the fused C++ op when asked for (or, with "auto", when
    the extension is built), which skips padding itself and takes the untrimmed, contiguous batches as
    they are; else the model's readable PyTorch step. The fused op does not implement shared negatives'
    batch-wide fast path, so those use the PyTorch step."""
    if config.step != "torch" and not (config.model == "cbow" and config.shared_negatives):
        try:
            from minitransformer.ops import word2vec as fused
            return {"cbow": fused.cbow_sgd_step, "skipgram": fused.skipgram_sgd_step}[config.model], False
        except ImportError:
            if config.step == "fused":
                raise
    return (lambda model, batch, lr: model.sgd_step(batch, lr)), True


@dataclass
class Word2VecConfig:
    model: str = "skipgram"   # "skipgram" or "cbow"
    dim: int = 100            # vector size
    window: int = 5           # largest window; each centre draws its own from 1..window
    negative: int = 5         # negative samples per window
    epochs: int = 5
    min_count: int = 5        # words seen fewer times are dropped
    sample: float = 1e-3      # sub-sampling threshold t (data/word2vec/subsampling.py); 0 = off
    alpha: float = 0.025      # initial learning rate
    min_alpha: float = 1e-4   # final learning rate
    batch_size: int = 256     # windows per SGD step
    shared_negatives: int = 0  # > 0: S negatives drawn once per batch, weighted negative/S (fast for CBOW)
    threads: int = 2          # worker processes (gensim: worker threads)
    step: str = "auto"        # SGD step: "fused" (C++ op), "torch" (models/word2vec.py) or "auto"
                              # (fused when the extension is built)

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {sorted(MODELS)}, got {self.model!r}")
        for name in ("dim", "window", "negative", "epochs", "min_count", "batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.min_alpha <= self.alpha:
            raise ValueError(f"need 0 < min_alpha <= alpha, got min_alpha={self.min_alpha}, alpha={self.alpha}")
        if self.sample < 0:
            raise ValueError(f"sample must be >= 0, got {self.sample}")
        if self.shared_negatives < 0:
            raise ValueError(f"shared_negatives must be >= 0, got {self.shared_negatives}")
        if self.step not in STEPS:
            raise ValueError(f"step must be one of {STEPS}, got {self.step!r}")


@dataclass
class TrainResult:
    vectors: WordVectors
    model: torch.nn.Module    # SkipGram or CBOW: both tables
    config: Word2VecConfig
    seconds: float            # training wall time (vocabulary building excluded)
    vocab_seconds: float
    words_per_second: float   # corpus tokens (in vocabulary, before sub-sampling) per training second
    epoch_losses: list        # mean loss per trained window, per epoch


class _Progress:
    """Counters shared by the workers: words done (read for the learning rate), loss and windows per epoch."""

    def __init__(self, config, total, context):
        self.config, self.total = config, total
        self.lock = context.Lock()
        self.done = context.Value("d", 0.0, lock=False)
        self.loss = context.Array("d", config.epochs, lock=False)
        self.windows = context.Array("d", config.epochs, lock=False)

    def learning_rate(self):
        config = self.config
        return config.alpha - (config.alpha - config.min_alpha) * min(self.done.value / self.total, 1.0)

    def add(self, epoch, words, loss, windows):
        with self.lock:
            self.done.value += words
            self.loss[epoch] += loss
            self.windows[epoch] += windows


def _shards(sentence_of, count):
    """Cut token positions into ``count`` contiguous ranges of about equal size, at sentence starts."""
    starts = np.flatnonzero(np.diff(sentence_of, prepend=-1))  # first token of every sentence
    wanted = np.arange(1, count) * len(sentence_of) / count
    cuts = starts[np.minimum(np.searchsorted(starts, wanted), len(starts) - 1)]
    bounds = [0, *cuts.tolist(), len(sentence_of)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _train_shard(model, ids, sentence_of, keep, sampler, config, progress, seed, worker=None, on_step=None):
    """One worker: all epochs over one shard of the corpus, updating the shared tables. Its generator is
    seeded by (seed, worker); in this process (``worker`` None) by the seed alone."""
    torch.set_num_threads(1)
    generator = seeded_generator(seed, worker, stride=WORKER_STRIDE)
    sgd_step, trim = _sgd_step(config)
    for epoch in range(config.epochs):
        windows = epoch_windows(ids, sentence_of, keep, config.window, generator)
        if len(windows.centers) == 0:
            continue
        tokens_per_window = windows.source_tokens / len(windows.centers)
        order = batch_order(windows, config.batch_size)
        for batch in window_batches(windows, order, sampler, config.negative, config.batch_size, generator,
                                    config.shared_negatives, trim):
            loss = sgd_step(model, batch, progress.learning_rate())
            words = len(batch.contexts) * tokens_per_window
            progress.add(epoch, words, loss, len(batch.contexts))
            if on_step is not None:
                on_step(words)


def _run_workers(model, ids, sentence_of, keep, sampler, config, progress, seed, bar, context):
    model.share_memory()
    workers = [context.Process(target=_train_shard, args=(model, ids[a:b], sentence_of[a:b], keep, sampler,
                                                          config, progress, seed, rank))
               for rank, (a, b) in enumerate(_shards(sentence_of, config.threads))]
    for worker in workers:
        worker.start()
    while running := [worker.sentinel for worker in workers if worker.is_alive()]:
        wait(running, timeout=0.1)  # returns as soon as a worker ends
        bar.update(progress.done.value - bar.n)
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a word2vec worker process failed (exit code {worker.exitcode})")


def train_word2vec(sentences, config=None, seed=0, progress=True):
    """Train on ``sentences`` (lists of tokens); returns a ``TrainResult`` with the input vectors."""
    config = config or Word2VecConfig()
    start = time.perf_counter()
    vocab = build_vocabulary(sentences, config.min_count)
    ids, sentence_of = vocab.encode(sentences)
    keep = keep_probabilities(vocab.counts, config.sample)
    sampler = NegativeSampler(vocab.counts)
    if not np.any(sentence_of[1:] == sentence_of[:-1]):
        raise ValueError("no word has a context word: every sentence has at most one word after min_count")
    vocab_seconds = time.perf_counter() - start

    model = MODELS[config.model](len(vocab), config.dim, generator=seeded_generator(seed))
    total = config.epochs * len(ids)
    context = mp.get_context("fork")
    shared = _Progress(config, total, context)
    previous_threads = torch.get_num_threads()
    _sgd_step(config)  # loads the extension here, once, before the clock and the workers' fork
    start = time.perf_counter()
    try:
        with tqdm(total=total, unit="word", unit_scale=True, disable=not progress,
                  desc=f"word2vec {config.model}") as bar:
            if config.threads == 1:
                _train_shard(model, ids, sentence_of, keep, sampler, config, shared, seed, on_step=bar.update)
            else:
                _run_workers(model, ids, sentence_of, keep, sampler, config, shared, seed, bar, context)
            bar.update(total - bar.n)  # the per-window word counts are fractional: close the last rounding
    finally:
        torch.set_num_threads(previous_threads)
    seconds = time.perf_counter() - start
    epoch_losses = [loss / max(windows, 1) for loss, windows in zip(shared.loss, shared.windows)]
    vectors = WordVectors(vocab.words, model.input_vectors.detach().numpy().copy())
    return TrainResult(vectors, model, config, seconds, vocab_seconds, shared.done.value / seconds, epoch_losses)


def save_checkpoint(result: TrainResult, path):
    """Both tables as a safetensors file; the words and the config go in its metadata (JSON)."""
    tensors = {name: tensor.detach().contiguous() for name, tensor in result.model.state_dict().items()}
    save_file(tensors, str(path), metadata={"words": json.dumps(result.vectors.words),
                                             "config": json.dumps(asdict(result.config))})
