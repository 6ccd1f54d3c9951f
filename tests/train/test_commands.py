"""The CLI end to end on tiny settings and a small generated corpus (nothing reads the review corpus):
pretrain (BERT and GPT recipes) -> finetune on a labelled file -> predict -> evaluate, and generate."""

import contextlib
import csv
import io
import json
import random
import shutil

import pytest
import torch

from minitransformer.cli import main
from minitransformer.recipes import shipped
from minitransformer.train.checkpoint import load_pretrained
from minitransformer.train.finetune import load_classifier

TINY = ["--d-model", "16", "--layers", "1", "--heads", "2", "--d-ff", "32", "--max-len", "24", "--vocab-size", "80",
        "--steps", "3", "--batch-size", "4", "--backend", "eager", "--eval-every", "3", "--checkpoint-every", "0",
        "--keep-steps"]
FINETUNE_TINY = ["--max-steps", "3", "--batch-size", "8", "--labels", "all"]
POSITIVE, NEGATIVE = ["good", "great", "moving", "fine"], ["bad", "dull", "awful", "boring"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for index, words in enumerate([POSITIVE, NEGATIVE, POSITIVE + NEGATIVE]):
        paths.append(folder / f"document{index}.txt")
        paths[-1].write_text(" ".join(f"The film was {w}. I thought the plot was {w} and the cast {w}!"
                                      for w in words * 6), encoding="utf-8")
    return [str(path) for path in paths]


@pytest.fixture(scope="module")
def reviews_csv(tmp_path_factory):
    """60 short reviews, labels "negative" / "positive"."""
    path = tmp_path_factory.mktemp("labelled") / "reviews.csv"
    rng = random.Random(0)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "text"])
        for row in range(60):
            label, words = ("positive", POSITIVE) if row % 2 else ("negative", NEGATIVE)
            writer.writerow([label, f"the film was {rng.choice(words)}, the cast {rng.choice(POSITIVE + NEGATIVE)}"])
    return path


@pytest.fixture(scope="module")
def bert_run(tmp_path_factory, corpus):
    """``(folder, printed output)`` of a tiny reviews-bert pre-training on the corpus files."""
    out = tmp_path_factory.mktemp("bert")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["pretrain", "--out", str(out), "--files", *corpus, *TINY]) == 0
    return out, printed.getvalue()


def test_pretrain_runs_the_recipe_with_the_overrides(bert_run):
    out, printed = bert_run
    record = json.loads((out / "run.json").read_text())
    assert record["recipe"]["model"] == "bert" and record["recipe"]["d_model"] == 16
    assert record["recipe"]["n_layers"] == 1 and record["recipe"]["keep_steps"] == []
    assert record["recipe"]["lr"] == 2e-3  # not given: the recipe's
    assert record["corpus_documents"] == 3 and record["tokens_seen"] == 3 * 4 * 24
    assert printed.startswith("reviews-bert (bert): 3 steps, 288 tokens seen")
    assert "held-out loss" in printed and "mlm_accuracy" in printed
    assert (out / "checkpoint.safetensors").is_file() and (out / "tokenizer.json").is_file()


