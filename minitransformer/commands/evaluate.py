"""`minitransformer evaluate`: test metrics of a fine-tuned classifier — accuracy, precision, recall,
macro-F1 and the confusion matrix — on the test part it was fine-tuned with (the task's fixed test split,
or the test part of its file(s), which must not have changed), or its predictions for your texts.

    minitransformer evaluate --checkpoint runs/cls/checkpoint.safetensors
    minitransformer evaluate --checkpoint runs/cls/checkpoint.safetensors --text "A gorgeous, moving film."
"""

import argparse

from minitransformer.commands.finetune import file_fingerprints, labelled_parts, print_report
from minitransformer.data.labelled.batches import encode_texts
from minitransformer.train.finetune import evaluate_classifier, load_classifier, predict


def _run(args):
    classifier, tokenizer, state = load_classifier(args.checkpoint)
    max_len = state.get("max_len", classifier.encoder.config.max_len)
    if args.text:
        ids, pad = encode_texts(tokenizer, args.text, max_len)
        for text, label in zip(args.text, predict(classifier, ids, pad).tolist()):
            print(f"{state['class_names'][label]:>10}  {text}")
        return 0
    changed = [path for path, digest in file_fingerprints(state).items() if digest != state["file_sha256"][path]]
    if changed:
        raise ValueError(f"{changed[0]} has changed since the classifier was fine-tuned on it, so its test part "
                         "is no longer the one held out")
    test = labelled_parts(state)[0]["test"]
    ids, pad = encode_texts(tokenizer, test.texts, max_len)
    report = evaluate_classifier(classifier, ids, pad, test.labels, len(state["class_names"]))
    print(f"{test.name}: {len(test)} test examples")
    print_report(report, state["class_names"])
    return 0


def register(subparsers):
    parser = subparsers.add_parser("evaluate", help="test metrics of a fine-tuned classifier",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by `minitransformer finetune`")
    parser.add_argument("--text", nargs="+", help="classify these texts instead of the test part")
    parser.set_defaults(func=_run)
