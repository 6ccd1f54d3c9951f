"""`minitransformer pretrain`: run a measured pre-training recipe (recipes/pretraining.py) — a WordPiece
tokenizer, then mini-BERT (masked LM) or mini-GPT (causal LM) on one packed token stream — on the review
corpus or on your own text files.

    minitransformer pretrain --out runs/bert                        # reviews-bert: the shipped model's recipe
    minitransformer pretrain --recipe reviews-gpt --out runs/gpt    # mini-GPT on the same text
    minitransformer pretrain --out runs/small --steps 300 --d-model 64 --layers 1   # a recipe, changed
    minitransformer pretrain --files notes/*.txt --out runs/mine    # your own text, one document a file
    minitransformer pretrain --out runs/bert --resume               # continue exactly where it stopped
    minitransformer pretrain --out runs/bf16 --dtype bfloat16       # forward under bfloat16 autocast
    minitransformer pretrain --out runs/fp16 --dtype float16        # float16 autocast, loss scaling
    torchrun --nproc_per_node 2 -m minitransformer.cli pretrain --out runs/bert   # data-parallel (DDP)

Every recipe field not given keeps the recipe's value. Writes OUT/checkpoint.safetensors (model, config,
tokenizer, recipe, corpus fingerprint, optimizer and RNG state), OUT/checkpoint_step<N>.safetensors for
--keep-steps, OUT/tokenizer.json, OUT/run.json and OUT/loss_curve.png.
"""

import argparse
from pathlib import Path

import torch

from minitransformer.data.text.corpus import read_utf8
from minitransformer.models.config import POSITIONS
from minitransformer.nn.backends import BACKENDS
from minitransformer.recipes.pretraining import DEFAULT_RECIPE, RECIPES, recipe, run_pretraining
from minitransformer.train.distributed import init_distributed, is_main_process
from minitransformer.train.loop import CHECKPOINT_NAME, DTYPES

# option -> (PretrainRecipe field, what it sets)
RECIPE_OPTIONS = {
    "--seed": ("seed", "seed of the initialisation, the batches and the masking"),
    "--steps": ("steps", "optimizer steps"),
    "--batch-size": ("batch_size", "windows per step"),
    "--lr": ("lr", "peak AdamW learning rate"),
    "--vocab-size": ("vocab_size", "WordPiece vocabulary"),
    "--max-len": ("max_len", "window length in tokens"),
    "--d-model": ("d_model", "hidden size"),
    "--layers": ("n_layers", "Transformer layers"),
    "--heads": ("n_heads", "attention heads"),
    "--d-ff": ("d_ff", "feed-forward size"),
    "--eval-every": ("eval_every", "held-out evaluation period in steps"),
    "--checkpoint-every": ("checkpoint_every", "checkpoint period in steps, 0: only at the end"),
    "--backend": ("backend", "attention backend, auto: fused when built, else eager"),
    "--positions": ("positions", "position information: learned table or rotary (RoPE)"),
    "--dtype": ("dtype", "training precision: float32, or bfloat16 or float16 autocast for the forward pass "
                         "(float16 with a gradient scaler)"),
}


def recipe_defaults(field):
    """Each recipe's value of ``field``: ``"reviews-bert: 3000, reviews-gpt: 1000"``, or ``"0 in every recipe"``."""
    values = {name: getattr(RECIPES[name], field) for name in sorted(RECIPES)}
    if len({str(value) for value in values.values()}) == 1:
        return f"{next(iter(values.values()))} in every recipe"
    return ", ".join(f"{name}: {value}" for name, value in values.items())


def chosen_recipe(args):
    """The named recipe with the options given on the command line applied. Without --keep-steps, the
    recipe's kept steps that lie beyond --steps are dropped."""
    overrides = {field: getattr(args, field) for field, _ in RECIPE_OPTIONS.values()
                 if getattr(args, field) is not None}
    if args.keep_steps is not None:
        overrides["keep_steps"] = args.keep_steps
    elif args.steps is not None:
        overrides["keep_steps"] = [step for step in RECIPES[args.recipe].keep_steps if step <= args.steps]
    return recipe(args.recipe, **overrides)


def _run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    init_distributed()  # a no-op unless launched by torchrun
    recipe_ = chosen_recipe(args)
    out = Path(args.out)
    if args.resume and not (out / CHECKPOINT_NAME).is_file():
        raise ValueError(f"--resume: there is no {out / CHECKPOINT_NAME} to continue")
    texts = [read_utf8(path) for path in args.files] if args.files else None
    record = run_pretraining(recipe_, out, resume=args.resume, texts=texts)
    if not is_main_process():
        return 0
    held_out = ", ".join(f"{key[len('eval_'):]} {value:.3f}" for key, value in record["final"].items()
                         if key.startswith("eval_"))
    print(f"{args.recipe} ({recipe_.model}): {record['steps']} steps, {record['tokens_seen']:,} tokens seen, "
          f"final training loss {record['final']['loss']:.3f}" + (f"; held-out {held_out}" if held_out else ""))
    print(f"checkpoint: {out / CHECKPOINT_NAME}; run record: {out / 'run.json'}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser("pretrain", help="pre-train mini-BERT or mini-GPT with a measured recipe",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                        help=f"the measured recipe to run (default {DEFAULT_RECIPE})")
    parser.add_argument("--files", nargs="+", metavar="FILE",
                        help="pre-train on these UTF-8 text files, one document each, instead of the review corpus")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    group = parser.add_argument_group("recipe fields", "each keeps the recipe's value unless given")
    for option, (field, meaning) in RECIPE_OPTIONS.items():
        choices = {"backend": ("auto", *BACKENDS), "positions": POSITIONS, "dtype": DTYPES}.get(field)
        group.add_argument(option, dest=field, type=type(getattr(RECIPES[DEFAULT_RECIPE], field)), default=None,
                           choices=choices, metavar=None if choices else option[2:].replace("-", "_").upper(),
                           help=f"{meaning} (default: the recipe's; {recipe_defaults(field)})")
    group.add_argument("--keep-steps", nargs="*", type=int, metavar="N",
                       help="steps whose checkpoint is also kept; none: keep none (default: the recipe's, "
                            f"those within --steps; {recipe_defaults('keep_steps')})")
    parser.set_defaults(func=_run)
