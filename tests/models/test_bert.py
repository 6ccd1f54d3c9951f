"""mini-BERT: shapes, padding invariance (trimmed padding too), tied MLM head, loss parity with torch, gradcheck,
bad input."""

from functools import lru_cache

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch.func import functional_call

from minitransformer.data.pretraining.mlm import IGNORE_INDEX, masked_positions
from minitransformer.data.pretraining.nsp import bert_batch
from minitransformer.data.pretraining.windows import mlm_window_batch
from minitransformer.data.text.padding import trim_padding
from minitransformer.data.text.tokenizer import PAD_ID
from minitransformer.models.bert import BertConfig, BertForPreTraining, BertModel
from minitransformer.nn.backends import resolve_backend
from minitransformer.nn.losses import cross_entropy
from helpers import labels_per_position

VOCAB = 50


def tiny(backend="eager", dtype=torch.float32, seed=0, **kwargs):
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=VOCAB, max_len=16, d_model=16, n_layers=2, n_heads=2, d_ff=32, backend=backend,
                        **kwargs)
    return BertForPreTraining(config).to(dtype).eval()


@lru_cache(maxsize=1)
def shared_encoder():
    return tiny().bert


def _batch(batch=3, length=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (batch, length), generator=g)
    ids[0, 7:] = PAD_ID
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[:, 2] = torch.randint(5, VOCAB, (batch,), generator=g)
    labels[1, 5] = 9
    segments = (torch.arange(length) >= 4).long().expand(batch, length).clone()
    positions, labels = masked_positions(labels, max_predictions=3)
    return {"input_ids": ids, "segment_ids": segments, "padding_mask": ids == PAD_ID, "mlm_positions": positions,
            "mlm_labels": labels, "nsp_labels": torch.tensor([0, 1, 0][:batch])}


def test_shapes():
    model = tiny()
    b = _batch()
    mlm, nsp = model(b["input_ids"], b["segment_ids"], b["padding_mask"])
    assert mlm.shape == (3, 10, VOCAB) and nsp.shape == (3, 2)
    assert model.bert(b["input_ids"]).shape == (3, 10, 16)


@given(st.integers(1, 4), st.integers(1, 12), st.integers(0, 5), st.integers(0, 2**31 - 1))
def test_padding_does_not_change_real_positions(batch, length, extra, seed):
    model = shared_encoder()
    ids = torch.randint(5, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))
    padded = torch.cat([ids, torch.full((batch, min(extra, 16 - length)), PAD_ID)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(padded)[:, :length], model(ids), rtol=1e-4, atol=1e-5)


def test_trimming_the_padding_of_a_sentence_pair_batch_keeps_the_loss():
    examples = [([5, 6, 7], [8, 9], 0), ([5, 6], [7], 1), ([9, 8, 7, 6], [5], 0)]
    batch = bert_batch(examples, max_len=16, vocab_size=12, generator=torch.Generator().manual_seed(0))
    keys = ["input_ids", "segment_ids", "padding_mask"]  # the predictions (B, P) point at real tokens only
    trimmed = {**batch, **dict(zip(keys, trim_padding(batch["padding_mask"], *(batch[key] for key in keys))))}
    assert trimmed["input_ids"].shape == (3, 8) and batch["input_ids"].shape == (3, 16)
    assert not trimmed["padding_mask"][:, -1].all()
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=12, max_len=16, d_model=8, n_layers=1, n_heads=2, d_ff=16,
                                          dropout=0.0, backend="eager")).double()
    full_loss, _ = model.loss(batch)
    trimmed_loss, _ = model.loss(trimmed)
    assert torch.allclose(full_loss, trimmed_loss, atol=1e-12)


def test_mlm_decoder_is_tied_to_the_token_embeddings():
    model = tiny()
    b = _batch()
    loss, _ = model.loss(b)
    loss.backward()
    assert not any(p is model.bert.token_embeddings.weight for n, p in model.named_parameters() if "mlm" in n)
    with torch.no_grad():
        before = model.mlm_logits(torch.ones(1, 16)).clone()
        model.bert.token_embeddings.weight[7] += 1.0
        after = model.mlm_logits(torch.ones(1, 16))
    changed = (after - before).abs().squeeze(0) > 0
    assert changed[7] and changed.sum() == 1


