"""Whole-model parity with Hugging Face: our BERT's weights copied into ``BertForMaskedLM`` and our GPT's
into ``GPT2LMHeadModel`` (equal configurations, dropout off) give the same logits and the same parameter
gradients, for our eager and our fused backends.

The one configuration that must be set on the Hugging Face side: GPT-2 defaults to the tanh form of GELU
("gelu_new"); our GPT uses the exact form, so the GPT-2 config asks for ``activation_function="gelu"``.
"""

import pytest
import torch

from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.models.gpt import GPT, GPTConfig
from minitransformer.nn.backends import resolve_backend
from helpers import relative_error

transformers = pytest.importorskip("transformers")

SIZE = dict(vocab_size=97, d_model=32, n_layers=2, n_heads=4, d_ff=64, dropout=0.0, max_len=24,
            positions="learned")
BACKENDS = ["eager"] + (["fused"] if resolve_backend("auto") == "fused" else [])
TOLERANCE = 1e-5


def bert_pair(backend):
    torch.manual_seed(0)
    ours = BertForPreTraining(BertConfig(backend=backend, **SIZE)).eval()
    theirs = transformers.BertForMaskedLM(transformers.BertConfig(
        vocab_size=SIZE["vocab_size"], hidden_size=SIZE["d_model"], num_hidden_layers=SIZE["n_layers"],
        num_attention_heads=SIZE["n_heads"], intermediate_size=SIZE["d_ff"], max_position_embeddings=SIZE["max_len"],
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12, type_vocab_size=2,
        hidden_act="gelu")).eval()
    names = {"bert.embeddings.word_embeddings.weight": "bert.token_embeddings.weight",
             "bert.embeddings.position_embeddings.weight": "bert.position_embeddings.weight",
             "bert.embeddings.token_type_embeddings.weight": "bert.segment_embeddings.weight",
             "bert.embeddings.LayerNorm.weight": "bert.embedding_norm.weight",
             "bert.embeddings.LayerNorm.bias": "bert.embedding_norm.bias",
             "cls.predictions.transform.dense.weight": "mlm_transform.weight",
             "cls.predictions.transform.dense.bias": "mlm_transform.bias",
             "cls.predictions.transform.LayerNorm.weight": "mlm_norm.weight",
             "cls.predictions.transform.LayerNorm.bias": "mlm_norm.bias",
             "cls.predictions.bias": "mlm_bias"}
    for i in range(SIZE["n_layers"]):
        hf, mt = f"bert.encoder.layer.{i}.", f"bert.layers.{i}."
        for kind in ("weight", "bias"):
            names.update({hf + f"attention.self.query.{kind}": mt + f"self_attn.q_proj.{kind}",
                          hf + f"attention.self.key.{kind}": mt + f"self_attn.k_proj.{kind}",
                          hf + f"attention.self.value.{kind}": mt + f"self_attn.v_proj.{kind}",
                          hf + f"attention.output.dense.{kind}": mt + f"self_attn.out_proj.{kind}",
                          hf + f"attention.output.LayerNorm.{kind}": mt + f"norm1.{kind}",
                          hf + f"intermediate.dense.{kind}": mt + f"feed_forward.linear1.{kind}",
                          hf + f"output.dense.{kind}": mt + f"feed_forward.linear2.{kind}",
                          hf + f"output.LayerNorm.{kind}": mt + f"norm2.{kind}"})
    return ours, theirs, names


