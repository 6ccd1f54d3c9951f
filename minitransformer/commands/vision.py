"""`minitransformer vision pretrain | finetune`: the CNN transfer recipe (recipes/vision.py) from the command line.

    minitransformer vision pretrain --classes 0 1 2 3 4 --out runs/vision/pretrain
    minitransformer vision finetune --checkpoint runs/vision/pretrain/checkpoint.safetensors \\
        --classes 5 6 7 8 9 --labels 50 --freezing head --out runs/vision/head50

``pretrain`` trains a fresh CNN (models/cnn.py) on some classes of a data set; ``finetune`` adapts a
pre-trained checkpoint to other classes or another data set with a label budget, ``--freezing`` saying
what learns (train/freezing.py: head | top | all), or ``--scratch`` for the baseline: fresh weights of the
checkpoint's shape. Every option not given keeps the recipe's value. Both show a progress bar, write
``checkpoint.safetensors`` and ``loss_curve.png`` to ``--out`` (pretrain adds ``filters.png``) and print
the test accuracy.
"""

import sys
from dataclasses import fields
from pathlib import Path

from minitransformer.data.images.sets import DATASET_NAMES, DatasetMissingError, load_image_set
from minitransformer.models.cnn import CNNConfig
from minitransformer.recipes.vision import VisionFinetuneRecipe, VisionPretrainRecipe
from minitransformer.train.freezing import FREEZING
from minitransformer.train.vision import evaluate, finetune, image_tensors, load_cnn, plot_filters, pretrain

# recipe field -> (option, what it sets)
PRETRAIN_OPTIONS = {
    "train_size": ("--train-size", "class-balanced subset of the training images; 0 = all"),
    "epochs": ("--epochs", "passes over the images"),
    "batch_size": ("--batch", "images per step"),
    "max_shift": ("--max-shift", "random shift augmentation in pixels"),
    "lr": ("--lr", "peak learning rate"),
}
FINETUNE_OPTIONS = {
    "labels": ("--labels", "class-balanced label budget; 0 = all"),
    "steps": ("--steps", "optimizer steps"),
    "batch_size": ("--batch", "images per step"),
    "max_shift": ("--max-shift", "random shift augmentation in pixels"),
    "lr": ("--lr", "peak learning rate of the new head"),
    "freezing": ("--freezing", "what learns: the new head, the head and the top convolutions, or all"),
    "top_layers": ("--top-layers", "convolutions that learn under --freezing top"),
    "backbone_lr_scale": ("--backbone-lr-scale", "learning rate of the pre-trained convolutions / the head's"),
}


def _recipe(args, recipe_class):
    return recipe_class(**{field.name: getattr(args, field.name) for field in fields(recipe_class)})


def _task(args):
    """(train, test) of ``args.dataset`` restricted to ``args.classes`` (all classes when not given)."""
    train_set, test_set = load_image_set(args.dataset, "train"), load_image_set(args.dataset, "test")
    if args.classes:
        train_set, test_set = train_set.select_classes(args.classes), test_set.select_classes(args.classes)
    return train_set, test_set


def _pretrain(args):
    recipe_ = _recipe(args, VisionPretrainRecipe)
    train_set, test_set = _task(args)
    if recipe_.train_size:
        train_set = train_set.label_budget(recipe_.train_size, seed=args.seed)
    config = recipe_.train_config(len(train_set), args.seed)
    model, normalize, _ = pretrain(train_set, CNNConfig(channels=tuple(args.channels)), config,
                                   batch_size=recipe_.batch_size, max_shift=recipe_.max_shift, out_dir=args.out)
    plot_filters(model, args.out / "filters.png", title=f"first-layer filters, {train_set.name}")
    accuracy = evaluate(model, *image_tensors(test_set), normalize)["accuracy"]
    print(f"pre-trained on {len(train_set)} images of {train_set.name} ({config.steps} steps); "
          f"test accuracy {100 * accuracy:.1f} % on {len(test_set)} images; checkpoint in {args.out}")


def _finetune(args):
    recipe_ = _recipe(args, VisionFinetuneRecipe)
    freezing = "all" if args.scratch else recipe_.freezing
    base, normalize, _ = load_cnn(args.checkpoint)
    train_set, test_set = _task(args)
    if recipe_.labels:
        train_set = train_set.label_budget(recipe_.labels, seed=args.seed)
    model, _ = finetune(base, freezing, train_set, recipe_.train_config(args.seed), normalize,
                        batch_size=recipe_.batch_size, top_layers=recipe_.top_layers,
                        backbone_lr_scale=recipe_.backbone_lr_scale, scratch=args.scratch,
                        max_shift=recipe_.max_shift, out_dir=args.out)
    accuracy = evaluate(model, *image_tensors(test_set, model.config.image_size), normalize)["accuracy"]
    start = "from scratch" if args.scratch else f"freezing {freezing}"
    print(f"{start}, {len(train_set)} labelled images of {train_set.name}: test accuracy "
          f"{100 * accuracy:.1f} % on {len(test_set)} images; checkpoint in {args.out}")


def _run(args):
    try:
        args.action(args)
    except (DatasetMissingError, ValueError) as error:
        print(f"minitransformer vision {args.vision_command}: {error}", file=sys.stderr)
        return 2
    return 0


def _options(parser, recipe_class, options, classes_help):
    """The data options, then one option per recipe field, its default the recipe's."""
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="fashion-mnist")
    parser.add_argument("--classes", type=int, nargs="+", help=classes_help)
    parser.add_argument("--seed", type=int, default=0, help="seed of the subset, the weights and the batches")
    defaults = recipe_class()
    for field in fields(recipe_class):
        option, meaning = options[field.name]
        default = getattr(defaults, field.name)
        parser.add_argument(option, dest=field.name, type=type(default), default=default,
                            choices=FREEZING if field.name == "freezing" else None,
                            help=f"{meaning} (default {default:g})" if isinstance(default, float)
                            else f"{meaning} (default {default})")


def register(subparsers):
    parser = subparsers.add_parser("vision", help="pre-train / fine-tune the CNN on images",
                                   description=__doc__.split("\n\n")[0])
    actions = parser.add_subparsers(dest="vision_command", metavar="<pretrain|finetune>", required=True)

    pre = actions.add_parser("pretrain", help="train a fresh CNN on some classes of a data set")
    _options(pre, VisionPretrainRecipe, PRETRAIN_OPTIONS, "classes to train on (default: all)")
    pre.add_argument("--channels", type=int, nargs=2, default=list(CNNConfig.channels),
                     help=f"output channels of the two convolutions (default {' '.join(map(str, CNNConfig.channels))})")
    pre.add_argument("--out", type=Path, default=Path("runs/vision/pretrain"))
    pre.set_defaults(func=_run, action=_pretrain)

    fine = actions.add_parser("finetune", help="adapt a pre-trained CNN to new classes with few labels")
    _options(fine, VisionFinetuneRecipe, FINETUNE_OPTIONS, "classes of the new task (default: all)")
    fine.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint from `vision pretrain`")
    fine.add_argument("--scratch", action="store_true",
                      help="start from fresh weights of the checkpoint's shape, every weight learning (the baseline)")
    fine.add_argument("--out", type=Path, default=Path("runs/vision/finetune"))
    fine.set_defaults(func=_run, action=_finetune)
