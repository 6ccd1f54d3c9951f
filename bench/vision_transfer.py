"""What pre-training buys a small CNN when labels are scarce: the seeds' transfer recipe, measured.

1. Pre-train the CNN (models/cnn.py) on a subset of Fashion-MNIST classes 0-4 (T-shirt, trouser,
   pullover, dress, coat), with random shifts of up to 2 pixels.
2. On the held-out classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) — or on MNIST-5k digits with
   ``--target mnist-5k`` — draw a class-balanced label budget of 50, 200 or 1000 images per seed and train
       head     pre-trained convolutions kept fixed + a new classifier head   (the seeds' recipe)
       all      everything fine-tuned from the pre-trained weights, the convolutions at a lower
                learning rate (0.3x the head's)
       scratch  the same CNN freshly initialised, everything learning
   with the same number of steps, batch size and schedule for every arm (recipes/vision.py; the
   freezing names are train/freezing.py's).
3. Accuracy on a fixed, class-balanced subset of the target's test split; mean ± std over seeds.

The default sizes fit the shared 2-core machine in about 15 minutes (pre-training on 8,000 of the
30,000 images for 2 epochs; 80 fine-tuning steps of 32). One pre-trained model serves all seeds; the
seed draws the labelled subset, the new weights and the batch order.

Writes bench/results/vision_transfer.{json,md,png} and vision_filters.png (the first layer's kernels).
Run: ``python bench/vision_transfer.py`` (``--quick`` for a smoke run of a minute or two).
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from minitransformer.data.images.sets import DatasetMissingError, load_image_set  # noqa: E402
from minitransformer.models.cnn import CNNConfig  # noqa: E402
from minitransformer.recipes.vision import VisionFinetuneRecipe, VisionPretrainRecipe  # noqa: E402
from minitransformer.train.vision import evaluate, finetune, image_tensors, plot_filters, pretrain  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SOURCE_CLASSES, HELD_OUT_CLASSES = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
# arm -> how its fine-tuning starts and what learns (train/vision.py:finetune)
ARMS = {"head": {"freezing": "head"}, "all": {"freezing": "all"}, "scratch": {"freezing": "all", "scratch": True}}
PRETRAIN, FINETUNE = VisionPretrainRecipe(), VisionFinetuneRecipe()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("fashion-5-9", "mnist-5k"), default="fashion-5-9")
    parser.add_argument("--pretrain-size", type=int, default=PRETRAIN.train_size,
                        help="pre-training images (of 30,000)")
    parser.add_argument("--pretrain-epochs", type=int, default=PRETRAIN.epochs)
    parser.add_argument("--pretrain-batch", type=int, default=PRETRAIN.batch_size)
    parser.add_argument("--steps", type=int, default=FINETUNE.steps, help="fine-tuning steps, every arm")
    parser.add_argument("--batch", type=int, default=FINETUNE.batch_size, help="fine-tuning batch size")
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--test-size", type=int, default=2000, help="class-balanced target test images")
    parser.add_argument("--channels", type=int, nargs=2, default=list(CNNConfig.channels))
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.pretrain_size, args.pretrain_epochs, args.steps = 600, 1, 10
        args.budgets, args.seeds, args.test_size = [50, 200], [0, 1], 200
    return args


def target_sets(args):
    """(train pool, test subset) of the fine-tuning task."""
    if args.target == "mnist-5k":
        pool, test = load_image_set("mnist-5k", "train"), load_image_set("mnist-5k", "test")
    else:
        pool = load_image_set("fashion-mnist", "train").select_classes(HELD_OUT_CLASSES)
        test = load_image_set("fashion-mnist", "test").select_classes(HELD_OUT_CLASSES)
    test_size = min(args.test_size, len(test)) // test.num_classes * test.num_classes
    return pool, test.label_budget(test_size, seed=12345)


def summarise(runs, budgets):
    """{budget: {arm: (mean, std, [per seed])}} of test accuracy."""
    table = {}
    for budget in budgets:
        table[budget] = {}
        for arm in ARMS:
            accuracies = [r["accuracy"] for r in runs if r["budget"] == budget and r["arm"] == arm]
            table[budget][arm] = (float(np.mean(accuracies)), float(np.std(accuracies)), accuracies)
    return table


def head_minus_scratch(runs, budget):
    """Per-seed paired difference (head - scratch) in accuracy points at ``budget``."""
    by_seed = {(r["arm"], r["seed"]): r["accuracy"] for r in runs if r["budget"] == budget}
    seeds = sorted({seed for _, seed in by_seed})
    return [100 * (by_seed[("head", s)] - by_seed[("scratch", s)]) for s in seeds]


def markdown(table, runs, meta):
    lines = [f"# Transfer: pre-trained on {meta['source']}, fine-tuned on {meta['target']}", "",
             f"Test accuracy (%) on {meta['test_size']} class-balanced test images, mean ± std (ddof=0) over seeds "
             f"{meta['seeds']}; {meta['steps']} fine-tuning steps of batch {meta['batch']} for every arm "
             f"(AdamW, warm-up + cosine, lr {FINETUNE.lr:g}; for `all` the pre-trained "
             f"convolutions at {FINETUNE.backbone_lr_scale:g}x that).", "",
             "| labels | " + " | ".join(ARMS) + " | head − scratch (points, per seed) |",
             "|---:|" + "---:|" * len(ARMS) + "---|"]
    for budget, row in table.items():
        cells = [f"{100 * m:.1f} ± {100 * s:.1f}" for m, s, _ in row.values()]
        diffs = head_minus_scratch(runs, budget)
        lines.append(f"| {budget} | " + " | ".join(cells) + f" | {np.mean(diffs):+.1f} "
                     f"({', '.join(f'{d:+.1f}' for d in diffs)}) |")
    lines += ["", f"Pre-training: {meta['pretrain_images']} images x {meta['pretrain_epochs']} epochs, "
              f"test accuracy on the 5 source classes {100 * meta['pretrain_test_accuracy']:.1f} %.",
              f"Wall time {meta['wall_seconds'] / 60:.1f} min (pre-training {meta['pretrain_seconds']:.0f} s) "
              f"on {meta['machine']}.", ""]
    return "\n".join(lines)


def plot(table, meta, path):
    fig, ax = plt.subplots(figsize=(6, 4))
    budgets = list(table)
    for arm in ARMS:
        means = [100 * table[b][arm][0] for b in budgets]
        stds = [100 * table[b][arm][1] for b in budgets]
        ax.errorbar(budgets, means, yerr=stds, marker="o", capsize=3, label=arm)
    ax.set_xscale("log")
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.set_xlabel("labelled target images")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{meta['source']} -> {meta['target']} ({len(meta['seeds'])} seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args):
    started = time.perf_counter()
    source = load_image_set("fashion-mnist", "train").select_classes(SOURCE_CLASSES)
    source_subset = source.label_budget(args.pretrain_size, seed=0)
    source_test = load_image_set("fashion-mnist", "test").select_classes(SOURCE_CLASSES)
    pool, test = target_sets(args)
    pre_recipe = VisionPretrainRecipe(train_size=args.pretrain_size, epochs=args.pretrain_epochs,
                                      batch_size=args.pretrain_batch)
    pre_config = pre_recipe.train_config(len(source_subset), seed=0)
    pre_steps = pre_config.steps
    base, normalize, _ = pretrain(source_subset, CNNConfig(channels=tuple(args.channels)), pre_config,
                                  batch_size=pre_recipe.batch_size, max_shift=pre_recipe.max_shift)
    pretrain_seconds = time.perf_counter() - started
    source_accuracy = evaluate(base, *image_tensors(source_test), normalize)["accuracy"]
    print(f"pre-trained in {pretrain_seconds:.0f} s; source test accuracy {100 * source_accuracy:.1f} %")
    args.out.mkdir(parents=True, exist_ok=True)
    plot_filters(base, args.out / "vision_filters.png",
                 title=f"first-layer 3x3 filters after pre-training on {source.name}")
    x_test, labels_test = image_tensors(test)
    fine_recipe = VisionFinetuneRecipe(steps=args.steps, batch_size=args.batch)
    runs = []
    for budget in args.budgets:
        for seed in args.seeds:
            labelled = pool.label_budget(budget, seed=seed)
            for arm, start in ARMS.items():
                run_started = time.perf_counter()
                model, history = finetune(base, start["freezing"], labelled, fine_recipe.train_config(seed),
                                          normalize, batch_size=fine_recipe.batch_size, max_shift=fine_recipe.max_shift,
                                          backbone_lr_scale=fine_recipe.backbone_lr_scale,
                                          scratch=start.get("scratch", False), progress=False)
                result = evaluate(model, x_test, labels_test, normalize)
                runs.append({"budget": budget, "seed": seed, "arm": arm, **result,
                             "final_train_loss": history[-1]["loss"],
                             "seconds": time.perf_counter() - run_started})
                print(f"labels {budget:5d} seed {seed} {arm:8s} accuracy {100 * result['accuracy']:5.1f} % "
                      f"({runs[-1]['seconds']:.0f} s)", flush=True)
    meta = {"source": f"{source.name} ({len(source_subset)} images)", "target": test.name,
            "test_size": len(test), "seeds": args.seeds, "steps": args.steps, "batch": args.batch,
            "pretrain_images": len(source_subset), "pretrain_epochs": args.pretrain_epochs,
            "pretrain_steps": pre_steps, "pretrain_test_accuracy": source_accuracy,
            "pretrain_seconds": pretrain_seconds, "wall_seconds": time.perf_counter() - started,
            "model_config": base.config.to_dict(),
            "learning_rates": {"pretrain": pre_recipe.lr, "finetune": fine_recipe.lr},
            "backbone_lr_scale": fine_recipe.backbone_lr_scale, "quick": args.quick,
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"}
    return runs, meta


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        runs, meta = run(args)
    except DatasetMissingError as missing:
        print(f"vision_transfer: {missing}", file=sys.stderr)
        return 2
    table = summarise(runs, args.budgets)
    text = markdown(table, runs, meta)
    (args.out / "vision_transfer.md").write_text(text)
    (args.out / "vision_transfer.json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    plot(table, meta, args.out / "vision_transfer.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
