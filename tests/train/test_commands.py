"""The CLI end to end on tiny settings: pretrain (BERT and GPT) -> finetune -> evaluate, and generate."""

import json

import pytest

from minitransformer.cli import main

TINY = ["--d-model", "16", "--layers", "1", "--heads", "2", "--d-ff", "32", "--max-len", "24", "--backend", "reference"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text(" ".join(f"The film was {w}. I thought the plot was {w} and the cast {w}!" for w in
                             ["good", "bad", "great", "dull", "fine", "awful"] * 8), encoding="utf-8")
    return path


def test_pretrain_finetune_evaluate(tmp_path, corpus, capsys):
    common = ["--sources", "--files", str(corpus), str(corpus), "--vocab-size", "80", "--batch-size", "4",
              "--warmup", "1", "--eval-every", "3", "--checkpoint-every", "0"]
    assert main(["pretrain", "--out", str(tmp_path / "bert"), "--steps", "3", *common, *TINY]) == 0
    assert main(["finetune", "--init", str(tmp_path / "bert" / "checkpoint.safetensors"), "--dataset", "sms_spam",
                 "--labels", "20",
                 "--steps", "3", "--eval-every", "0", "--out", str(tmp_path / "cls")]) == 0
    metrics = json.loads((tmp_path / "cls" / "metrics.json").read_text())
    assert len(metrics["confusion_matrix"]) == 2 and sum(map(sum, metrics["confusion_matrix"])) == 967
    assert main(["evaluate", "--checkpoint", str(tmp_path / "cls" / "checkpoint.safetensors")]) == 0
    assert f"accuracy {metrics['accuracy']:.4f}" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(tmp_path / "cls" / "checkpoint.safetensors"),
                 "--text", "free prize"]) == 0
    with pytest.raises(ValueError, match="does not hold a fine-tuned classifier"):
        main(["evaluate", "--checkpoint", str(tmp_path / "bert" / "checkpoint.safetensors")])
    with pytest.raises(ValueError, match="does not hold a GPT"):
        main(["generate", "--checkpoint", str(tmp_path / "bert" / "checkpoint.safetensors"), "--prompt", "x"])


def test_pretrain_gpt_resume_and_generate(tmp_path, corpus, capsys):
    args = ["pretrain", "--model", "gpt", "--out", str(tmp_path / "gpt"), "--sources", "--files", str(corpus),
            "--vocab-size", "80", "--batch-size", "4", "--warmup", "1", "--eval-every", "2", "--checkpoint-every", "2",
            *TINY]
    assert main([*args, "--steps", "4"]) == 0
    assert main([*args, "--steps", "4", "--resume"]) == 0
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(tmp_path / "gpt" / "checkpoint.safetensors"), "--prompt",
                 "the film", "--tokens", "5"]) == 0
    assert capsys.readouterr().out.startswith("the film")
    with pytest.raises(ValueError, match="checkpoint not found"):
        main(["generate", "--checkpoint", str(tmp_path / "missing.safetensors"), "--prompt", "x"])
