"""Fine-tuning: the freezing choices and learning rates, epoch batches, and learning a toy task."""

import pytest
import torch

from minitransformer.data.labelled.batches import encode_texts
from minitransformer.data.text.padding import map_trimmed_batches, trim_padding
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.classifier import SequenceClassifier
from minitransformer.train.finetune import epoch_batches, evaluate_classifier, finetune, finetune_param_groups
from minitransformer.train.loop import TrainConfig


def _classifier(n_layers=2, vocab=60, seed=0):
    torch.manual_seed(seed)
    encoder = BertModel(BertConfig(vocab_size=vocab, max_len=16, d_model=16, n_layers=n_layers, n_heads=2, d_ff=32,
                                   dropout=0.0, backend="eager"))
    return SequenceClassifier(encoder, 2, dropout=0.0)


def _trainable(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_freezing_choices():
    model = _classifier()
    groups = finetune_param_groups(model, lr=1e-3, freezing="head")
    assert _trainable(model) == {"head.weight", "head.bias"} and len(groups) == 1
    groups = finetune_param_groups(model, lr=1e-3, freezing="top", top_layers=1, backbone_lr_scale=0.1)
    trainable = _trainable(model)
    assert any(n.startswith("encoder.layers.1.") for n in trainable)
    assert not any(n.startswith("encoder.layers.0.") or "embeddings" in n for n in trainable)
    assert "encoder.pooler.weight" in trainable and groups[1]["lr"] == pytest.approx(1e-4)
    finetune_param_groups(model, lr=1e-3, freezing="all")
    assert _trainable(model) == {name for name, _ in model.named_parameters()}


def test_frozen_parameters_do_not_move():
    model = _classifier()
    ids = torch.randint(5, 60, (8, 6))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    finetune(model, ids, ids == 0, torch.randint(0, 2, (8,)), TrainConfig(steps=3, warmup_steps=0, eval_every=0,
             checkpoint_every=0), batch_size=4, freezing="head", progress=False)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) == name.startswith("encoder."), name


def test_bad_arguments():
    model = _classifier()
    with pytest.raises(ValueError, match="freezing"):
        finetune_param_groups(model, 1e-3, freezing="bottom")
    with pytest.raises(ValueError, match="top_layers"):
        finetune_param_groups(model, 1e-3, freezing="top", top_layers=3)
    with pytest.raises(ValueError, match="backbone_lr_scale"):
        finetune_param_groups(model, 1e-3, backbone_lr_scale=0.0)
    with pytest.raises(ValueError, match="same length"):
        finetune(model, torch.ones(4, 3, dtype=torch.long), torch.zeros(4, 3, dtype=torch.bool), [0, 1],
                 TrainConfig(steps=1))


def test_epoch_batches_visit_every_example_once_per_epoch():
    indices = epoch_batches(10, 3, seed=1)
    first_epoch = torch.cat([indices(s) for s in range(3)]).tolist()
    assert len(set(first_epoch)) == 9
    assert indices(0).tolist() == epoch_batches(10, 3, seed=1)(0).tolist()
    assert indices(3).tolist() != indices(0).tolist()


def test_trim_padding_drops_all_padding_columns():
    ids = torch.tensor([[2, 5, 3, 0, 0], [2, 3, 0, 0, 0]])
    short, pad, hidden = trim_padding(ids == 0, ids, ids == 0, torch.ones(2, 5, 4))
    assert short.tolist() == [[2, 5, 3], [2, 3, 0]] and pad.tolist() == [[False] * 3, [False, False, True]]
    assert hidden.shape == (2, 3, 4)
    assert trim_padding(torch.ones(2, 5, dtype=torch.bool), ids)[0].shape == (2, 1)  # all padding: keep one column


def test_map_trimmed_batches_applies_fn_to_each_trimmed_batch_in_order():
    ids = torch.tensor([[2, 5, 3, 0, 0], [2, 3, 0, 0, 0], [4, 0, 0, 0, 0], [2, 6, 7, 8, 9], [5, 0, 0, 0, 0]])
    widths = []

    def row_sums(batch_ids, pad):
        widths.append(batch_ids.shape[1])
        return (batch_ids * ~pad).sum(1)
    assert map_trimmed_batches(row_sums, ids, ids == 0, batch_size=2).tolist() == [10, 5, 4, 32, 5]
    assert widths == [3, 5, 1]


def test_learns_a_toy_sentiment_task():
    words = ["good", "great", "fine", "bad", "awful", "poor", "the", "a", "film", "plot", "was", "is"]
    g = torch.Generator().manual_seed(0)
    texts, labels = [], []
    for _ in range(160):
        label = int(torch.randint(0, 2, (1,), generator=g))
        filler = [words[6 + int(i)] for i in torch.randint(0, 6, (4,), generator=g)]
        cue = words[3 * (1 - label) + int(torch.randint(0, 3, (1,), generator=g))]  # good/great/fine or bad/awful/poor
        filler.insert(int(torch.randint(0, 5, (1,), generator=g)), cue)
        texts.append(" ".join(filler))
        labels.append(label)
    tokenizer = WordPieceTokenizer.train(texts, 40)
    ids, pad = encode_texts(tokenizer, texts, 12)
    model = _classifier(n_layers=1, vocab=len(tokenizer))
    finetune(model, ids[:120], pad[:120], labels[:120], TrainConfig(steps=60, lr=3e-3, warmup_steps=5, eval_every=0,
             checkpoint_every=0), batch_size=16, backbone_lr_scale=1.0, progress=False)
    report = evaluate_classifier(model, ids[120:], pad[120:], labels[120:], 2)
    assert report["accuracy"] >= 0.9
