"""The headline experiment (train/experiment.py): pre-trained vs from-scratch vs word2vec-initialised
mini-BERT on VADER movie-review sentiment, label budgets {100, 500, 2000, all}, 3 seeds.

    .venv/bin/python bench/pretrain_finetune.py                 # the full run (about 45 min on 2 CPU cores)
    .venv/bin/python bench/pretrain_finetune.py --preset demo   # the reduced run of `make demo`

Writes bench/results/pretrain_finetune.{json,md,png}; pre-training checkpoint, loss curve and the
held-out split in bench/results/pretrain_finetune_work/.
"""

import argparse
import json
import sys
from pathlib import Path

from minitransformer.train.experiment import PRESETS, ExperimentConfig, run_experiment
from minitransformer.train.experiment_report import write_report

RESULTS = Path(__file__).resolve().parent / "results"


def parse_budget(text):
    return None if text == "all" else int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="full")
    parser.add_argument("--pretrain-steps", type=int, help="override the preset's pre-training steps")
    parser.add_argument("--pretrain-lr", type=float, help="override the preset's pre-training learning rate")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the preset's seeds")
    parser.add_argument("--budgets", type=parse_budget, nargs="+", help="label budgets; 'all' = every label")
    parser.add_argument("--arms", nargs="+", choices=["pretrained", "scratch", "word2vec"])
    parser.add_argument("--backend", choices=["auto", "reference", "fused", "torch"],
                        help="attention backend (default: the preset's, 'auto')")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one torch thread each)")
    parser.add_argument("--reuse", type=Path, help="results JSON of an earlier run with the same split: its runs of "
                        "the arms not run now are added to the report")
    parser.add_argument("--out", type=Path, help="output stem (default bench/results/pretrain_finetune[_demo])")
    args = parser.parse_args(argv)
    overrides = dict(PRESETS[args.preset], workers=args.workers)
    for key in ("pretrain_steps", "pretrain_lr", "seeds", "budgets", "arms"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.backend:
        overrides["model"] = dict(overrides.get("model", ExperimentConfig().model), backend=args.backend)
    config = ExperimentConfig(**overrides)
    stem = args.out or RESULTS / ("pretrain_finetune" if args.preset == "full" else f"pretrain_finetune_{args.preset}")
    results = run_experiment(config, stem.parent / f"{stem.name}_work")
    if args.reuse:
        earlier = json.loads(args.reuse.read_text())
        results["runs"] += [run for run in earlier["runs"] if run["arm"] not in config.arms]
        results.update({k: earlier[k] for k in ("word2vec",) if k in earlier and "word2vec" not in config.arms})
        results["reused_from"] = str(args.reuse)
    print(write_report(results, stem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
