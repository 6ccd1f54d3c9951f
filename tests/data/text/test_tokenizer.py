"""WordPiece tokenizer: training, round trip, greedy longest match, JSON save/load, bad input."""

import json

import pytest
from hypothesis import given, strategies as st

from minitransformer.data.text.tokenizer import (CONTINUATION, SPECIAL_TOKENS, UNK_ID, WordPieceTokenizer,
                                                 pre_tokenize)

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
CORPUS = ["The play's the thing, wherein I'll catch the conscience of the king.",
          "To be, or not to be: that is the question!", "A thing of beauty is a joy for ever?",
          " ".join(CHARS) + " " + CHARS + CHARS]  # every character starts a word and continues one


@pytest.fixture(scope="module")
def tokenizer():
    return WordPieceTokenizer.train(CORPUS, vocab_size=160)


def test_vocabulary_starts_with_special_tokens_and_has_the_requested_size(tokenizer):
    assert tuple(tokenizer.vocab[:5]) == SPECIAL_TOKENS
    assert len(tokenizer) == 160
    assert len(set(tokenizer.vocab)) == len(tokenizer.vocab)


def test_frequent_words_become_single_tokens(tokenizer):
    assert tokenizer.tokenize("the thing") == ["the", "thing"]


def test_greedy_longest_match_with_continuation_pieces():
    tok = WordPieceTokenizer(list(SPECIAL_TOKENS) + ["u", "un", "##a", "##aff", "##able", "##f", "##b", "##l", "##e"])
    assert tok.tokenize("unaffable") == ["un", "##aff", "##able"]
    assert tok.tokenize("unzip") == ["[UNK]"]  # "z" cannot be spelt: the whole word is unknown


@given(st.lists(st.sampled_from(list(CHARS + " .,!?'")), max_size=60).map("".join))
def test_decode_inverts_encode_on_known_characters(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == " ".join(pre_tokenize(text))


@given(st.text(max_size=40))
def test_encode_gives_valid_ids_for_any_text(tokenizer, text):
    ids = tokenizer.encode(text)
    assert all(0 <= i < len(tokenizer) for i in ids)
    assert all(i == UNK_ID or i >= len(SPECIAL_TOKENS) for i in ids)


def test_unknown_characters_map_to_unk(tokenizer):
    assert tokenizer.encode("ж") == [UNK_ID]


def test_continuation_pieces_are_marked(tokenizer):
    assert any(token.startswith(CONTINUATION) for token in tokenizer.vocab)


def test_save_and_load_round_trip(tokenizer, tmp_path):
    path = tmp_path / "tok.json"
    tokenizer.save(path)
    loaded = WordPieceTokenizer.load(path)
    assert loaded.vocab == tokenizer.vocab
    assert loaded.encode(CORPUS[0]) == tokenizer.encode(CORPUS[0])


def test_training_is_deterministic():
    assert WordPieceTokenizer.train(CORPUS, 90).vocab == WordPieceTokenizer.train(CORPUS, 90).vocab


def test_train_from_files(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS), encoding="utf-8")
    from_file = WordPieceTokenizer.train_from_files([path], 100)
    assert from_file.vocab == WordPieceTokenizer.train(["\n".join(CORPUS)], 100).vocab


@pytest.mark.parametrize("texts", [[], [""], ["   \n "]])
def test_empty_corpus_is_rejected(texts):
    with pytest.raises(ValueError, match="texts is empty"):
        WordPieceTokenizer.train(texts, 100)


def test_bad_arguments_are_rejected(tmp_path, tokenizer):
    with pytest.raises(ValueError, match="vocab_size"):
        WordPieceTokenizer.train(CORPUS, 3)
    with pytest.raises(ValueError, match="corpus file not found"):
        WordPieceTokenizer.train_from_files([tmp_path / "missing.txt"])
    with pytest.raises(ValueError, match="tokenizer file not found"):
        WordPieceTokenizer.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="malformed"):
        WordPieceTokenizer.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"vocab": ["a"]}))
    with pytest.raises(ValueError, match="not a minitransformer-wordpiece"):
        WordPieceTokenizer.load(tmp_path / "other.json")
    with pytest.raises(ValueError, match="special tokens"):
        WordPieceTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        WordPieceTokenizer(list(SPECIAL_TOKENS) + ["a", "a"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([len(tokenizer)])
    with pytest.raises(ValueError, match="text must be a str"):
        tokenizer.encode(None)
