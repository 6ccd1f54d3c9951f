"""`minitransformer generate`: sample text from a mini-GPT checkpoint
(``minitransformer pretrain --recipe reviews-gpt``).

    minitransformer generate --checkpoint runs/gpt/checkpoint.safetensors --prompt "to be or not" --top-k 20

Each next token is drawn from softmax(logits / temperature) over the top-k tokens; --temperature 0 is greedy.
The command's defaults (temperature 0.8, top-k 20) trade the model's full distribution for more readable text;
``GPT.generate``'s (temperature 1, no top-k) sample the distribution itself, which is what an evaluation wants.
"""

import argparse

import torch

from minitransformer.train.checkpoint import load_pretrained
from minitransformer.train.seeding import seeded_generator


def _run(args):
    model, tokenizer, _ = load_pretrained(args.checkpoint, "gpt")
    prompt = tokenizer.encode(args.prompt)
    if not prompt:
        raise ValueError(f"--prompt {args.prompt!r} has no tokens")
    generator = seeded_generator(args.seed)
    ids = model.generate(torch.tensor([prompt]), args.tokens, temperature=args.temperature, top_k=args.top_k,
                         generator=generator)
    print(tokenizer.decode(ids[0].tolist()))
    return 0


def register(subparsers):
    parser = subparsers.add_parser("generate", help="sample text from a mini-GPT checkpoint",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True,
                        help="GPT checkpoint from `minitransformer pretrain --recipe reviews-gpt`")
    parser.add_argument("--prompt", required=True, help="text to continue")
    parser.add_argument("--tokens", type=int, default=40, help="tokens to add (default 40)")
    parser.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy (default 0.8)")
    parser.add_argument("--top-k", type=int, default=20, help="sample among the k most likely tokens (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_run)