def gpt_pair(backend):
    torch.manual_seed(0)
    ours = GPT(GPTConfig(backend=backend, **SIZE)).eval()
    theirs = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=SIZE["vocab_size"], n_embd=SIZE["d_model"], n_layer=SIZE["n_layers"], n_head=SIZE["n_heads"],
        n_inner=SIZE["d_ff"], n_positions=SIZE["max_len"], resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        activation_function="gelu", layer_norm_epsilon=1e-5)).eval()
    # GPT-2's Conv1D stores weights as (in, out): ours (out, in) transposed; c_attn holds q, k and v side by side.
    names = {"transformer.wte.weight": "token_embeddings.weight", "transformer.wpe.weight": "position_embeddings.weight",
             "transformer.ln_f.weight": "final_norm.weight", "transformer.ln_f.bias": "final_norm.bias"}
    for i in range(SIZE["n_layers"]):
        hf, mt = f"transformer.h.{i}.", f"layers.{i}."
        names.update({hf + "ln_1.weight": mt + "norm1.weight", hf + "ln_1.bias": mt + "norm1.bias",
                      hf + "ln_2.weight": mt + "norm2.weight", hf + "ln_2.bias": mt + "norm2.bias",
                      hf + "attn.c_attn.weight": [mt + f"self_attn.{p}_proj.weight" for p in "qkv"],
                      hf + "attn.c_attn.bias": [mt + f"self_attn.{p}_proj.bias" for p in "qkv"],
                      hf + "attn.c_proj.weight": mt + "self_attn.out_proj.weight.T",
                      hf + "attn.c_proj.bias": mt + "self_attn.out_proj.bias",
                      hf + "mlp.c_fc.weight": mt + "feed_forward.linear1.weight.T",
                      hf + "mlp.c_fc.bias": mt + "feed_forward.linear1.bias",
                      hf + "mlp.c_proj.weight": mt + "feed_forward.linear2.weight.T",
                      hf + "mlp.c_proj.bias": mt + "feed_forward.linear2.bias"})
    return ours, theirs, names


def ours_as_theirs(tensors, name):
    """The tensor of ours that matches a Hugging Face parameter, from the mapping's entry ``name``."""
    if isinstance(name, list):  # GPT-2's fused q, k, v: (in, 3 out) for weights, (3 out,) for biases
        parts = [tensors[n] for n in name]
        return torch.cat([p.T for p in parts], 1) if parts[0].dim() == 2 else torch.cat(parts)
    if name.endswith(".T"):
        return tensors[name[:-2]].T
    return tensors[name]


def copy_into_theirs(ours, theirs, names):
    tensors = dict(ours.named_parameters())
    with torch.no_grad():
        for hf_name, parameter in theirs.named_parameters():
            parameter.copy_(ours_as_theirs(tensors, names[hf_name]))


def compare_gradients(ours, theirs, names):
    """Worst relative error over Hugging Face's parameters (tied ones are counted once, by their first name).
    A key bias adds q·b to every score of a query, which the softmax ignores: its gradient is exactly zero,
    so both sides hold round-off (~1e-7) there, compared against the whole gradient's norm instead."""
    grads = {name: p.grad for name, p in ours.named_parameters()}
    scale = float(torch.cat([p.grad.reshape(-1) for p in theirs.parameters()]).norm())
    errors = []
    for hf_name, p in theirs.named_parameters():
        mine = ours_as_theirs(grads, names[hf_name])
        if hf_name.endswith("attention.self.key.bias"):
            errors.append(float(torch.cat([p.grad, mine]).norm()) / scale)
        else:
            errors.append(relative_error(p.grad, mine))
    return max(errors)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bert_matches_bert_for_masked_lm(backend):
    ours, theirs, names = bert_pair(backend)
    copy_into_theirs(ours, theirs, names)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, SIZE["vocab_size"], (3, SIZE["max_len"]), generator=generator)
    segments = (torch.arange(SIZE["max_len"]) >= 10).long().expand(3, -1)
    our_logits = ours(ids, segments)[0]
    their_logits = theirs(input_ids=ids, token_type_ids=segments).logits
    assert relative_error(our_logits, their_logits) <= TOLERANCE
    weights = torch.randn(their_logits.shape, generator=generator)
    (our_logits * weights).sum().backward()
    (their_logits * weights).sum().backward()
    assert compare_gradients(ours, theirs, names) <= TOLERANCE


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpt_matches_gpt2_lm_head_model(backend):
    ours, theirs, names = gpt_pair(backend)
    copy_into_theirs(ours, theirs, names)
    ids = torch.randint(0, SIZE["vocab_size"], (3, SIZE["max_len"]), generator=torch.Generator().manual_seed(2))
    our_logits, their_logits = ours(ids), theirs(input_ids=ids).logits
    assert relative_error(our_logits, their_logits) <= TOLERANCE
    ours.loss((ids[:, :-1], ids[:, 1:]))[0].backward()
    theirs(input_ids=ids, labels=ids).loss.backward()  # GPT-2 shifts its labels itself: the same predictions
    assert compare_gradients(ours, theirs, names) <= TOLERANCE
