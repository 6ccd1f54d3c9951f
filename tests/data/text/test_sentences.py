"""The one sentence splitter: where sentences end, and that no token of either tokenizer is lost or cut."""

from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.text.sentences import split_sentences
from minitransformer.data.text.tokenizer import pre_tokenize
from minitransformer.data.text.words import tokenize


def test_sentences_end_after_terminal_punctuation_and_at_blank_lines():
    text = "Who's there? Nay, answer me.\n\nStand and unfold\nyourself!"
    assert split_sentences(text) == ["Who's there?", "Nay, answer me.", "Stand and unfold\nyourself!"]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    assert split_sentences('He cried "Stop!" and ran. [Exit.] Then (sic.) more') == [
        'He cried "Stop!"', "and ran.", "[Exit.]", "Then (sic.)", "more"]


def test_a_sentence_ends_without_white_space_after_it():
    assert split_sentences("Farewell.--My lord... U.S.") == ["Farewell.", "--My lord...", "U.", "S."]


def test_white_space_alone_is_no_sentence():
    assert split_sentences("") == split_sentences(" \n\n \n") == []
    assert split_sentences("... !? 42") == ["...", "!?", "42"]


@given(st.text(alphabet=st.sampled_from(list("aZé_3'\".!?)]-, \n")), max_size=80))
def test_no_token_is_lost_or_cut(text):
    sentences = split_sentences(text)
    assert [token for sentence in sentences for token in pre_tokenize(sentence)] == pre_tokenize(text)
    assert [word for sentence in sentences for word in tokenize(sentence)] == tokenize(text)
