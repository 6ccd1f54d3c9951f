"""The two word-vector test sets that ship inside the gensim package (``gensim/test/test_data``).

* ``questions-words.txt`` (Mikolov et al. 2013, "Efficient Estimation of Word Representations"):
  19,544 analogy questions "a b c d" (a is to b as c is to d) in 14 sections, 5 semantic
  (capitals, currency, city-in-state, family) and 9 syntactic (``gram1`` .. ``gram9``).
* ``wordsim353.tsv`` (Finkelstein et al. 2002, "Placing Search in Context"): 353 word pairs with the
  mean of human similarity ratings on a 0..10 scale; lines starting with ``#`` are comments.

Both are lower-cased on reading, as our tokeniser lower-cases the corpus (gensim's evaluations compare
case-insensitively too).
"""

import importlib.util
from pathlib import Path

ANALOGY_FILE = "questions-words.txt"
WORDSIM_FILE = "wordsim353.tsv"


def gensim_test_file(name):
    """Path of a file in gensim's test data; RuntimeError if gensim (or the file) is missing."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} ships with gensim, which is not installed: pip install gensim")
    path = Path(spec.submodule_search_locations[0]) / "test" / "test_data" / name
    if not path.is_file():
        raise RuntimeError(f"{name} not found in the gensim package at {path}")
    return path


def load_analogies(path=None):
    """(section, a, b, c, d) tuples, lower-cased, from a questions-words file (default: gensim's)."""
    path = Path(path) if path is not None else gensim_test_file(ANALOGY_FILE)
    questions, section = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.lower().split()
        if len(words) != 4 or section is None:
            raise ValueError(f"{path}:{number}: expected a ': section' line first and 4 words per question")
        questions.append((section, *words))
    return questions


def load_word_pairs(path=None):
    """(word1, word2, score) tuples, lower-cased, from a tab-separated file (default: WordSim-353)."""
    path = Path(path) if path is not None else gensim_test_file(WORDSIM_FILE)
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path}:{number}: expected 'word1<TAB>word2<TAB>score'")
        pairs.append((fields[0].lower(), fields[1].lower(), float(fields[2])))
    return pairs