def test_finetune_on_a_file_then_predict_and_evaluate(bert_run, reviews_csv, tmp_path, capsys, monkeypatch):
    data = tmp_path / "reviews.csv"
    shutil.copy(reviews_csv, data)
    out = tmp_path / "cls"
    assert main(["finetune", "--init", str(bert_run[0] / "checkpoint.safetensors"), "--train-file", str(data),
                 *FINETUNE_TINY, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_labels"] == 42 and metrics["steps"] == 3 and metrics["max_len"] == 24
    assert sum(map(sum, metrics["test_report"]["confusion_matrix"])) == 12
    split = json.loads((out / "split.json").read_text())
    assert sorted(split["train"] + split["validation"] + split["test"]) == list(range(60))
    classifier, _, state = load_classifier(out / "checkpoint.safetensors")
    assert state["class_names"] == ["negative", "positive"] and state["train_file"] == str(data)
    assert state["test_file"] is None and state["split_seed"] == 0
    assert f"accuracy {metrics['test_report']['accuracy']:.4f}" in capsys.readouterr().out

    checkpoint = ["--checkpoint", str(out / "checkpoint.safetensors")]
    assert main(["predict", *checkpoint, "a good film", "dull"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2] for line in lines] == ["a good film", "dull"]
    for line in lines:
        label, probability, _ = line.split("\t")
        assert label in state["class_names"] and len(probability) == 5 and 0.5 <= float(probability) <= 1.0
    texts = tmp_path / "texts.txt"
    texts.write_text("a good film\n\ndull\n", encoding="utf-8")
    assert main(["predict", *checkpoint, "--file", str(texts)]) == 0
    assert capsys.readouterr().out.splitlines() == lines  # the blank line is skipped
    monkeypatch.setattr("sys.stdin", io.StringIO("a good film\ndull\n"))
    assert main(["predict", *checkpoint, "--json", "-"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["a good film", "dull"]
    assert all(abs(sum(r["probabilities"].values()) - 1.0) < 1e-6 for r in records)
    assert [f"{r['label']}\t{r['probability']:.3f}" for r in records] == [line.rsplit("\t", 1)[0] for line in lines]

    assert main(["evaluate", *checkpoint]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("reviews: 12 test examples")
    assert f"accuracy {metrics['test_report']['accuracy']:.4f}" in printed
    assert main(["evaluate", *checkpoint, "--text", "a good film"]) == 0
    assert capsys.readouterr().out.strip().endswith("a good film")
    with data.open("a", encoding="utf-8") as handle:
        handle.write("positive,one more\n")
    assert main(["evaluate", *checkpoint]) == 2
    assert "has changed since the classifier was fine-tuned" in capsys.readouterr().err


def test_finetune_with_a_test_file(bert_run, tmp_path, capsys):
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train.write_text("".join(json.dumps({"body": f"the film was {w}", "team": int(w in POSITIVE)}) + "\n"
                             for w in (POSITIVE + NEGATIVE) * 5), encoding="utf-8")
    test.write_text("".join(json.dumps({"body": f"a {w} cast", "team": int(w in POSITIVE)}) + "\n"
                            for w in POSITIVE + NEGATIVE), encoding="utf-8")
    columns = ["--text-column", "body", "--label-column", "team"]
    init = ["--init", str(bert_run[0] / "checkpoint.safetensors")]
    out = tmp_path / "cls"
    assert main(["finetune", *init, "--train-file", str(train), "--test-file", str(test), *columns, *FINETUNE_TINY,
                 "--freezing", "head", "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["recipe"]["freezing"] == "head"
    classifier, _, _ = load_classifier(out / "checkpoint.safetensors")
    pretrained = load_pretrained(init[1], "bert")[0].bert.state_dict()
    assert all(torch.equal(value, pretrained[name]) for name, value in classifier.encoder.state_dict().items())
    split = json.loads((out / "split.json").read_text())
    assert len(split["validation"]) == 4 and len(split["train"]) == 36 and split["test"] == list(range(8))
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.safetensors")]) == 0
    assert "test: 8 test examples" in capsys.readouterr().out
    with test.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"body": "meh", "team": 2}) + "\n")
    assert main(["finetune", *init, "--train-file", str(train), "--test-file", str(test), *columns,
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("minitransformer: error: ") and str(test) in error and "line 9" in error


def test_finetune_on_a_task_and_evaluate(bert_run, tmp_path, capsys):
    out = tmp_path / "trec"
    assert main(["finetune", "--init", str(bert_run[0] / "checkpoint.safetensors"), "--task", "trec_questions",
                 "--labels", "12", "--max-steps", "3", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "trec_questions" and metrics["n_labels"] == 12 and metrics["max_len"] == 24
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.safetensors")]) == 0
    assert f"accuracy {metrics['test_report']['accuracy']:.4f}" in capsys.readouterr().out


def test_finetune_from_the_shipped_model_or_from_scratch(bert_run, reviews_csv, tmp_path, capsys, monkeypatch):
    data = ["--train-file", str(reviews_csv), *FINETUNE_TINY]
    monkeypatch.setattr(shipped, "SHIPPED_BERT", tmp_path / "absent.safetensors")
    assert main(["finetune", *data, "--out", str(tmp_path / "a")]) == 2
    assert "the shipped pre-trained BERT is missing" in capsys.readouterr().err
    assert main(["finetune", "--init", "scratch", *data, "--out", str(tmp_path / "a")]) == 2
    assert "--init scratch takes its tokenizer from the shipped model" in capsys.readouterr().err

    monkeypatch.setattr(shipped, "SHIPPED_BERT", bert_run[0] / "checkpoint.safetensors")
    assert main(["finetune", *data, "--out", str(tmp_path / "shipped")]) == 0
    assert json.loads((tmp_path / "shipped" / "metrics.json").read_text())["init"] == str(shipped.SHIPPED_BERT)
    assert main(["finetune", "--init", "scratch", *data, "--out", str(tmp_path / "scratch")]) == 0
    _, tokenizer, state = load_classifier(tmp_path / "scratch" / "checkpoint.safetensors")
    assert state["init"] == "scratch" and state["model_config"]["d_model"] == 128  # reviews-bert's architecture
    assert len(tokenizer) == state["model_config"]["vocab_size"] <= 80  # the shipped model's tokenizer


def test_pretrain_gpt_resume_and_generate(tmp_path, corpus, reviews_csv, capsys):
    args = ["pretrain", "--recipe", "reviews-gpt", "--out", str(tmp_path / "gpt"), "--files", *corpus, *TINY,
            "--steps", "4", "--eval-every", "2", "--checkpoint-every", "2"]
    assert main(["pretrain", "--resume", "--out", str(tmp_path / "gpt"), "--files", *corpus]) == 2
    assert "--resume: there is no" in capsys.readouterr().err
    assert main(args) == 0
    assert main([*args, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "reviews-gpt (gpt): 4 steps" in printed and "perplexity" in printed
    record = json.loads((tmp_path / "gpt" / "run.json").read_text())
    assert record["recipe"]["model"] == "gpt" and len(record["history"]) == 4
    checkpoint = str(tmp_path / "gpt" / "checkpoint.safetensors")
    assert main(["generate", "--checkpoint", checkpoint, "--prompt", "the film", "--tokens", "5"]) == 0
    assert capsys.readouterr().out.startswith("the film")
    assert main(["finetune", "--init", checkpoint, "--train-file", str(reviews_csv), "--out",
                 str(tmp_path / "cls")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("minitransformer: error: finetune takes a BERT checkpoint")
