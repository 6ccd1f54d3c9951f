"""The headline experiment: does pre-training pay when labels are scarce? Measured on three tasks
(recipes/corpus.py), with label budgets, several seeds and four arms:

    bert     mini-BERT pre-trained with the masked-LM loss (recipe reviews-bert), one run per pre-training seed
    gpt      mini-GPT pre-trained with the causal-LM loss on the same text in the same wall time (reviews-gpt)
    scratch  the BERT architecture, freshly initialised
    tfidf    TF-IDF + logistic regression (recipes/tfidf.py)

Every network arm is fine-tuned with the same recipe (recipes/finetuning.py) on the same labelled examples
(budget and seed fix them), chooses its stopping point on validation, and is read once on test.
The mechanism: BERT (pre-training seed 0) is also fine-tuned from the checkpoints it kept along the way
(``keep_steps``), to plot the gain against the pre-training tokens seen.

Each job writes its record to WORK/results/<job>.json as soon as it ends, and a job whose record exists
is not run again, so an interrupted experiment continues where it stopped (pre-training resumes from its
last checkpoint). Jobs run in a pool of spawned workers with one torch thread each.
"""

import json
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from minitransformer.data.labelled.batches import encode_texts
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.gpt import GPTEncoder
from minitransformer.recipes.corpus import TASKS, review_corpus, task_data, task_parts
from minitransformer.recipes.finetuning import FinetuneRecipe, run_finetuning
from minitransformer.recipes.pretraining import git_commit, recipe, run_pretraining
from minitransformer.recipes.tfidf import run_tfidf
from minitransformer.train.checkpoint import load_pretrained
from minitransformer.train.loop import CHECKPOINT_NAME, kept_checkpoint_name

ARMS = ("bert", "gpt", "scratch", "tfidf")


@dataclass
class HeadlineConfig:
    """The defaults are the measured experiment (bench/results/pretrain_finetune.md)."""
    tasks: list = field(default_factory=lambda: list(TASKS))
    budgets: list = field(default_factory=lambda: [100, 500, 2000, None])  # None = every training label
    finetune_seeds: list = field(default_factory=lambda: [0, 1, 2])
    bert_seeds: list = field(default_factory=lambda: [0, 1])  # pre-training seeds
    gpt_seeds: list = field(default_factory=lambda: [0, 1])  # pre-training seeds of the GPT arm
    arms: list = field(default_factory=lambda: list(ARMS))
    mechanism: bool = True  # fine-tune from BERT seed 0's kept checkpoints (IMDB, 500 labels)
    finetune: dict = field(default_factory=dict)  # FinetuneRecipe overrides
    # each network arm's fine-tuning learning rate where it differs from the recipe's, chosen on validation
    # (bench/finetune_choice.py); empty: every arm at the recipe's rate
    arm_lr: dict = field(default_factory=lambda: {"scratch": 3e-4, "gpt": 3e-4})
    pretrain: dict = field(default_factory=dict)  # overrides applied to both pre-training recipes
    workers: int = 2

    def __post_init__(self):
        if not self.arms or set(self.arms) - set(ARMS):
            raise ValueError(f"arms must be a non-empty subset of {ARMS}, got {self.arms}")
        if not self.tasks or set(self.tasks) - set(TASKS):
            raise ValueError(f"tasks must be a non-empty subset of {sorted(TASKS)}, got {self.tasks}")
        if not self.finetune_seeds or not self.budgets:
            raise ValueError("finetune_seeds and budgets must be non-empty")
        if any(b is not None and (not isinstance(b, int) or b < 2) for b in self.budgets):
            raise ValueError(f"budgets must be ints >= 2 or None (all), got {self.budgets}")
        FinetuneRecipe(**self.finetune)
        if set(self.arm_lr) - {"bert", "gpt", "scratch"} or any(not lr > 0 for lr in self.arm_lr.values()):
            raise ValueError(f"arm_lr maps network arms to positive learning rates, got {self.arm_lr}")

    def finetune_recipe(self, arm):
        """The fine-tuning recipe of a network arm: ``finetune`` overrides, at the arm's rate."""
        return FinetuneRecipe(**{**self.finetune, **({"lr": self.arm_lr[arm]} if arm in self.arm_lr else {})})

    def job_lr(self, arm):
        """The arm's fine-tuning rate when it is not the recipe's, else 0.0 (the job names carry it)."""
        lr = self.finetune_recipe(arm).lr
        return 0.0 if lr == FinetuneRecipe(**self.finetune).lr else lr

    def pretrain_recipe(self, model, seed):
        return recipe(f"reviews-{model}", seed=seed, **self.pretrain)


