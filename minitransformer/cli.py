"""`minitransformer <command>`: the command-line entry point.

Each command lives in its own module under ``minitransformer/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to the function that runs it.
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
]


def build_parser():
    parser = argparse.ArgumentParser(prog="minitransformer",
                                     description="Pre-training + fine-tuning, from scratch, with our own kernels.")
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
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
