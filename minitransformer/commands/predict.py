"""`minitransformer predict`: classify texts with a classifier from `minitransformer finetune`.

    minitransformer predict --checkpoint runs/cls/checkpoint.safetensors "A gorgeous, moving film." "Dull."
    minitransformer predict --checkpoint runs/cls/checkpoint.safetensors --file reviews.txt   # a text a line
    cat reviews.txt | minitransformer predict --checkpoint runs/cls/checkpoint.safetensors -
    minitransformer predict --checkpoint runs/cls/checkpoint.safetensors --json "Dull."       # JSON lines

Prints a line per text: label<TAB>probability<TAB>text, where probability is the softmax of the logits at
the predicted label; with --json, an object per line with every class's probability. Blank lines of a
file or of stdin are skipped.
"""

import argparse
import json
import sys

import torch

from minitransformer.data.labelled.batches import encode_texts
from minitransformer.data.text.corpus import read_utf8
from minitransformer.data.text.padding import map_trimmed_batches
from minitransformer.train.finetune import load_classifier


@torch.no_grad()
def class_probabilities(classifier, input_ids, padding_mask, batch_size=256):
    """(N, C) softmax of the classifier's logits, in eval mode, batch by batch."""
    classifier.eval()
    return map_trimmed_batches(lambda ids, pad: torch.softmax(classifier(ids, pad), dim=-1), input_ids, padding_mask,
                               batch_size)


def input_texts(args):
    """The texts to classify: the arguments, the lines of --file, or the lines of stdin (the argument "-")."""
    if args.file is not None and args.texts:
        raise ValueError("give texts or --file, not both")
    if args.file is not None:
        lines = read_utf8(args.file).splitlines()
    elif args.texts == ["-"]:
        lines = sys.stdin.read().splitlines()
    else:
        lines = args.texts
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise ValueError("no text to classify: give texts, --file FILE, or - to read stdin")
    return texts


def _run(args):
    texts = input_texts(args)
    classifier, tokenizer, state = load_classifier(args.checkpoint)
    ids, pad = encode_texts(tokenizer, texts, state.get("max_len", classifier.encoder.config.max_len))
    probabilities = class_probabilities(classifier, ids, pad)
    names = state["class_names"]
    for text, label, row in zip(texts, probabilities.argmax(-1).tolist(), probabilities.tolist()):
        if args.json:
            print(json.dumps({"label": names[label], "probability": row[label],
                              "probabilities": dict(zip(names, row)), "text": text}, ensure_ascii=False))
        else:
            print(f"{names[label]}\t{row[label]:.3f}\t{text}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser("predict", help="classify texts with a fine-tuned classifier",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="classifier written by `minitransformer finetune`")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify; - reads them from stdin")
    parser.add_argument("--file", help="a UTF-8 file of texts, one a line")
    parser.add_argument("--json", action="store_true", help="print JSON lines: label, probabilities, text")
    parser.set_defaults(func=_run)