def budget_name(budget):
    return "all" if budget is None else str(budget)


@dataclass(frozen=True)
class Job:
    kind: str  # "pretrain" | "finetune" | "tfidf"
    task: str = ""
    arm: str = ""
    pretrain_seed: int = -1  # bert / gpt: which pre-training run
    at_step: int = 0  # > 0: fine-tune from the checkpoint kept at this pre-training step
    budget: object = None
    seed: int = 0
    lr: float = 0.0  # > 0: fine-tune at this rate instead of the recipe's

    @property
    def name(self):
        if self.kind == "pretrain":
            return f"pretrain-{self.arm}{self.pretrain_seed}"
        init = self.arm + (str(self.pretrain_seed) if self.pretrain_seed >= 0 else "")
        init += f"@{self.at_step}" if self.at_step else ""
        return f"{self.task}-{init}-{budget_name(self.budget)}-seed{self.seed}" + (f"-lr{self.lr:g}" if self.lr else "")

    def needs(self):
        """The pre-training job this one waits for, or None."""
        if self.kind == "pretrain" or self.pretrain_seed < 0:
            return None
        return Job("pretrain", arm=self.arm, pretrain_seed=self.pretrain_seed)


def priority(job):
    """Sort key, most important first: pre-training; IMDB at 500 labels; the other tasks at 500; the
    mechanism's fine-tunes; then the other budgets, small budgets first, the cheap short-text tasks first."""
    if job.kind == "pretrain":
        return (0,)
    if job.at_step:
        return (3,)
    if job.budget == 500:
        return (1,) if job.task == "imdb" else (2,)
    return (4, float("inf") if job.budget is None else job.budget, job.task == "imdb")


def plan(config):
    """Every job of the experiment, in ``priority`` order (seeds interleaved, so pairs complete early)."""
    arms = [a for a in ("bert", "gpt") if a in config.arms]
    pretrain_seeds = {"bert": config.bert_seeds, "gpt": config.gpt_seeds}
    jobs = [Job("pretrain", arm=arm, pretrain_seed=s) for arm in arms for s in pretrain_seeds[arm]]
    for task in config.tasks:
        for budget in config.budgets:
            for seed in config.finetune_seeds:
                if "tfidf" in config.arms:
                    jobs.append(Job("tfidf", task, "tfidf", budget=budget, seed=seed))
                if "scratch" in config.arms:
                    jobs.append(Job("finetune", task, "scratch", budget=budget, seed=seed,
                                    lr=config.job_lr("scratch")))
                jobs += [Job("finetune", task, arm, s, budget=budget, seed=seed, lr=config.job_lr(arm))
                         for arm in arms for s in pretrain_seeds[arm]]
    if config.mechanism and "bert" in config.arms and 0 in config.bert_seeds and "imdb" in config.tasks:
        jobs += [Job("finetune", "imdb", "bert", 0, at_step, 500, seed, config.job_lr("bert"))
                 for at_step in config.pretrain_recipe("bert", 0).keep_steps for seed in config.finetune_seeds]
    return sorted(jobs, key=priority)


@lru_cache(maxsize=None)
def encoded_task(task, tokenizer_json):
    """The task's train / validation / test parts encoded at the task's length (cached per worker)."""
    dataset, split = task_data(task)
    tokenizer = WordPieceTokenizer.from_json(tokenizer_json)
    data = {"num_classes": len(dataset.class_names)}
    for part in ("train", "validation", "test"):
        indices = getattr(split, part)
        ids, pad = encode_texts(tokenizer, [dataset.texts[i] for i in indices], TASKS[task].max_len)
        data[part] = (ids, pad, [dataset.labels[i] for i in indices])
    return data


