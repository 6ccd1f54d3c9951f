"""Test data is sacred: no test text of any task reaches the pre-training corpus (which is also the
tokenizer's training text), compared after normalisation, so re-tokenised copies count as the same text."""

from minitransformer.data.labelled.splits import normalise_text, without_texts
from minitransformer.recipes.corpus import TASKS, corpus_sha256, review_corpus, task_data, texts_of_test_splits


def test_no_test_text_is_in_the_pretraining_corpus():
    corpus = {normalise_text(text) for text in review_corpus()}
    for task in TASKS:
        dataset, split = task_data(task)
        leaked = [i for i in split.test if normalise_text(dataset.texts[i]) in corpus]
        assert leaked == [], f"{task}: {len(leaked)} test texts in the pre-training corpus"


def test_the_corpus_keeps_the_unlabelled_training_reviews():
    corpus = set(review_corpus())
    reviews, split = task_data("imdb")
    dropped = [reviews.texts[i] for i in split.train + split.validation if reviews.texts[i] not in corpus]
    tests = {normalise_text(text) for text in texts_of_test_splits()}
    assert len(dropped) < 5 and all(normalise_text(text) in tests for text in dropped)  # near-copies of test reviews
    assert len(corpus) > 40_000


def test_the_guard_catches_a_retokenised_copy():
    tests = texts_of_test_splits(["movie_reviews"])
    retokenised = " ".join(tests[0].lower().replace(",", " , ").split())
    assert without_texts([retokenised, "an unrelated review"], tests) == ["an unrelated review"]


def test_splits_are_fixed_and_the_corpus_fingerprint_is_stable():
    for task in TASKS:
        assert task_data(task)[1] == task_data(task)[1]
    assert corpus_sha256(["a", "b"]) != corpus_sha256(["ab"]) and len(corpus_sha256(["a"])) == 64
