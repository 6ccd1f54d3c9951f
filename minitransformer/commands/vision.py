"""`minitransformer vision pretrain | finetune`: the CNN transfer recipe from the command line.

    minitransformer vision pretrain --classes 0 1 2 3 4 --out runs/vision/pretrain
    minitransformer vision finetune --checkpoint runs/vision/pretrain/checkpoint.safetensors \\
        --classes 5 6 7 8 9 --labels 50 --strategy frozen --out runs/vision/frozen50

``pretrain`` trains a fresh CNN (models/cnn.py) on some classes of a data set; ``finetune`` adapts a
pre-trained checkpoint to other classes or another data set with a label budget and a strategy
(train/vision.py: frozen | full | scratch). Both show a progress bar, write ``checkpoint.safetensors``
and ``loss_curve.png`` to ``--out`` (pretrain adds ``filters.png``) and print the test accuracy.
"""

import sys
from pathlib import Path

from minitransformer.data.images.sets import DATASET_NAMES, DatasetMissingError, load_image_set
from minitransformer.models.cnn import CNNConfig
from minitransformer.train.loop import TrainConfig
from minitransformer.train.vision import (DEFAULT_LR, STRATEGIES, evaluate, finetune, image_tensors,
                                          load_pretrained, plot_filters, pretrain)


def _task(args):
    """(train, test) of ``args.dataset`` restricted to ``args.classes`` (all classes when not given)."""
    train_set, test_set = load_image_set(args.dataset, "train"), load_image_set(args.dataset, "test")
    if args.classes:
        train_set, test_set = train_set.select_classes(args.classes), test_set.select_classes(args.classes)
    return train_set, test_set


def _train_config(args, steps):
    return TrainConfig(steps=steps, lr=args.lr, warmup_steps=steps // 10, decay="cosine", eval_every=0,
                       checkpoint_every=0, seed=args.seed)


def _pretrain(args):
    train_set, test_set = _task(args)
    if args.train_size:
        train_set = train_set.label_budget(args.train_size, seed=args.seed)
    steps = args.epochs * -(-len(train_set) // args.batch)
    model, normalize, _ = pretrain(train_set, CNNConfig(channels=tuple(args.channels)), _train_config(args, steps),
                                   batch_size=args.batch, max_shift=args.max_shift, out_dir=args.out)
    plot_filters(model, args.out / "filters.png", title=f"first-layer filters, {train_set.name}")
    accuracy = evaluate(model, *image_tensors(test_set), normalize)["accuracy"]
    print(f"pre-trained on {len(train_set)} images of {train_set.name} ({steps} steps); "
          f"test accuracy {100 * accuracy:.1f} % on {len(test_set)} images; checkpoint in {args.out}")


def _finetune(args):
    base, normalize, _ = load_pretrained(args.checkpoint)
    train_set, test_set = _task(args)
    if args.labels:
        train_set = train_set.label_budget(args.labels, seed=args.seed)
    model, _ = finetune(base, args.strategy, train_set, _train_config(args, args.steps), normalize,
                        batch_size=args.batch, max_shift=args.max_shift, out_dir=args.out)
    accuracy = evaluate(model, *image_tensors(test_set, model.config.image_size), normalize)["accuracy"]
    print(f"{args.strategy} on {len(train_set)} labelled images of {train_set.name}: test accuracy "
          f"{100 * accuracy:.1f} % on {len(test_set)} images; checkpoint in {args.out}")


def _run(args):
    try:
        args.action(args)
    except (DatasetMissingError, ValueError) as error:
        print(f"minitransformer vision {args.vision_command}: {error}", file=sys.stderr)
        return 2
    return 0


def _common(parser, classes_help, lr):
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="fashion-mnist")
    parser.add_argument("--classes", type=int, nargs="+", help=classes_help)
    parser.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default {lr:g})")
    parser.add_argument("--seed", type=int, default=0)


def register(subparsers):
    parser = subparsers.add_parser("vision", help="pre-train / fine-tune the CNN on images",
                                   description=__doc__.split("\n\n")[0])
    actions = parser.add_subparsers(dest="vision_command", metavar="<pretrain|finetune>", required=True)

    pre = actions.add_parser("pretrain", help="train a fresh CNN on some classes of a data set")
    _common(pre, "classes to train on (default: all)", DEFAULT_LR["pretrain"])
    pre.add_argument("--train-size", type=int, default=8000, help="class-balanced subset; 0 = all")
    pre.add_argument("--epochs", type=int, default=2)
    pre.add_argument("--batch", type=int, default=64)
    pre.add_argument("--max-shift", type=int, default=2, help="random shift augmentation in pixels")
    pre.add_argument("--channels", type=int, nargs=2, default=list(CNNConfig.channels))
    pre.add_argument("--out", type=Path, default=Path("runs/vision/pretrain"))
    pre.set_defaults(func=_run, action=_pretrain)

    fine = actions.add_parser("finetune", help="adapt a pre-trained CNN to new classes with few labels")
    _common(fine, "classes of the new task (default: all)", DEFAULT_LR["finetune"])
    fine.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint from `vision pretrain`")
    fine.add_argument("--strategy", choices=STRATEGIES, default="frozen")
    fine.add_argument("--labels", type=int, default=50, help="class-balanced label budget; 0 = all")
    fine.add_argument("--steps", type=int, default=80)
    fine.add_argument("--batch", type=int, default=32)
    fine.add_argument("--max-shift", type=int, default=0, help="random shift augmentation in pixels")
    fine.add_argument("--out", type=Path, default=Path("runs/vision/finetune"))
    fine.set_defaults(func=_run, action=_finetune)