def test_loss_matches_torch_cross_entropy_on_full_logits():
    model = tiny()
    b = _batch()
    loss, parts = model.loss(b)
    mlm, nsp = model(b["input_ids"], b["segment_ids"], b["padding_mask"])
    labels = labels_per_position(b["mlm_positions"], b["mlm_labels"], b["input_ids"].shape[1])  # (B, N)
    expected_mlm = F.cross_entropy(mlm.reshape(-1, VOCAB), labels.reshape(-1), ignore_index=IGNORE_INDEX)
    expected_nsp = F.cross_entropy(nsp, b["nsp_labels"])
    torch.testing.assert_close(parts["mlm"], expected_mlm)
    torch.testing.assert_close(loss, expected_mlm + expected_nsp)


@pytest.mark.parametrize("backend", ["eager", "torch"] + (["fused"] if resolve_backend("auto") == "fused" else []))
def test_fixed_size_mlm_gather_gives_the_loss_of_the_boolean_index(backend):
    """The MLM loss over the (B, P) prediction slots equals the loss over hidden[chosen] (B·N positions picked
    by a boolean mask, a data-dependent size) for the same batch."""
    model = tiny(backend, dropout=0.0)
    stream = torch.randint(5, VOCAB, (400,), generator=torch.Generator().manual_seed(2))
    b = mlm_window_batch(stream, 16, 8, VOCAB, torch.Generator().manual_seed(3))
    labels = labels_per_position(b["mlm_positions"], b["mlm_labels"], 16)
    chosen = labels != IGNORE_INDEX
    hidden = model.bert(b["input_ids"], b["segment_ids"], b["padding_mask"])
    boolean_index = cross_entropy(model.mlm_logits(hidden[chosen]), labels[chosen], backend=backend)
    gathered = model.loss(b)[1]["mlm"]
    torch.testing.assert_close(gathered, boolean_index.detach(), rtol=1e-6, atol=0)
    with pytest.raises(ValueError, match="mlm_positions and mlm_labels must both be"):
        model.loss({**b, "mlm_labels": labels})


def test_backends_agree():
    b = _batch()
    outputs = [tiny(backend)(b["input_ids"], b["segment_ids"], b["padding_mask"])[0]
               for backend in ("eager", "torch")]
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)


def test_gradcheck_float64():
    model = tiny(dtype=torch.float64)
    b = _batch(batch=2, length=6)
    names = ["bert.layers.0.self_attn.q_proj.bias", "bert.segment_embeddings.weight", "mlm_transform.bias"]
    params = dict(model.named_parameters())

    def loss_of(*tensors):
        overrides = {**params, **dict(zip(names, tensors))}
        return functional_call(model, overrides, args=(b["input_ids"], b["segment_ids"], b["padding_mask"]))[0].sum()

    inputs = tuple(params[n].detach().clone().requires_grad_(True) for n in names)
    assert torch.autograd.gradcheck(loss_of, inputs, eps=1e-6, atol=1e-5)


def test_bad_input_is_rejected():
    model = tiny()
    with pytest.raises(ValueError, match="input_ids must be"):
        model.bert(torch.randint(5, VOCAB, (4,)))
    with pytest.raises(ValueError, match="max_len"):
        model.bert(torch.randint(5, VOCAB, (1, 17)))
    with pytest.raises(ValueError, match="ids must be in"):
        model.bert(torch.full((1, 3), VOCAB))
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("cuda")


def test_auto_backend_resolves_to_a_real_one_and_the_former_name_reference_means_eager():
    assert resolve_backend("auto") in ("fused", "eager")
    model = BertModel(BertConfig(vocab_size=VOCAB, d_model=8, n_heads=2, n_layers=1, d_ff=8))
    assert model.layers[0].self_attn.backend == resolve_backend("auto")
    assert f"backend={resolve_backend('auto')}\n" in repr(model)
    old = BertModel(BertConfig(vocab_size=VOCAB, d_model=8, n_heads=2, n_layers=1, d_ff=8, backend="reference"))
    assert old.layers[0].self_attn.backend == "eager" and old.config.backend == "reference"


