"""Pre-training a mini-GPT with the causal language-modelling loss on unlabelled text:

    texts -> WordPiece tokenizer -> one stream of token ids (documents joined by [SEP])
          -> per step: B random windows of T + 1 tokens (data/pretraining/causal.py)
          -> GPT (models/gpt.py) trained by train/loop.py; checkpoint with config and tokenizer.

The last 5% of the stream is held out; ``evaluate`` reports its loss and perplexity on fixed windows.
"""

import json
import math
from pathlib import Path

import torch

from minitransformer.data.pretraining.causal import causal_lm_batch, token_stream
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.gpt import GPT, GPTConfig
from minitransformer.train.checkpoint import load_pretrained, pretraining_state, read_checkpoint
from minitransformer.train.distributed import is_main_process
from minitransformer.train.loop import CHECKPOINT_NAME, train


def pretrain_gpt(texts, out_dir, train_config, vocab_size=4000, batch_size=32, model_kwargs=None, resume=False,
                 progress=True, tokenizer=None):
    """Train tokenizer (unless given) and mini-GPT on ``texts``; returns ``(model, tokenizer, history)``."""
    out_dir = Path(out_dir)
    if resume:
        tokenizer = WordPieceTokenizer.from_json(read_checkpoint(out_dir / CHECKPOINT_NAME)[1]["tokenizer"])
    elif tokenizer is None:
        tokenizer = WordPieceTokenizer.train(texts, vocab_size=vocab_size)
    config = GPTConfig(vocab_size=len(tokenizer), **(model_kwargs or {}))
    stream = token_stream(tokenizer, texts)
    split = int(stream.numel() * 0.95)
    train_stream, held_out = stream[:split], stream[split:]
    if held_out.numel() <= config.max_len + 1:
        raise ValueError(f"texts give {stream.numel()} tokens: too few for max_len={config.max_len}")
    eval_batch = causal_lm_batch(held_out, config.max_len, 64, generator=torch.Generator().manual_seed(0))

    def get_batch(step):
        generator = torch.Generator().manual_seed(train_config.seed * 1_000_003 + step)
        return causal_lm_batch(train_stream, config.max_len, batch_size, generator=generator)

    def evaluate(model):
        loss = float(model.loss(eval_batch)[0])
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0))}

    model = GPT(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        tokenizer.save(out_dir / "tokenizer.json")
    history = train(model, get_batch, train_config, out_dir=out_dir, evaluate=evaluate, resume=resume,
                    progress=progress, desc="pre-train GPT",
                    checkpoint_state=pretraining_state("gpt", config, tokenizer))
    if is_main_process():
        (out_dir / "history.json").write_text(json.dumps(history))
    return model, tokenizer, history


def load_gpt(path):
    """``(GPT, tokenizer, state)`` rebuilt from a GPT checkpoint, in eval mode."""
    model, tokenizer, state = load_pretrained(path, "gpt", lambda config: GPT(GPTConfig(**config)))
    return model.eval(), tokenizer, state
