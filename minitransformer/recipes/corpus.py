"""The data of the headline experiment: three labelled tasks with fixed, seeded splits, and the
unlabelled review text that the tokenizer and pre-training read, with every test text removed.

Tasks (data/labelled/sets.py):

    imdb            IMDB reviews (Maas et al. 2011), sentiment, ~230 words each — the headline task
    movie_reviews   VADER movie-review snippets (Hutto & Gilbert 2014), sentiment, one sentence each
    trec_questions  TREC question types (Li & Roth 2002), 6 classes — a task that is not sentiment

Pre-training text: the IMDB reviews of the training and validation parts, Pang & Lee's sentences,
the VADER snippets and the Rotten Tomatoes snippets and plot summaries — each distinct text once, and
none whose normalised form (data/labelled/splits.py) is the text of a test example of any task. The snippet
corpora overlap one another, so a VADER test snippet is also removed from the Rotten Tomatoes sets.
"""

import hashlib
from dataclasses import dataclass

from minitransformer.data.labelled.sets import (load_dataset, movie_reviews, rotten_tomatoes, rotten_tomatoes_plots,
                                                sentence_polarity)
from minitransformer.data.labelled.splits import three_way_split, without_texts

SPLIT_SEED = 0


@dataclass(frozen=True)
class Task:
    """A labelled set of the experiment, its split fractions and the sequence length it is read at."""
    name: str
    max_len: int
    validation_fraction: float = 0.1
    test_fraction: float = 0.2


TASKS = {"imdb": Task("imdb", max_len=256, validation_fraction=0.04, test_fraction=0.1),
         "movie_reviews": Task("movie_reviews", max_len=64),
         "trec_questions": Task("trec_questions", max_len=64)}


def task_data(name):
    """``(LabelledTexts, Split)`` of a task of ``TASKS``, split with ``SPLIT_SEED``."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    task, dataset = TASKS[name], load_dataset(name)
    return dataset, three_way_split(dataset, task.validation_fraction, task.test_fraction, seed=SPLIT_SEED)


def task_parts(name):
    """``{"train" | "validation" | "test": (texts, labels)}`` of a task of ``TASKS``."""
    dataset, split = task_data(name)
    return {part: ([dataset.texts[i] for i in getattr(split, part)], [dataset.labels[i] for i in getattr(split, part)])
            for part in ("train", "validation", "test")}


def texts_of_test_splits(tasks=tuple(TASKS)):
    """Every test text of the given tasks."""
    texts = []
    for name in tasks:
        dataset, split = task_data(name)
        texts += [dataset.texts[i] for i in split.test]
    return texts


def review_corpus():
    """The unlabelled pre-training documents (strings), test texts of every task removed."""
    reviews, split = task_data("imdb")
    texts = [reviews.texts[i] for i in split.train + split.validation]
    texts += sentence_polarity().texts + movie_reviews().texts + rotten_tomatoes().texts + rotten_tomatoes_plots()
    return without_texts(list(dict.fromkeys(texts)), texts_of_test_splits())


def corpus_sha256(texts):
    """A fingerprint of a corpus: SHA-256 of its documents joined by newlines, in order."""
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
