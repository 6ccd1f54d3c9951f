"""One training step of our BERT and GPT against Hugging Face's, on the same configuration and batch.

A step = forward, loss, backward, AdamW update, in training mode (dropout 0.1). BERT: the masked-LM loss
with the logits computed at the masked positions only (15% of the tokens), for both; HF's
``BertForMaskedLM`` through ``model.bert`` and ``model.cls``. GPT: the next-token loss at every position;
HF's ``GPT2LMHeadModel``. Both sides: vocabulary 8,000, d_model 128, 2 layers, 4 heads, d_ff 512, learned
positions (HF's kind). Ours runs twice: ``fused`` (our C++ ops for attention, LayerNorm, bias + GELU,
dropout + residual and cross-entropy) and ``eager`` (the same equations in torch ops).

The three are timed interleaved in one run (bench/common.py: warm-up, then the median of the samples); the
ratio ours / HF < 1 means ours is faster. Shapes (batch, length): (64, 64) and (16, 256); 1 and 2 threads.

    .venv/bin/python bench/train_step.py            # -> bench/results/train_step.{json,md}
    .venv/bin/python bench/train_step.py --quick    # fewer samples (CI-sized)
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_info, markdown_table, native_stderr_silenced, time_interleaved, write_results  # noqa: E402

from minitransformer.models.bert import BertConfig, BertForPreTraining  # noqa: E402
from minitransformer.models.gpt import GPT, GPTConfig  # noqa: E402
from minitransformer.nn.losses import cross_entropy  # noqa: E402

SIZE = dict(vocab_size=8000, d_model=128, n_layers=2, n_heads=4, d_ff=512, dropout=0.1)
SHAPES = [(64, 64), (16, 256)]
MASK_FRACTION = 0.15


def hugging_face_models(max_len):
    from transformers import BertConfig as HFBertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel
    bert = BertForMaskedLM(HFBertConfig(vocab_size=SIZE["vocab_size"], hidden_size=SIZE["d_model"],
                                        num_hidden_layers=SIZE["n_layers"], num_attention_heads=SIZE["n_heads"],
                                        intermediate_size=SIZE["d_ff"], max_position_embeddings=max_len,
                                        hidden_dropout_prob=SIZE["dropout"], attention_probs_dropout_prob=0.0))
    gpt = GPT2LMHeadModel(GPT2Config(vocab_size=SIZE["vocab_size"], n_embd=SIZE["d_model"], n_layer=SIZE["n_layers"],
                                     n_head=SIZE["n_heads"], n_inner=SIZE["d_ff"], n_positions=max_len,
                                     resid_pdrop=SIZE["dropout"], embd_pdrop=SIZE["dropout"], attn_pdrop=0.0))
    return bert, gpt


def step_function(model, loss_of):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_of(model).backward()
        optimizer.step()
    return step


def bert_steps(batch, length, generator):
    ids = torch.randint(5, SIZE["vocab_size"], (batch, length), generator=generator)
    chosen = torch.rand(batch, length, generator=generator) < MASK_FRACTION
    labels = ids[chosen]
    hf_bert, _ = hugging_face_models(length)

    def ours_loss(model):
        hidden = model.bert(ids)
        return cross_entropy(model.mlm_logits(hidden[chosen]), labels, backend=model.bert.backend)

    def hf_loss(model):
        hidden = model.bert(input_ids=ids).last_hidden_state
        return F.cross_entropy(model.cls(hidden[chosen]), labels)

    steps = {"hf": step_function(hf_bert, hf_loss)}
    for backend in ("fused", "eager"):
        config = BertConfig(max_len=length, backend=backend, positions="learned", **SIZE)
        steps[backend] = step_function(BertForPreTraining(config), ours_loss)
    return steps


def gpt_steps(batch, length, generator):
    ids = torch.randint(5, SIZE["vocab_size"], (batch, length + 1), generator=generator)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    _, hf_gpt = hugging_face_models(length)
    steps = {"hf": step_function(hf_gpt, lambda model: model(input_ids=inputs, labels=inputs).loss)}
    for backend in ("fused", "eager"):
        config = GPTConfig(max_len=length, backend=backend, positions="learned", **SIZE)
        steps[backend] = step_function(GPT(config), lambda model: model.loss((inputs, targets))[0])
    return steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 samples after 2 warm-ups (default 15 after 3)")
    args = parser.parse_args(argv)
    repeats, warmup = (5, 2) if args.quick else (15, 3)
    rows, records = [], []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for model, make_steps in (("BERT", bert_steps), ("GPT", gpt_steps)):
            for batch, length in SHAPES:
                steps = make_steps(batch, length, torch.Generator().manual_seed(0))
                with native_stderr_silenced():
                    seconds = time_interleaved(steps, repeats=repeats, warmup=warmup)
                record = {"model": model, "batch": batch, "length": length, "threads": threads, "seconds": seconds,
                          "fused_over_hf": seconds["fused"] / seconds["hf"],
                          "eager_over_hf": seconds["eager"] / seconds["hf"]}
                records.append(record)
                rows.append([model, f"({batch}, {length})", threads, f"{1e3 * seconds['hf']:.0f}",
                             f"{record['fused_over_hf']:.2f}", f"{record['eager_over_hf']:.2f}"])
                print(rows[-1], flush=True)
    markdown = ("# One training step: ours / Hugging Face\n\n`bench/train_step.py`"
                f"{' --quick' if args.quick else ''}: forward, loss, backward and AdamW, dropout 0.1, vocabulary "
                "8,000, d_model 128, 2 layers, 4 heads, d_ff 512; BERT's masked-LM logits at the masked positions "
                "only (both sides). Interleaved in one run, median of "
                f"{repeats} samples after {warmup} warm-ups. A ratio below 1: ours is faster.\n\n"
                + markdown_table(["model", "(batch, length)", "threads", "HF step (ms)", "ours fused / HF",
                                  "ours eager / HF"], rows))
    write_results("train_step_quick" if args.quick else "train_step", {"machine": machine_info(), "runs": records},
                  markdown)
    print(markdown)


if __name__ == "__main__":
    main()