def encoder_for(job, config, work, tokenizer):
    """The job's encoder: fresh (scratch, seeded by the job's seed) or loaded from its pre-training run."""
    if job.arm == "scratch":
        torch.manual_seed(job.seed)
        bert = config.pretrain_recipe("bert", 0)
        return BertModel(BertConfig(vocab_size=len(tokenizer), **bert.model_kwargs()))
    folder = work / "pretrain" / f"{job.arm}_seed{job.pretrain_seed}"
    path = folder / (kept_checkpoint_name(job.at_step) if job.at_step else CHECKPOINT_NAME)
    model, its_tokenizer, _ = load_pretrained(path, job.arm)
    if its_tokenizer.vocab != tokenizer.vocab:
        raise ValueError(f"{path} was pre-trained with another tokenizer than {work / 'tokenizer.json'}")
    return model.bert if job.arm == "bert" else GPTEncoder(model)


def run_job(job, config, work):
    """Run one job in this process (one torch thread); returns its record (also written to WORK/results)."""
    torch.set_num_threads(1)
    work, commit = Path(work), git_commit()
    tokenizer_json = (work / "tokenizer.json").read_text(encoding="utf-8")
    if job.kind == "pretrain":
        out = work / "pretrain" / f"{job.arm}_seed{job.pretrain_seed}"
        record = run_pretraining(config.pretrain_recipe(job.arm, job.pretrain_seed), out, progress=False,
                                 resume=(out / CHECKPOINT_NAME).is_file())
        record = {k: v for k, v in record.items() if k != "history"}
    elif job.kind == "tfidf":
        record = run_tfidf(task_parts(job.task), len(task_data(job.task)[0].class_names), job.budget, job.seed)
    else:
        data = encoded_task(job.task, tokenizer_json)
        encoder = encoder_for(job, config, work, WordPieceTokenizer.from_json(tokenizer_json))
        recipe_ = FinetuneRecipe(**{**config.finetune, **({"lr": job.lr} if job.lr else {})})
        record = run_finetuning(encoder, data, job.budget, job.seed, recipe_)
    record = {**asdict(job), "budget": budget_name(job.budget), "job": job.name, "threads": torch.get_num_threads(),
              "commit": commit, **record}
    path = work / "results" / f"{job.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)
    return record


def prepare(work):
    """The shared tokenizer (trained on the review corpus, test texts excluded) and the saved splits."""
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "tokenizer.json").is_file():
        tokenizer = WordPieceTokenizer.train(review_corpus(), vocab_size=recipe("reviews-bert").vocab_size)
        tokenizer.save(work / "tokenizer.json")
    for task in TASKS:
        task_data(task)[1].save(work / f"split_{task}.json")


def run_headline(config, work, log=print, stop_after=None):
    """Run every job of ``plan(config)`` not yet done; ``stop_after`` (seconds): submit nothing new after it.
    Returns the records of all jobs done so far (this run and earlier ones)."""
    work = Path(work)
    prepare(work)
    done = {path.stem for path in (work / "results").glob("*.json")}
    todo = [job for job in plan(config) if job.name not in done]
    log(f"{len(done)} jobs already done, {len(todo)} to run")
    start = time.perf_counter()
    # "spawn", not fork: forked workers inherit the parent's OpenMP state, which the fused op then uses.
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        running = {}
        while todo or running:
            out_of_time = stop_after is not None and time.perf_counter() - start > stop_after
            while len(running) < config.workers and not out_of_time:
                ready = [job for job in todo if job.needs() is None or job.needs().name in done]
                if not ready:
                    break
                todo.remove(ready[0])
                running[pool.submit(run_job, ready[0], config, work)] = ready[0]
            if not running:
                break
            for future in wait(list(running), return_when=FIRST_COMPLETED).done:
                job, record = running.pop(future), future.result()
                done.add(job.name)
                summary = (f"accuracy {record['accuracy']:.3f} (validation {record['validation_accuracy']:.3f})"
                           if "accuracy" in record else f"final {record['final']}")
                log(f"[{time.perf_counter() - start:6.0f} s] {job.name}: {summary}, {record.get('seconds', 0):.0f} s")
    return [json.loads(path.read_text()) for path in sorted((work / "results").glob("*.json"))]
