"""MLM masking, NSP pairs and causal-LM batches: measured proportions and structure."""

import pytest
import torch
from hypothesis import given, strategies as st

from minitransformer.data.pretraining.causal import causal_lm_batch, token_stream
from minitransformer.data.pretraining.mlm import IGNORE_INDEX, mask_tokens, masked_positions, number_to_mask
from minitransformer.data.pretraining.nsp import (IS_NEXT, NO_NSP, NOT_NEXT, bert_batch, make_document_examples,
                                                  make_nsp_examples)
from minitransformer.data.text.tokenizer import CLS_ID, MASK_ID, PAD_ID, SEP_ID, WordPieceTokenizer
from helpers import labels_per_position

VOCAB = 1000


def _sequences(batch=4000, length=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (batch, length), generator=g)
    ids[:, 0], ids[:, 40] = CLS_ID, SEP_ID
    ids[:, 50:] = PAD_ID
    return ids, ids < 5


def test_masking_proportions_match_bert():
    ids, special = _sequences()
    corrupted, labels = mask_tokens(ids, special, VOCAB, torch.Generator().manual_seed(1), max_predictions=100)
    chosen = labels != IGNORE_INDEX
    n_candidates = (~special).sum(1)
    assert torch.equal(chosen.sum(1), torch.round(n_candidates * 0.15).long())  # exactly 15% per sequence
    assert not (chosen & special).any()  # never a special token
    assert torch.equal(labels[chosen], ids[chosen])
    total = chosen.sum().item()
    masked = (corrupted[chosen] == MASK_ID).sum().item() / total
    kept = (corrupted[chosen] == ids[chosen]).sum().item() / total
    randomised = 1 - masked - kept
    assert abs(masked - 0.8) < 0.01 and abs(kept - 0.1) < 0.01 and abs(randomised - 0.1) < 0.01
    assert torch.equal(corrupted[~chosen], ids[~chosen])  # positions not chosen are untouched
    assert (corrupted[chosen & (corrupted != MASK_ID)] >= 5).all()  # random ids are ordinary tokens


def test_cap_on_predictions_per_sequence():
    ids, special = _sequences(batch=50)
    _, labels = mask_tokens(ids, special, VOCAB, torch.Generator().manual_seed(0), max_predictions=3)
    assert ((labels != IGNORE_INDEX).sum(1) == 3).all()


@given(st.integers(1, 5), st.integers(1, 12), st.integers(1, 15), st.integers(0, 2**31 - 1))
def test_masked_positions_are_the_chosen_ones_in_order_then_ignored_slots(batch, length, max_predictions, seed):
    g = torch.Generator().manual_seed(seed)
    chosen = torch.rand(batch, length, generator=g) < 0.3
    chosen &= chosen.cumsum(1) <= max_predictions
    labels = torch.where(chosen, torch.randint(5, VOCAB, (batch, length), generator=g), IGNORE_INDEX)
    positions, targets = masked_positions(labels, max_predictions)
    assert positions.shape == targets.shape == (batch, max_predictions)
    for row in range(batch):
        k = int(chosen[row].sum())
        assert positions[row, :k].tolist() == chosen[row].nonzero().flatten().tolist()
        assert torch.equal(targets[row, :k], labels[row, chosen[row]])
        assert (positions[row, k:] == 0).all() and (targets[row, k:] == IGNORE_INDEX).all()
    assert torch.equal(labels_per_position(positions, targets, length), labels)
    with pytest.raises(ValueError, match="more than max_predictions"):
        masked_positions(torch.zeros(1, max_predictions + 1, dtype=torch.long), max_predictions)


@given(st.integers(0, 500), st.integers(1, 30))
def test_number_to_mask(n, cap):
    k = number_to_mask(torch.tensor([n]), 0.15, cap).item()
    assert k == (0 if n == 0 else min(cap, max(1, round(n * 0.15))))


