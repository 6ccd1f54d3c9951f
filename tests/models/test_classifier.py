"""The sequence classifier: [CLS] and mean pooling, padding handling, bad arguments."""

import pytest
import torch

from minitransformer.data.text.tokenizer import PAD_ID
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.classifier import SequenceClassifier


def _encoder():
    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=40, max_len=16, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                                backend="eager"))


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_logits_ignore_padding(pooling):
    model = SequenceClassifier(_encoder(), 3, pooling=pooling).eval()
    ids = torch.randint(5, 40, (2, 6))
    padded = torch.cat([ids, torch.full((2, 4), PAD_ID)], 1)
    with torch.no_grad():
        logits = model(ids, ids == PAD_ID)
        torch.testing.assert_close(model(padded, padded == PAD_ID), logits, rtol=1e-4, atol=1e-5)
    assert logits.shape == (2, 3)


def test_mean_pooling_is_the_masked_mean():
    model = SequenceClassifier(_encoder(), 2, pooling="mean").eval()
    ids = torch.tensor([[2, 7, 8, 3, PAD_ID, PAD_ID]])
    pad = ids == PAD_ID
    with torch.no_grad():
        hidden = model.encoder(ids, padding_mask=pad)
        torch.testing.assert_close(model(ids, pad), model.head(hidden[0, :4].mean(0, keepdim=True)))


def test_loss_and_bad_arguments():
    model = SequenceClassifier(_encoder(), 2)
    ids = torch.randint(5, 40, (4, 5))
    loss, _ = model.loss((ids, ids == PAD_ID, torch.tensor([0, 1, 1, 0])))
    assert loss.ndim == 0 and loss.item() > 0
    with pytest.raises(ValueError, match="pooling"):
        SequenceClassifier(_encoder(), 2, pooling="max")
    with pytest.raises(ValueError, match="num_classes"):
        SequenceClassifier(_encoder(), 1)
