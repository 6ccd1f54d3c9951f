"""One training step of our BERT and GPT against Hugging Face's, on the same configuration and batch.

A step = forward, loss, backward, AdamW update, in training mode (dropout 0.1). BERT: the masked-LM loss
with the logits computed at the masked positions only (15% of the tokens), for both; HF's
``BertForMaskedLM`` through ``model.bert`` and ``model.cls``. GPT: the next-token loss at every position;
HF's ``GPT2LMHeadModel``. Both sides: vocabulary 8,000, d_model 128, 2 layers, 4 heads, d_ff 512, learned
positions (HF's kind), no dropout inside the feed-forward (HF has none there; our models' default,
``activation_dropout=None``, has one, as ``torch.nn.TransformerEncoderLayer``). Ours runs twice: ``fused``
(our C++ ops for attention, LayerNorm, bias + GELU, dropout + residual and cross-entropy, BERT's tied
decoder and its loss together as ``nn.linear_cross_entropy``; ``F.linear``) and
``eager`` (the same equations in torch ops).

The three are timed interleaved in one run (bench/common.py: warm-up, then rounds in which each side runs one
step, the order rotating). The ratio ours / HF is the median over rounds of the two steps' times within a
round, which ran back to back, so a slow phase of the shared machine lands on both; its 95% interval is a
bootstrap over the rounds. A ratio < 1 means ours is faster. The JSON also keeps each side's median time.
Shapes (batch, length): (64, 64) and (16, 256); 1 and 2 threads.

Compiled: at ``COMPILED`` (shape, threads) the loss of each side — forward and loss, hence through AOTAutograd
the backward too — also runs through ``torch.compile`` (inductor, the default backend; AdamW stays eager on
both sides), timed in the same interleaved run as the eager steps. Ours compiles as one graph; inductor's
compile takes about a minute per model on 2 cores, which is why only these configurations get it.

Page faults: each call's minor page faults are counted (getrusage) and their median per step reported. Under
glibc's default allocator a step whose large buffers were handed back to the kernel pays a fault per 4 KiB
page when it allocates them again, and how often that happens depends on what ran before. With
``--keep-freed-memory`` the process keeps freed memory for reuse instead (mallopt: no mmap below 1 GiB, no
trimming of the heap; the reason PyTorch's CPU performance guide suggests jemalloc or tcmalloc), so no side
pays faults; results then go to ``train_step_keep_memory``.

    .venv/bin/python bench/train_step.py            # -> bench/results/train_step.{json,md}
    .venv/bin/python bench/train_step.py --quick    # fewer samples (CI-sized)
    .venv/bin/python bench/train_step.py --keep-freed-memory
"""

import argparse
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (counting_page_faults, interleaved_samples, keep_freed_memory, machine_info,  # noqa: E402
                    markdown_table, native_stderr_silenced, paired_ratio, with_interval, write_results)

from minitransformer.data.pretraining.windows import mlm_window_batch  # noqa: E402
from minitransformer.models.bert import BertConfig, BertForPreTraining  # noqa: E402
from minitransformer.models.gpt import GPT, GPTConfig  # noqa: E402
from minitransformer.recipes.pretraining import git_commit  # noqa: E402

SIZE = dict(vocab_size=8000, d_model=128, n_layers=2, n_heads=4, d_ff=512, dropout=0.1)
# HF's BERT and GPT-2 drop out the residual branches only; torch.nn.TransformerEncoderLayer, and our models by
# default, also the FFN's hidden layer (4x wider). The same architecture on both sides: none there.
OURS = dict(SIZE, activation_dropout=0.0)
SHAPES = [(64, 64), (16, 256)]
COMPILED = [((64, 64), 1)]  # ((batch, length), threads) that also time the compiled steps
BACKENDS = ("fused", "eager")


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


def step_function(model, loss_of, compiled=False):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    loss_of = torch.compile(loss_of) if compiled else loss_of

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_of(model).backward()
        optimizer.step()
    return step


def bert_steps(batch, length, generator, compiled):
    """A pre-training batch of masked windows (15% of each window, as fixed-size (B, P) positions and labels)."""
    stream = torch.randint(5, SIZE["vocab_size"], (100_000,), generator=generator)
    data = mlm_window_batch(stream, length, batch, SIZE["vocab_size"], generator)
    ids, positions, labels = data["input_ids"], data["mlm_positions"], data["mlm_labels"]

    def ours_loss(model):
        hidden = model.bert(ids)
        return model.masked_lm_loss(hidden, positions, labels)

    def hf_loss(model):
        hidden = model.bert(input_ids=ids).last_hidden_state  # (B, N, d_model)
        picked = hidden.gather(1, positions.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))  # (B, P, d_model)
        return F.cross_entropy(model.cls(picked).flatten(0, 1), labels.flatten())

    def ours(backend):
        return BertForPreTraining(BertConfig(max_len=length, backend=backend, positions="learned", **OURS))

    return all_steps(lambda: hugging_face_models(length)[0], hf_loss, ours, ours_loss, compiled)


def gpt_steps(batch, length, generator, compiled):
    ids = torch.randint(5, SIZE["vocab_size"], (batch, length + 1), generator=generator)
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def ours(backend):
        return GPT(GPTConfig(max_len=length, backend=backend, positions="learned", **OURS))

    return all_steps(lambda: hugging_face_models(length)[1], lambda model: model(input_ids=inputs, labels=inputs).loss,
                     ours, lambda model: model.loss((inputs, targets))[0], compiled)


