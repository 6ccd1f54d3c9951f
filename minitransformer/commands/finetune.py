"""`minitransformer finetune`: fine-tune a classifier with the measured recipe (recipes/finetuning.py) —
mean pooling, every weight learning, early stopping on validation — starting from the shipped pre-trained
BERT, a BERT checkpoint of yours, or from scratch, and report its test metrics.

    minitransformer finetune --out runs/imdb                                 # the shipped BERT, IMDB, 500 labels
    minitransformer finetune --task trec_questions --labels all --out runs/trec
    minitransformer finetune --train-file reviews.csv --out runs/mine        # your data: 70/10/20 split
    minitransformer finetune --train-file train.jsonl --test-file test.jsonl --text-column body \\
        --label-column team --labels all --out runs/tickets                  # your own test set
    minitransformer finetune --init runs/bert/checkpoint.safetensors --out runs/cls   # your pre-trained BERT
    minitransformer finetune --init scratch --out runs/scratch               # no pre-training: the baseline

A task's split is fixed (recipes/corpus.py). A file is split with --split-seed into 70% train, 10%
validation, 20% test; with --test-file, validation is 10% of the training file and test is the whole test
file. --labels draws a stratified budget from the training part. Formats of the files:
data/labelled/files.py. Writes OUT/checkpoint.safetensors (for `minitransformer predict` and `evaluate`),
OUT/metrics.json (the run's record and the test report) and OUT/split.json.
"""

import argparse
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from minitransformer.data.labelled.batches import encode_texts
from minitransformer.data.labelled.files import read_labelled_file
from minitransformer.data.labelled.splits import held_out_split, three_way_split
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.recipes.corpus import TASKS, task_data
from minitransformer.recipes.finetuning import FinetuneRecipe, run_finetuning
from minitransformer.recipes.pretraining import DEFAULT_RECIPE, recipe
from minitransformer.recipes.shipped import shipped_bert_path
from minitransformer.train.checkpoint import load_pretrained, read_checkpoint, save_checkpoint
from minitransformer.train.finetune import evaluate_classifier
from minitransformer.train.freezing import FREEZING
from minitransformer.train.loop import CHECKPOINT_NAME, DTYPES

PARTS = ("train", "validation", "test")
DEFAULT_TASK = "imdb"
VALIDATION_FRACTION, TEST_FRACTION = 0.1, 0.2  # of a training file


def print_report(report, class_names):
    print(f"accuracy {report['accuracy']:.4f}  macro-precision {report['macro_precision']:.4f}  "
          f"macro-recall {report['macro_recall']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    width = max(len(n) for n in class_names) + 2
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width}}" for n in class_names))
    for name, row in zip(class_names, report["confusion_matrix"]):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))


def data_source(args):
    """Where the labelled data comes from, as the checkpoint records it: a task, or files and their split."""
    if args.train_file is None:
        if args.test_file is not None or args.split_seed is not None:
            raise ValueError("--test-file and --split-seed go with --train-file (a task's split is fixed)")
        return {"task": args.task or DEFAULT_TASK}
    return {"train_file": str(Path(args.train_file).resolve()),
            "test_file": None if args.test_file is None else str(Path(args.test_file).resolve()),
            "text_column": args.text_column, "label_column": args.label_column, "split_seed": args.split_seed or 0}


def file_fingerprints(source):
    """SHA-256 of each file of a file source ({} for a task): a changed file would change the split."""
    return {path: hashlib.sha256(Path(path).read_bytes()).hexdigest()
            for path in (source.get("train_file"), source.get("test_file")) if path is not None}


def labelled_parts(source):
    """``(parts, indices)``: the train / validation / test ``LabelledTexts`` of a data source (a task, or
    the keys of ``data_source``), and the indices of each part in the set it is drawn from."""
    if "task" in source:
        dataset, split = task_data(source["task"])
    elif source.get("train_file") is None:
        raise ValueError("the checkpoint does not record its data (written by an older `minitransformer finetune`)")
    else:
        columns = {"text_column": source["text_column"], "label_column": source["label_column"]}
        dataset = read_labelled_file(source["train_file"], **columns)
        if source["test_file"] is not None:
            test = read_labelled_file(source["test_file"], **columns, class_names=dataset.class_names)
            try:
                train, validation = held_out_split(len(dataset), VALIDATION_FRACTION, seed=source["split_seed"])
            except ValueError:
                raise ValueError(f"{source['train_file']} has {len(dataset)} examples: too few to hold out "
                                 f"{VALIDATION_FRACTION:.0%} for validation") from None
            indices = {"train": train, "validation": validation, "test": list(range(len(test)))}
            return {"train": dataset.subset(train), "validation": dataset.subset(validation), "test": test}, indices
        split = three_way_split(dataset, VALIDATION_FRACTION, TEST_FRACTION, seed=source["split_seed"])
    indices = {part: getattr(split, part) for part in PARTS}
    return {part: dataset.subset(indices[part]) for part in PARTS}, indices


def initial_encoder(init, seed):
    """``(BertModel, tokenizer, what it is)`` to fine-tune: the shipped BERT (``init`` None), a fresh one
    ("scratch": the reviews-bert architecture with the shipped tokenizer) or a BERT pre-training checkpoint."""
    if init == "scratch":
        try:
            shipped = shipped_bert_path()
        except RuntimeError as error:
            raise RuntimeError(f"--init scratch takes its tokenizer from the shipped model: {error}") from None
        tokenizer = WordPieceTokenizer.from_json(read_checkpoint(shipped)[1]["tokenizer"])
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=len(tokenizer), **recipe(DEFAULT_RECIPE).model_kwargs())
        return BertModel(config), tokenizer, "scratch"
    path = shipped_bert_path() if init is None else Path(init)
    try:
        model, tokenizer, _ = load_pretrained(path, "bert")
    except ValueError as error:
        raise ValueError(f"finetune takes a BERT checkpoint: {error}") from None
    return model.bert, tokenizer, str(path.resolve())


