"""Why the masked LM of the `reviews-bert` recipe needs rotary positions: the same BERT, the same 256-token
windows, batches, masking, seed and schedule, with a learned position table (BERT's choice) or with
rotary positions (RoPE), pre-trained for a few hundred steps; held-out MLM loss and accuracy along the way.

    .venv/bin/python bench/positions_probe.py                # 400 steps each, about 8 min per arm on one core
    .venv/bin/python bench/positions_probe.py --steps 100    # a quick look

Writes bench/results/positions_probe.{json,md}. The unigram line is the loss of predicting every masked
token from the training stream's token frequencies alone: a model near it has learnt no context yet.
"""

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, markdown_table, write_results  # noqa: E402

from minitransformer.data.text.tokenizer import SPECIAL_TOKENS, WordPieceTokenizer  # noqa: E402
from minitransformer.recipes.corpus import corpus_sha256, review_corpus  # noqa: E402
from minitransformer.recipes.pretraining import (build_model, git_commit, make_batches, make_evaluator,  # noqa: E402
                                                 recipe, split_stream, token_stream)
from minitransformer.train.loop import train  # noqa: E402

ARMS = ("learned", "rotary")


def unigram_loss(train_stream, held_out_tokens):
    """Cross-entropy (nats) of the training stream's token frequencies (add-one smoothed) on held-out tokens."""
    counts = torch.bincount(train_stream, minlength=int(held_out_tokens.max()) + 1).double() + 1.0
    log_p = (counts / counts.sum()).log()
    return float(-log_p[held_out_tokens].mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=400, help="pre-training steps per arm (default 400)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    texts = review_corpus()
    base = recipe("reviews-bert", steps=args.steps, eval_every=max(args.steps // 6, 1), checkpoint_every=0,
                  keep_steps=[])
    tokenizer = WordPieceTokenizer.train(texts, vocab_size=base.vocab_size)
    train_stream, held_out = split_stream(base, token_stream(tokenizer, texts))
    runs = {}
    for arm in ARMS:
        arm_recipe = replace(base, positions=arm)
        evaluate = make_evaluator(arm_recipe, held_out, len(tokenizer))
        model = build_model(arm_recipe, len(tokenizer))
        start = time.perf_counter()
        history = train(model, make_batches(arm_recipe, train_stream, len(tokenizer)), arm_recipe.train_config(),
                        evaluate=evaluate, desc=f"{arm} positions")
        runs[arm] = {"seconds": time.perf_counter() - start,
                     "evaluations": [{"step": r["step"], "loss": r["eval_loss"], "mlm_accuracy": r["eval_mlm_accuracy"]}
                                     for r in history if "eval_loss" in r]}
    ordinary = held_out[held_out >= len(SPECIAL_TOKENS)]  # the tokens masking may choose
    payload = {"recipe": asdict(base), "steps": args.steps, "tokens_per_arm": args.steps * base.batch_size * base.max_len,
               "corpus_sha256": corpus_sha256(texts), "unigram_loss": unigram_loss(train_stream, ordinary),
               "threads": args.threads, "commit": git_commit(), "machine": machine_info(), "runs": runs}
    rows = []
    for index, evaluation in enumerate(runs["learned"]["evaluations"]):
        rotary = runs["rotary"]["evaluations"][index]
        rows.append([evaluation["step"], f"{evaluation['loss']:.3f}", f"{100 * evaluation['mlm_accuracy']:.1f}",
                     f"{rotary['loss']:.3f}", f"{100 * rotary['mlm_accuracy']:.1f}"])
    markdown = (f"# Learned vs rotary positions in the first {args.steps} steps of masked-LM pre-training\n\n"
                f"`bench/positions_probe.py`: recipe `reviews-bert` ({base.batch_size} windows of {base.max_len} "
                f"tokens per step, lr {base.lr}, warm-up then linear decay over {args.steps} steps), the same "
                f"batches and masking for both arms; held-out loss (nats) and accuracy on masked tokens. "
                f"Unigram loss {payload['unigram_loss']:.2f} nats. {args.threads} thread(s), "
                f"{runs['learned']['seconds']:.0f} s and {runs['rotary']['seconds']:.0f} s, commit "
                f"{payload['commit'][:7]}.\n\n"
                + markdown_table(["step", "learned loss", "learned acc %", "rotary loss", "rotary acc %"], rows))
    write_results("positions_probe", payload, markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
