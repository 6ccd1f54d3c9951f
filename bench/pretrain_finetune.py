"""The headline experiment (minitransformer/recipes/headline.py): BERT- and GPT-style pre-training vs
training from scratch vs TF-IDF + logistic regression, on IMDB, VADER movie reviews and TREC questions,
label budgets {100, 500, 2000, all}, 2 BERT pre-training seeds x 3 fine-tuning seeds.

    .venv/bin/python bench/pretrain_finetune.py                    # run (or continue) every job, then report
    .venv/bin/python bench/pretrain_finetune.py --stop-after 90    # submit no new job after 90 minutes
    .venv/bin/python bench/pretrain_finetune.py --report-only      # the report of the jobs done so far
    .venv/bin/python bench/pretrain_finetune.py --uniform-lr       # every arm at the recipe's fine-tuning rate
    .venv/bin/python bench/pretrain_finetune.py --export-shipped   # BERT seed 0 -> the shipped fp16 model

Jobs write their records to bench/results/pretrain_finetune_work/results/ as they end; an interrupted run
continues where it stopped. The report: bench/results/pretrain_finetune.{json,md,png} and
pretrain_finetune_tokens.png (gain against pre-training tokens); the splits are saved beside them.
Budget, measured on one core per worker: each BERT pre-training run about 75 min; an IMDB fine-tuning run
3-5 min, a VADER or TREC run under a minute; the whole plan about 6-7 hours of one core (two workers:
half that).
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

from minitransformer.recipes.headline import HeadlineConfig, run_headline
from minitransformer.recipes.headline_report import load_records, write_report
from minitransformer.recipes.shipped import SHIPPED_BERT, export_shipped, model_card
from minitransformer.train.loop import CHECKPOINT_NAME

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "pretrain_finetune_work"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stop-after", type=float, help="minutes after which no new job is started")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, one torch thread each (default 2)")
    parser.add_argument("--report-only", action="store_true", help="write the report of the jobs done so far")
    parser.add_argument("--export-shipped", action="store_true",
                        help="write the shipped model and docs/model_card.md from BERT seed 0's checkpoint")
    parser.add_argument("--work", type=Path, default=WORK, help=f"work folder (default {WORK})")
    parser.add_argument("--out", type=Path, default=RESULTS / "pretrain_finetune", help="report stem")
    parser.add_argument("--uniform-lr", action="store_true",
                        help="every network arm at the fine-tuning recipe's learning rate, not the per-arm rates "
                             "chosen on validation (report stem: OUT_uniform_lr)")
    args = parser.parse_args(argv)
    config = HeadlineConfig(workers=args.workers)
    if args.uniform_lr:
        config = HeadlineConfig(workers=args.workers, arm_lr={})
        args.out = args.out.with_name(f"{args.out.name}_uniform_lr")
    if args.export_shipped:
        run = args.work / "pretrain" / "bert_seed0"
        state = export_shipped(run / CHECKPOINT_NAME, SHIPPED_BERT, json.loads((run / "run.json").read_text()))
        (ROOT / "docs" / "model_card.md").write_text(model_card(state))
        print(f"{SHIPPED_BERT}: {SHIPPED_BERT.stat().st_size / 2**20:.1f} MiB, held-out MLM accuracy "
              f"{100 * state['held_out_mlm_accuracy_fp16']:.2f}% "
              f"(fp32 weights: {100 * state['held_out_mlm_accuracy_fp32']:.2f}%)")
        return 0
    if not args.report_only:
        run_headline(config, args.work, stop_after=None if args.stop_after is None else 60 * args.stop_after)
    splits = args.out.parent / f"{args.out.name}_splits"
    splits.mkdir(parents=True, exist_ok=True)
    for path in args.work.glob("split_*.json"):
        shutil.copy(path, splits / path.name)
    print(write_report(load_records(args.work), config, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
