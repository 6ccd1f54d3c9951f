"""The pre-trained model shipped with the package: the headline's BERT (recipe reviews-bert, pre-training
seed 0), weights stored in fp16, provenance in the file's metadata (docs/model_card.md).

    load_pretrained(shipped_bert_path())  # -> (BertForPreTraining in fp32, tokenizer, state)
    held_out_mlm_accuracy(model, tokenizer, PretrainRecipe(**state["recipe"]))   # recomputes the recorded figure

``export_shipped(checkpoint, out)`` makes the file from a pre-training checkpoint: every model tensor in
fp16 (halving the size; no optimizer state), and in the metadata the recipe, the corpus fingerprint, the
compute, the command that reproduces it, and the held-out MLM accuracy with the fp32 and the fp16 weights.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from minitransformer.recipes.corpus import corpus_sha256, review_corpus
from minitransformer.recipes.pretraining import PretrainRecipe, make_evaluator, split_stream, token_stream
from minitransformer.train.checkpoint import FORMAT_NAME, FORMAT_VERSION, read_checkpoint
from minitransformer.train.checkpoint import load_pretrained

SHIPPED_BERT = Path(__file__).resolve().parent.parent / "pretrained" / "reviews-bert.safetensors"
REPRODUCE = "minitransformer pretrain --recipe reviews-bert --seed 0 --out DIR"


def shipped_bert_path():
    """The shipped checkpoint's path; a RuntimeError that says what to do if it is missing."""
    if not SHIPPED_BERT.is_file():
        raise RuntimeError(f"the shipped pre-trained BERT is missing ({SHIPPED_BERT}); pre-train one with "
                           f"`{REPRODUCE}` and pass --init DIR/checkpoint.safetensors")
    return SHIPPED_BERT


def held_out_mlm_accuracy(model, tokenizer, recipe, texts=None):
    """The held-out MLM accuracy of ``model`` as pre-training measured it (same windows, same masking)."""
    texts = review_corpus() if texts is None else texts
    _, held_out = split_stream(recipe, token_stream(tokenizer, texts))
    model.eval()
    with torch.no_grad():
        return make_evaluator(recipe, held_out, len(tokenizer))(model)["mlm_accuracy"]


def export_shipped(checkpoint, out=SHIPPED_BERT, run_record=None):
    """Write the fp16 shipped file from a BERT pre-training ``checkpoint``; returns its metadata state."""
    tensors, state = read_checkpoint(checkpoint)
    model, tokenizer, _ = load_pretrained(checkpoint, "bert")
    recipe = PretrainRecipe(**state["recipe"])
    texts = review_corpus()
    if corpus_sha256(texts) != state["corpus_sha256"]:
        raise ValueError(f"{checkpoint} was pre-trained on another corpus than the review corpus of this code")
    accuracy_fp32 = held_out_mlm_accuracy(model, tokenizer, recipe, texts)
    half = {key: value.to(torch.float16) if value.is_floating_point() else value
            for key, value in tensors.items() if key.startswith("model/")}
    model.load_state_dict({key[len("model/"):]: value.float() for key, value in half.items()})
    accuracy_fp16 = held_out_mlm_accuracy(model, tokenizer, recipe, texts)
    history = state["history"]
    shipped_state = {key: state[key] for key in ("model", "model_config", "tokenizer", "recipe", "corpus_sha256",
                                                 "corpus_documents", "corpus_tokens", "tokens_per_step")}
    shipped_state.update({
        "storage": "float16", "steps": state["step"], "tokens_seen": state["step"] * state["tokens_per_step"],
        "wall_seconds": history[-1]["wall_seconds"], "command": REPRODUCE,
        "held_out_mlm_accuracy_fp32": accuracy_fp32, "held_out_mlm_accuracy_fp16": accuracy_fp16,
        **{key: run_record[key] for key in ("threads", "commit") if run_record and key in run_record}})
    metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "state": json.dumps(shipped_state)}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save_file(half, str(out), metadata=metadata)
    return shipped_state


POSITION_NAMES = {"learned": "learned position embeddings", "rotary": "rotary positions (RoPE)"}


def model_card(state):
    """The model card (markdown) of a shipped checkpoint, from its metadata ``state``."""
    recipe, config = state["recipe"], state["model_config"]
    return "\n".join([
        "# Model card: the shipped pre-trained mini-BERT (`minitransformer/pretrained/reviews-bert.safetensors`)",
        "",
        "Written by `bench/pretrain_finetune.py --export-shipped` from the file's own metadata.",
        "",
        "| | |",
        "|---|---|",
        f"| architecture | BERT encoder, post-norm, GELU: d_model {config['d_model']}, {config['n_layers']} layers, "
        f"{config['n_heads']} heads, d_ff {config['d_ff']}, up to {config['max_len']} tokens, "
        f"{POSITION_NAMES[config.get('positions', 'learned')]}, vocabulary {config['vocab_size']:,} "
        "(WordPiece, lower-cased) |",
        f"| objective | masked-language modelling (15% of each {config['max_len']}-token window), no next-sentence "
        "prediction |",
        f"| corpus | {state['corpus_documents']:,} movie-review documents, "
        f"{state['corpus_tokens'] / 1e6:.1f} M tokens, every test text removed (below) |",
        f"| corpus SHA-256 | `{state['corpus_sha256']}` |",
        f"| training | {state['steps']:,} steps of {recipe['batch_size']} windows, "
        f"{state['tokens_seen'] / 1e6:.1f} M tokens seen, AdamW lr {recipe['lr']} "
        f"(warm-up {recipe['warmup_fraction']:.0%}, linear decay), seed {recipe['seed']} |",
        f"| compute | {state['wall_seconds'] / 60:.0f} min on {state.get('threads', '?')} CPU thread(s) |",
        f"| code | commit `{state.get('commit', 'unknown')}` |",
        f"| held-out MLM accuracy | {100 * state['held_out_mlm_accuracy_fp32']:.2f}% with the fp32 weights, "
        f"{100 * state['held_out_mlm_accuracy_fp16']:.2f}% with the stored fp16 weights |",
        "| storage | every weight in float16 (the optimizer state is not shipped) |",
        "",
        "Reproduce: `" + state["command"] + "`; then `bench/pretrain_finetune.py --export-shipped` (from the",
        "experiment's BERT seed 0) writes the fp16 file and this card.",
        "",
        "The corpus (`minitransformer/recipes/corpus.py:review_corpus`): the IMDB reviews of the training and",
        "validation parts of the fixed split, Pang & Lee's sentences, the VADER movie snippets and the Rotten Tomatoes",
        "snippets and plot summaries, each distinct text once, with every test text of the three evaluation tasks",
        "removed (compared after lower-casing and dropping punctuation and spaces). The tokenizer was trained on the",
        "same text. `tests/recipes/test_shipped.py` recomputes the held-out MLM accuracy from this file and checks the",
        "corpus fingerprint and the tokenizer.",
        "",
        "Intended use: fine-tuning for English text classification, above all on movie reviews",
        "(`minitransformer finetune`). It is a teaching model: small and trained on one CPU core (compute above);",
        "its held-out masked-token accuracy is far below a production BERT's.",
        ""])
