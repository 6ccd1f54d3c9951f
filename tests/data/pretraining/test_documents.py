"""Documents for NSP: one per text, each a list of its sentences as token ids."""

from minitransformer.data.pretraining.documents import encode_documents
from minitransformer.data.text.tokenizer import WordPieceTokenizer


def test_documents_are_sentences_of_token_ids():
    text = "The king rules. The queen sings!"
    tokenizer = WordPieceTokenizer.train([text], 60)
    documents = encode_documents(tokenizer, [text, "...", " \n\n "])
    assert documents == [[tokenizer.encode("The king rules."), tokenizer.encode("The queen sings!")],
                         [tokenizer.encode("...")], []]