def all_steps(make_hf, hf_loss, make_ours, ours_loss, compiled):
    """name -> step: "hf" and each backend of ours, and with ``compiled`` their "compiled <name>" twins
    (each a fresh model from the same torch seed)."""
    steps = {}
    for prefix in ("", "compiled ") if compiled else ("",):
        torch.manual_seed(0)
        steps[prefix + "hf"] = step_function(make_hf(), hf_loss, compiled=bool(prefix))
        for backend in BACKENDS:
            steps[prefix + backend] = step_function(make_ours(backend), ours_loss, compiled=bool(prefix))
    return steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 rounds after 2 warm-ups (default 25 after 3)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="no page faults from re-allocation on either side (module docstring)")
    args = parser.parse_args(argv)
    if args.keep_freed_memory:
        keep_freed_memory()
    repeats, warmup = (5, 2) if args.quick else (25, 3)
    commit = git_commit()  # read at the start: the checkout may move on during the run
    rows, compiled_rows, records = [], [], []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for model, make_steps in (("BERT", bert_steps), ("GPT", gpt_steps)):
            for batch, length in SHAPES:
                compiled = ((batch, length), threads) in COMPILED
                steps, faults = counting_page_faults(make_steps(batch, length, torch.Generator().manual_seed(0),
                                                                compiled))
                with native_stderr_silenced():
                    samples = interleaved_samples(steps, repeats=repeats, warmup=warmup)
                seconds = {name: statistics.median(times) for name, times in samples.items()}
                page_faults = {name: statistics.median(counts[warmup:]) for name, counts in faults.items()}
                ratios = {f"{prefix}{name}": paired_ratio(samples[f"{prefix}{name}"], samples[f"{prefix}hf"])
                          for prefix in (("", "compiled ") if compiled else ("",)) for name in BACKENDS}
                record = {"model": model, "batch": batch, "length": length, "threads": threads, "seconds": seconds,
                          "samples": samples, "page_faults_per_step": page_faults,
                          **{f"{name}_over_hf": ratios[name][0] for name in BACKENDS},
                          **{f"{name}_over_hf_ci95": ratios[name][1] for name in BACKENDS}}
                rows.append([model, f"({batch}, {length})", threads, f"{1e3 * seconds['hf']:.0f}",
                             *(with_interval(ratios[name]) for name in BACKENDS),
                             " / ".join(f"{page_faults[name]:,.0f}" for name in ("hf", *BACKENDS))])
                if compiled:
                    compiled_hf = paired_ratio(samples["compiled hf"], samples["hf"])
                    record.update({f"compiled_{name}_over_compiled_hf": ratios[f"compiled {name}"][0]
                                   for name in BACKENDS})
                    record.update({f"compiled_{name}_over_compiled_hf_ci95": ratios[f"compiled {name}"][1]
                                   for name in BACKENDS})
                    compiled_rows.append([model, f"({batch}, {length})", threads,
                                          f"{1e3 * seconds['compiled hf']:.0f}", with_interval(compiled_hf),
                                          *(with_interval(ratios[f"compiled {name}"]) for name in BACKENDS),
                                          *(with_interval(ratios[name]) for name in BACKENDS)])
                records.append(record)
                print(rows[-1], compiled_rows[-1:] if compiled else "", flush=True)
    options = (" --quick" if args.quick else "") + (" --keep-freed-memory" if args.keep_freed_memory else "")
    allocator = ("glibc keeping freed memory for reuse (`--keep-freed-memory`)" if args.keep_freed_memory
                 else "glibc's default allocator")
    markdown = ("# One training step: ours / Hugging Face\n\n`bench/train_step.py`"
                f"{options} at commit {commit}: forward, loss, backward and AdamW, dropout 0.1 on the "
                "residual branches and embeddings (none inside the feed-forward, as in HF's models), vocabulary "
                "8,000, d_model 128, 2 layers, 4 heads, d_ff 512; BERT's masked-LM logits at the masked positions "
                f"only (both sides). Interleaved in one run: {repeats} rounds after {warmup} warm-ups, each side one step "
                f"a round, {allocator}. A ratio is the median over rounds of the two sides' step times within a "
                "round, with its 95% bootstrap interval in brackets; below 1: ours is faster. HF step: its median "
                "time. Page faults: the median per step of each side's timed calls.\n\n"
                + markdown_table(["model", "(batch, length)", "threads", "HF step (ms)", "ours fused / HF",
                                  "ours eager / HF", "page faults / step: HF / fused / eager"], rows)
                + "\n\n## Compiled: `torch.compile` (inductor) of forward + loss, hence of the backward\n\n"
                "The same run, interleaved with the eager steps above (AdamW eager on both sides). Ours compiles "
                "as one graph (`tests/models/test_compile.py`). Compiled at one shape and one thread only: "
                "inductor takes about a minute per model to compile on this 2-core machine.\n\n"
                + markdown_table(["model", "(batch, length)", "threads", "compiled HF step (ms)",
                                  "compiled HF / HF", "compiled fused / compiled HF",
                                  "compiled eager / compiled HF", "fused / HF (eager)", "eager / HF (eager)"],
                                 compiled_rows))
    name = "train_step" + ("_quick" if args.quick else "") + ("_keep_memory" if args.keep_freed_memory else "")
    write_results(name, {"machine": machine_info(), "commit": commit, "keep_freed_memory": args.keep_freed_memory, "runs": records},
                  markdown)
    print(markdown)


if __name__ == "__main__":
    main()