@given(st.integers(1, 6), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_masking_on_random_shapes_respects_special_tokens(batch, length, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (batch, length), generator=g)
    special = ids < 5
    corrupted, labels = mask_tokens(ids, special, VOCAB, g)
    assert not ((labels != IGNORE_INDEX) & special).any()
    assert torch.equal(corrupted[special], ids[special])


def test_masking_rejects_bad_input():
    ids, special = _sequences(batch=2)
    with pytest.raises(ValueError, match="input_ids"):
        mask_tokens(ids.float(), special, VOCAB)
    with pytest.raises(ValueError, match="special_mask"):
        mask_tokens(ids, special[:, :3], VOCAB)
    with pytest.raises(ValueError, match="mask_prob"):
        mask_tokens(ids, special, VOCAB, mask_prob=0.0)
    with pytest.raises(ValueError, match="max_predictions"):
        mask_tokens(ids, special, VOCAB, max_predictions=0)


def _documents(n_docs=300, seed=0):
    g = torch.Generator().manual_seed(seed)

    def count(low, high):
        return int(torch.randint(low, high, (1,), generator=g))
    # document d holds ids in [100 d + 5, 100 d + 105): the source of every token is recoverable
    return [[(100 * d + 5 + torch.randint(0, 100, (count(2, 12),), generator=g)).tolist() for _ in range(count(1, 6))]
            for d in range(n_docs)]


def test_nsp_pairs_are_half_true_next_half_from_another_document():
    documents = _documents()
    examples = make_nsp_examples(documents, max_len=32, seed=0)
    not_next = sum(label == NOT_NEXT for _, _, label in examples) / len(examples)
    assert len(examples) > 300 and abs(not_next - 0.5) < 0.06
    for a, b, label in examples:
        same_document = (a[0] - 5) // 100 == (b[0] - 5) // 100
        assert same_document == (label == IS_NEXT)
        assert len(a) + len(b) <= 29
        if label == IS_NEXT:
            document = [t for s in documents[(a[0] - 5) // 100] for t in s]
            joined = a + b
            assert any(document[i:i + len(joined)] == joined for i in range(len(document)))


def test_bert_batch_layout():
    examples = [([10, 11, 12], [20, 21], IS_NEXT), ([30], [40, 41, 42], NOT_NEXT)]
    batch = bert_batch(examples, max_len=10, vocab_size=VOCAB, generator=torch.Generator().manual_seed(0))
    assert batch["mlm_positions"].shape == batch["mlm_labels"].shape == (2, 20)  # max_predictions slots
    labels = labels_per_position(batch["mlm_positions"], batch["mlm_labels"], 10)
    original = torch.where(labels != IGNORE_INDEX, labels, batch["input_ids"])
    assert original[0].tolist() == [CLS_ID, 10, 11, 12, SEP_ID, 20, 21, SEP_ID, PAD_ID, PAD_ID]
    assert batch["segment_ids"][0].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert batch["padding_mask"][1].tolist() == [False] * 7 + [True] * 3
    assert batch["nsp_labels"].tolist() == [IS_NEXT, NOT_NEXT]
    assert ((labels != IGNORE_INDEX).sum(1) >= 1).all()


def test_document_examples_are_whole_chunks_without_nsp():
    documents = _documents()
    examples = make_document_examples(documents, max_len=32)
    assert {label for _, _, label in examples} == {NO_NSP} and all(b == [] for _, b, _ in examples)
    assert all(1 <= len(a) <= 30 for a, _, _ in examples)
    for d, document in enumerate(documents):  # each document is its chunks, in order
        chunks = [a for a, _, _ in examples if (a[0] - 5) // 100 == d]
        assert [t for c in chunks for t in c] == [t for s in document for t in s[:30]]
    batch = bert_batch(examples[:2], max_len=32, vocab_size=VOCAB, generator=torch.Generator().manual_seed(0))
    length = len(examples[0][0]) + 2
    assert not batch["segment_ids"].any()
    assert batch["padding_mask"][0].tolist() == [False] * length + [True] * (32 - length)
    labels = labels_per_position(batch["mlm_positions"], batch["mlm_labels"], 32)
    original = torch.where(labels != IGNORE_INDEX, labels, batch["input_ids"])
    assert original[0, :length].tolist() == [CLS_ID, *examples[0][0], SEP_ID]
    with pytest.raises(ValueError, match="max_len"):
        make_document_examples(documents, max_len=2)
    with pytest.raises(ValueError, match="no tokens"):
        make_document_examples([[[]], []], max_len=8)


def test_nsp_rejects_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        make_nsp_examples([[[5, 6, 7]]], max_len=16)
    with pytest.raises(ValueError, match="max_len"):
        make_nsp_examples(_documents(3), max_len=4)
    with pytest.raises(ValueError, match="more than max_len"):
        bert_batch([([5] * 10, [6] * 10, IS_NEXT)], max_len=8, vocab_size=VOCAB)


def test_causal_batches_are_shifted_windows():
    stream = torch.arange(5, 200)
    x, y = causal_lm_batch(stream, block_size=16, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 16)
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)
    with pytest.raises(ValueError, match="stream has"):
        causal_lm_batch(stream[:10], block_size=16, batch_size=2)


def test_token_stream_joins_documents_with_sep():
    tok = WordPieceTokenizer.train(["to be or not to be"], 40)
    stream = token_stream(tok, ["to be", "not"])
    assert stream.tolist() == tok.encode("to be") + [SEP_ID] + tok.encode("not") + [SEP_ID]
