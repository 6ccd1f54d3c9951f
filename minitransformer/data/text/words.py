"""Word tokens, the input of word2vec: lower-cased words, and a corpus as sentences of words.

* ``tokenize(text)``: lower-cased words; an apostrophe inside a word is kept (``o'er``, ``prov'd``),
  one at either end is dropped (``'tis`` -> ``tis``); digits and punctuation are dropped.
* ``corpus_sentences(texts)``: every sentence (``sentences.py``) of every text as its list of words;
  sentences without a word are left out.
"""

import re

from minitransformer.data.text.sentences import split_sentences

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def tokenize(text):
    """Lower-cased words of ``text`` (letters, with inner apostrophes kept)."""
    return _WORD.findall(text.lower())


def corpus_sentences(texts):
    """All sentences of all ``texts``, in order: a list of token lists."""
    sentences = (tokenize(sentence) for text in texts for sentence in split_sentences(text))
    return [sentence for sentence in sentences if sentence]
