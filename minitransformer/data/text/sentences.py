"""Sentences of a text: the one splitter behind word2vec's sentences of words (``words.py``) and the
documents of sentences that NSP pairs are cut from (``data/pretraining/documents.py``).

A sentence ends after a run of ``.``, ``!`` or ``?``, together with the closing quotes and brackets
right after it (``"Stop!"``, ``(sic.)``), and at a blank line. Sentences keep their punctuation and lose
the white space around them; a piece that is only white space is no sentence.

The run ends a sentence whether or not white space follows it: Shakespeare's texts run sentences
together with dashes and stage brackets (``Farewell.--My lord``, ``[Exit.]``), and the word2vec results
of docs/word2vec.md were measured on sentences cut this way. An abbreviation or a decimal point
(``U.S.``, ``3.5``) therefore ends a sentence too, which neither user minds: for word2vec a sentence end
only stops a context window, and for NSP it is a place where segment A may end and B begin, B still
being the text that follows.

A cut always falls after punctuation, a closing quote or bracket, or white space, never inside a word,
so both tokenisers see every token of the text, in order, in its sentences: ``words.py`` drops the
punctuation, the WordPiece tokenizer keeps each mark as a token.
"""

import re

_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*|\n\s*\n")


def split_sentences(text):
    """The sentences of ``text`` (strings, stripped, punctuation kept), in order; empty ones left out."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        sentences.append(text[start:end.end()].strip())
        start = end.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]
