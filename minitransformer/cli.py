"""`minitransformer <command>`: the command-line entry point.

Each command lives in its own module under ``minitransformer/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to the function that runs it.

A command reports a bad input by raising ValueError, RuntimeError or FileNotFoundError; ``main`` prints
it as one line, ``minitransformer: error: <message>``, and returns 2 (``--debug``: the traceback instead).

    minitransformer finetune --train-file reviews.csv --out runs/mine
    minitransformer --debug finetune --train-file reviews.csv --out runs/mine   # a failure's full traceback
"""

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "minitransformer.commands.demo",
    "minitransformer.commands.bench",
    "minitransformer.commands.vision",
    "minitransformer.commands.word2vec",
    "minitransformer.commands.pretrain",
    "minitransformer.commands.finetune",
    "minitransformer.commands.evaluate",
    "minitransformer.commands.generate",
    "minitransformer.commands.predict",
]
USER_ERRORS = (ValueError, RuntimeError, FileNotFoundError)


def build_parser():
    parser = argparse.ArgumentParser(prog="minitransformer",
                                     description="Pre-training + fine-tuning, from scratch, with our own kernels.")
    parser.add_argument("--debug", action="store_true", help="on an error, show its traceback, not one line")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