def finetune_recipe(args):
    """``FinetuneRecipe`` with the options given applied (a --max-steps below its min_steps lowers it too)."""
    overrides = {field: getattr(args, field)
                 for field in ("lr", "epochs", "max_steps", "batch_size", "freezing", "dtype")
                 if getattr(args, field) is not None}
    if args.max_steps is not None:
        overrides["min_steps"] = min(FinetuneRecipe.min_steps, args.max_steps)
    return FinetuneRecipe(**overrides)


def _run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe_ = finetune_recipe(args)
    source = data_source(args)
    parts, indices = labelled_parts(source)
    fingerprints = file_fingerprints(source)
    class_names = parts["train"].class_names
    if args.labels is not None and args.labels < len(class_names):
        raise ValueError(f"--labels {args.labels} is below the number of classes ({len(class_names)})")
    encoder, tokenizer, init = initial_encoder(args.init, args.seed)
    default_max_len = TASKS[source["task"]].max_len if "task" in source else encoder.config.max_len
    max_len = min(args.max_len or default_max_len, encoder.config.max_len)
    data = {"num_classes": len(class_names)}
    for part in PARTS:
        data[part] = (*encode_texts(tokenizer, parts[part].texts, max_len), parts[part].labels)
    print(f"{parts['train'].name}: {len(parts['train'])} training examples, {len(parts['validation'])} validation, "
          f"{len(parts['test'])} test; classes {', '.join(class_names)}; init {init}")
    record, classifier = run_finetuning(encoder, data, args.labels, args.seed, recipe_, return_classifier=True)
    report = evaluate_classifier(classifier, *data["test"], data["num_classes"])
    out = Path(args.out)
    provenance = {**source, "file_sha256": fingerprints, "max_len": max_len, "init": init}
    save_checkpoint(out / CHECKPOINT_NAME, classifier, state={
        "model": "classifier", "model_config": encoder.config.to_dict(), "tokenizer": tokenizer.to_json(),
        "pooling": recipe_.pooling, "class_names": class_names, **provenance})
    (out / "metrics.json").write_text(json.dumps({**provenance, "class_names": class_names, "seed": args.seed,
                                                  "recipe": asdict(recipe_), **record, "test_report": report},
                                                 indent=1))
    (out / "split.json").write_text(json.dumps({**source, **indices}))
    print(f"{record['n_labels']} labels, {record['steps']} steps; best validation accuracy "
          f"{record['validation_accuracy']:.4f} at step {record['best_step']}; on the {len(parts['test'])} test "
          f"examples:")
    print_report(report, class_names)
    print(f"classifier: {out / CHECKPOINT_NAME}")
    return 0


def label_count(text):
    """``--labels``: a positive count or "all" (None)."""
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'all', got {text!r}")
    return int(text)


def register(subparsers):
    parser = subparsers.add_parser("finetune", help="fine-tune a classifier on a task or your own labelled file",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--init", help="a BERT pre-training checkpoint, or 'scratch' for a fresh model "
                                       "(default: the shipped pre-trained BERT)")
    data_options = parser.add_argument_group("data: a task, or your file(s)")
    sources = data_options.add_mutually_exclusive_group()
    sources.add_argument("--task", choices=sorted(TASKS), help=f"a task of the experiment (default {DEFAULT_TASK})")
    sources.add_argument("--train-file", help="labelled examples, .csv or .jsonl (see data/labelled/files.py)")
    data_options.add_argument("--test-file", help=f"the test examples, same format (default: {TEST_FRACTION:.0%}% of "
                                                  "--train-file)")
    data_options.add_argument("--text-column", default="text", help="column or field of the texts (default text)")
    data_options.add_argument("--label-column", default="label", help="column or field of the labels (default label)")
    data_options.add_argument("--split-seed", type=int, help="seed of a file's split (default 0)")
    data_options.add_argument("--max-len", type=int, help=f"tokens per text, at most the encoder's (default: the "
                                                          f"task's; for files the encoder's, "
                                                          f"{recipe(DEFAULT_RECIPE).max_len} for the shipped BERT)")
    parser.add_argument("--labels", type=label_count, default=500,
                        help="labelled training examples to use, stratified, or 'all' (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the budget, the head and the batches")
    defaults = FinetuneRecipe()
    parser.add_argument("--lr", type=float, help=f"learning rate (default: the recipe's, {defaults.lr})")
    parser.add_argument("--epochs", type=float, help=f"passes over the labels (default: the recipe's, "
                                                     f"{defaults.epochs}, within its min and max steps)")
    parser.add_argument("--max-steps", type=int, help=f"at most this many steps (default: the recipe's, "
                                                      f"{defaults.max_steps})")
    parser.add_argument("--batch-size", type=int, help=f"examples per step (default: the recipe's, "
                                                       f"{defaults.batch_size})")
    parser.add_argument("--freezing", choices=FREEZING, help=f"what learns: the head, the head with the top encoder "
                                                             f"layer and the pooler, or all (default: the recipe's, "
                                                             f"{defaults.freezing})")
    parser.add_argument("--dtype", choices=DTYPES, help=f"training precision: float32, or bfloat16 or float16 autocast "
                                                        f"for the forward pass (float16 with a gradient scaler; "
                                                        f"default: the recipe's, {defaults.dtype})")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.set_defaults(func=_run)