def test_rotary_positions_replace_the_table_and_still_see_order():
    model = tiny(positions="rotary")
    assert model.bert.position_embeddings is None
    assert not any("position" in name for name, _ in model.named_parameters())
    assert all(layer.self_attn.rotary is not None for layer in model.bert.layers)
    ids = torch.randint(5, VOCAB, (2, 9), generator=torch.Generator().manual_seed(1))
    swapped = ids[:, [1, 0, *range(2, 9)]]
    with torch.no_grad():  # without any position information the output would just be permuted too
        hidden, hidden_swapped = model.bert(ids), model.bert(swapped)
    assert not torch.allclose(hidden_swapped[:, 4:], hidden[:, 4:], atol=1e-4)
    with pytest.raises(ValueError, match="max_len"):
        model.bert(torch.randint(5, VOCAB, (1, 17)))
    with pytest.raises(ValueError, match="positions must be one of"):
        tiny(positions="alibi")


@given(st.integers(1, 3), st.integers(1, 12), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_rotary_padding_does_not_change_real_positions(batch, length, extra, seed):
    model = tiny(positions="rotary", seed=2).bert
    ids = torch.randint(5, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))
    padded = torch.cat([ids, torch.full((batch, min(extra, 16 - length)), PAD_ID)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(padded)[:, :length], model(ids), rtol=1e-4, atol=1e-5)


def test_rotary_gradcheck_float64_and_backends_agree():
    model = tiny(dtype=torch.float64, positions="rotary")
    b = _batch(batch=2, length=6)
    name = "bert.layers.0.self_attn.k_proj.weight"
    params = dict(model.named_parameters())

    def loss_of(weight):
        return functional_call(model, {**params, name: weight},
                               args=(b["input_ids"], b["segment_ids"], b["padding_mask"]))[0].sum()

    assert torch.autograd.gradcheck(loss_of, (params[name].detach().clone().requires_grad_(True),), eps=1e-6,
                                    atol=1e-5)
    outputs = [tiny(backend, positions="rotary")(b["input_ids"], b["segment_ids"], b["padding_mask"])[0]
               for backend in ("eager", "torch")]
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(resolve_backend("auto") != "fused", reason="the fused attention op is not built")
@pytest.mark.parametrize("positions", ["learned", "rotary"])
def test_fused_backend_matches_eager_forward_and_backward(positions):
    """Attention, LayerNorm, bias + GELU and the cross-entropies through our compiled ops, against torch ops
    (dropout off: the two draw their masks differently)."""
    from minitransformer.models.gpt import GPT, GPTConfig
    b = _batch()
    eager = tiny("eager", positions=positions, dropout=0.0).train()
    fused = tiny("fused", positions=positions, dropout=0.0).train()
    fused.load_state_dict(eager.state_dict())
    losses = []
    for model in (eager, fused):
        loss, _ = model.loss(b)
        loss.backward()
        losses.append(loss)
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    for p, q in zip(eager.parameters(), fused.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=VOCAB, max_len=16, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                        backend="eager", positions=positions)).eval()
    gpt_fused = GPT(GPTConfig(vocab_size=VOCAB, max_len=16, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                              backend="fused", positions=positions)).eval()
    gpt_fused.load_state_dict(gpt.state_dict())
    ids = b["input_ids"].clamp(min=5)
    torch.testing.assert_close(gpt_fused(ids), gpt(ids), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(resolve_backend("auto") != "fused", reason="the fused ops are not built")
def test_fused_dropout_is_reproducible_under_torch_manual_seed():
    b = _batch()
    model = tiny("fused", dropout=0.1).train()
    runs = []
    for seed in (0, 0, 1):
        model.zero_grad()
        torch.manual_seed(seed)
        loss, _ = model.loss(b)
        loss.backward()
        runs.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.equal(runs[0][0], runs[1][0]) and all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert not torch.equal(runs[0][0], runs[2][0])
