"""Classification batches: [CLS] text [SEP], padded and cut to max_len."""

import pytest
import torch

from minitransformer.data.labelled.batches import encode_texts
from minitransformer.data.text.tokenizer import CLS_ID, PAD_ID, SEP_ID, WordPieceTokenizer


def test_encode_texts_pads_and_truncates():
    tok = WordPieceTokenizer.train(["a b c d e f"], 20)
    ids, pad = encode_texts(tok, ["a b c d e f", "a"], max_len=5)
    assert ids.shape == (2, 5)
    assert ids[0].tolist() == [CLS_ID, *tok.encode("a b c"), SEP_ID]
    assert ids[1].tolist() == [CLS_ID, *tok.encode("a"), SEP_ID, PAD_ID, PAD_ID]
    assert torch.equal(pad, ids == PAD_ID)
    with pytest.raises(ValueError, match="max_len"):
        encode_texts(tok, ["a"], max_len=2)
