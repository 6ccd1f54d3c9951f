"""Fixed, seeded splits of a labelled set: train / validation / test (``three_way_split``), or one part
held out (``held_out_split``: the validation part of a file that comes with its own test file); and the
guard that keeps test texts out of everything that is learnt before fine-tuning.

The rules of the experiment (docs/pretraining.md):

* a split is a pure function of (number of examples, fractions, seed), saved as JSON with the results;
* test texts never reach the tokenizer, pre-training, word2vec or any choice: pre-training text is
  filtered with ``without_texts`` against the test texts of every labelled set in the experiment;
* texts are compared after ``normalise_text``, which ignores case, spacing and punctuation, because the
  same review snippet is shipped by several corpora, tokenised differently
  ("it's a film" vs "it 's a film .").
"""

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def normalise_text(text):
    """``text`` lower-cased with everything but letters and digits removed: the key two corpora agree on."""
    return _NOT_ALPHANUMERIC.sub("", text.lower())


@dataclass
class Split:
    """Indices into a labelled set: ``train`` (the pool label budgets are drawn from), ``validation``
    (every choice), ``test`` (read once per final arm)."""
    dataset: str
    seed: int
    n_examples: int
    train: list
    validation: list
    test: list

    def save(self, path):
        Path(path).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path):
        return cls(**json.loads(Path(path).read_text()))


def three_way_split(dataset, validation_fraction=0.1, test_fraction=0.2, seed=0, max_test=None):
    """A ``Split`` of ``dataset`` (``LabelledTexts``): a seeded permutation; its first part is test (at
    most ``max_test`` examples), the next validation, the rest train."""
    n = len(dataset)
    if not (0.0 < validation_fraction < 1.0 and 0.0 < test_fraction < 1.0
            and validation_fraction + test_fraction < 1.0):
        raise ValueError(f"validation_fraction and test_fraction must be in (0, 1) with a sum below 1, "
                         f"got {validation_fraction} and {test_fraction}")
    n_test = int(round(n * test_fraction))
    if max_test is not None:
        n_test = min(n_test, max_test)
    n_validation = int(round(n * validation_fraction))
    if min(n_test, n_validation, n - n_test - n_validation) < 1:
        raise ValueError(f"{dataset.name} has {n} examples: too few for a {validation_fraction} validation and "
                         f"{test_fraction} test split")
    order = np.random.default_rng(seed).permutation(n)
    test, validation, train = np.split(order, [n_test, n_test + n_validation])
    return Split(dataset.name, seed, n, sorted(train.tolist()), sorted(validation.tolist()), sorted(test.tolist()))


def held_out_split(n_examples, test_fraction=0.2, seed=0):
    """``(train_indices, test_indices)``: a seeded permutation, its first ``test_fraction`` held out."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n_test = int(round(n_examples * test_fraction))
    if n_test == 0 or n_test == n_examples:
        raise ValueError(f"n_examples={n_examples} is too small to hold out test_fraction={test_fraction}")
    order = np.random.default_rng(seed).permutation(n_examples)
    return sorted(order[n_test:].tolist()), sorted(order[:n_test].tolist())


def without_texts(texts, forbidden):
    """``texts`` without those whose normalised form is one of the normalised ``forbidden`` texts."""
    keys = {normalise_text(text) for text in forbidden}
    return [text for text in texts if normalise_text(text) not in keys]
