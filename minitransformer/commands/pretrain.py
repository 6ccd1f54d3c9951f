"""`minitransformer pretrain`: train a tokenizer and pre-train mini-BERT (MLM + NSP) or mini-GPT (causal LM)
on unlabelled text — the built-in corpora and/or your own text files.

    minitransformer pretrain --out runs/bert                         # BERT on Shakespeare + movie reviews
    minitransformer pretrain --out runs/mlm --sources movie_reviews rotten_tomatoes --no-nsp   # MLM only
    minitransformer pretrain --model gpt --sources --files my.txt --out runs/gpt
    minitransformer pretrain --out runs/bert --resume                # continue exactly where it stopped
    torchrun --nproc_per_node 2 -m minitransformer.cli pretrain --out runs/bert   # data-parallel (DDP)

Writes OUT/checkpoint.safetensors (model, config, tokenizer, optimizer and RNG state), OUT/tokenizer.json,
OUT/history.json and OUT/loss_curve.png.
"""

import argparse

import torch

from minitransformer.train.distributed import init_distributed, is_main_process
from minitransformer.train.loop import TrainConfig
from minitransformer.train.pretrain import SOURCES, pretrain_bert, pretraining_texts
from minitransformer.train.pretrain_gpt import pretrain_gpt


def add_model_arguments(parser):
    group = parser.add_argument_group("model")
    group.add_argument("--d-model", type=int, default=128, help="hidden size (default 128)")
    group.add_argument("--layers", type=int, default=2, help="Transformer layers (default 2)")
    group.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    group.add_argument("--d-ff", type=int, default=512, help="feed-forward size (default 512)")
    group.add_argument("--max-len", type=int, default=64, help="longest sequence in tokens (default 64)")
    group.add_argument("--backend", default="auto", choices=["auto", "reference", "fused", "torch"],
                       help="attention backend (default auto: fused when built, else reference)")


def model_kwargs(args):
    return {"d_model": args.d_model, "n_layers": args.layers, "n_heads": args.heads, "d_ff": args.d_ff,
            "max_len": args.max_len, "backend": args.backend}


def _run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    init_distributed()  # a no-op unless launched by torchrun
    texts = pretraining_texts(args.sources, args.files)
    config = TrainConfig(steps=args.steps, lr=args.lr, warmup_steps=args.warmup, eval_every=args.eval_every,
                         checkpoint_every=args.checkpoint_every, seed=args.seed)
    common = {"vocab_size": args.vocab_size, "batch_size": args.batch_size, "model_kwargs": model_kwargs(args),
              "resume": args.resume}
    if args.model == "bert":
        _, tokenizer, history = pretrain_bert(texts, args.out, config, nsp=not args.no_nsp, **common)
    else:
        _, tokenizer, history = pretrain_gpt(texts, args.out, config, **common)
    if not is_main_process():
        return 0
    last = history[-1]
    print(f"{args.model}: {len(history)} steps, vocabulary {len(tokenizer)}, final loss {last['loss']:.3f}; "
          + ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k.startswith("eval_")))
    print(f"checkpoint: {args.out}/checkpoint.safetensors; loss curve: {args.out}/loss_curve.png")
    return 0


def register(subparsers):
    parser = subparsers.add_parser("pretrain", help="pre-train mini-BERT (MLM + NSP) or mini-GPT on text",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--model", choices=["bert", "gpt"], default="bert", help="default bert")
    parser.add_argument("--sources", nargs="*", default=list(SOURCES), choices=SOURCES,
                        help="built-in corpora (default: all); give none to use only --files")
    parser.add_argument("--files", nargs="*", default=[], help="your own UTF-8 text files, one document each")
    parser.add_argument("--vocab-size", type=int, default=4000, help="tokenizer vocabulary (default 4000)")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps (default 2000)")
    parser.add_argument("--batch-size", type=int, default=32, help="sequences per step (default 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate (default 1e-3)")
    parser.add_argument("--warmup", type=int, default=200, help="linear warm-up steps (default 200)")
    parser.add_argument("--eval-every", type=int, default=200, help="held-out evaluation period (default 200)")
    parser.add_argument("--checkpoint-every", type=int, default=200, help="checkpoint period (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    parser.add_argument("--no-nsp", action="store_true",
                        help="bert: MLM alone on whole documents, no next-sentence prediction (RoBERTa's choice)")
    add_model_arguments(parser)
    parser.set_defaults(func=_run)
