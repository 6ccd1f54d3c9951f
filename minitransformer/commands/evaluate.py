"""`minitransformer evaluate`: held-out metrics of a fine-tuned classifier — accuracy, precision, recall,
macro-F1 and the confusion matrix — on the same fixed split it was fine-tuned with (or on your texts).

    minitransformer evaluate --checkpoint runs/cls/checkpoint.safetensors
    minitransformer evaluate --checkpoint runs/cls/checkpoint.safetensors --text "A gorgeous, moving film."
"""

import argparse

from minitransformer.commands.finetune import print_report
from minitransformer.data.labelled import held_out_split, load_dataset
from minitransformer.data.labelled_batches import encode_texts
from minitransformer.train.finetune import evaluate_classifier, load_classifier, predict


def _run(args):
    classifier, tokenizer, state = load_classifier(args.checkpoint)
    max_len = classifier.encoder.config.max_len
    if args.text:
        ids, pad = encode_texts(tokenizer, args.text, max_len)
        for text, label in zip(args.text, predict(classifier, ids, pad).tolist()):
            print(f"{state['class_names'][label]:>10}  {text}")
        return 0
    dataset = load_dataset(state["dataset"])
    _, test_idx = held_out_split(len(dataset), state["test_fraction"], seed=state["split_seed"])
    ids, pad = encode_texts(tokenizer, [dataset.texts[i] for i in test_idx], max_len)
    report = evaluate_classifier(classifier, ids, pad, [dataset.labels[i] for i in test_idx], len(state["class_names"]))
    print(f"{state['dataset']}: {len(test_idx)} held-out examples")
    print_report(report, state["class_names"])
    return 0


def register(subparsers):
    parser = subparsers.add_parser("evaluate", help="held-out metrics of a fine-tuned classifier",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by `minitransformer finetune`")
    parser.add_argument("--text", nargs="+", help="classify these texts instead of the held-out split")
    parser.set_defaults(func=_run)
