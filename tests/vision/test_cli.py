"""`minitransformer vision pretrain | finetune` end to end on a fake Fashion-MNIST folder, and the
messages for a missing data set or checkpoint."""

from minitransformer.cli import main
from minitransformer.data.images import sets as image_data


def test_pretrain_then_finetune(fake_fashion_dir, tmp_path, capsys):
    pre = tmp_path / "pre"
    assert main(["vision", "pretrain", "--classes", "0", "1", "2", "3", "4", "--train-size", "0", "--epochs", "1",
                 "--batch", "10", "--channels", "2", "4", "--out", str(pre)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    for name in ("checkpoint.safetensors", "loss_curve.png", "filters.png"):
        assert (pre / name).is_file()
    assert main(["vision", "finetune", "--checkpoint", str(pre / "checkpoint.safetensors"), "--classes", "5", "6",
                 "--labels", "4", "--steps", "2", "--freezing", "all", "--out", str(tmp_path / "fine")]) == 0
    out = capsys.readouterr().out
    assert "freezing all, 4 labelled images" in out and (tmp_path / "fine" / "checkpoint.safetensors").is_file()
    assert main(["vision", "finetune", "--checkpoint", str(pre / "checkpoint.safetensors"), "--classes", "5", "6",
                 "--labels", "4", "--steps", "2", "--scratch", "--out", str(tmp_path / "scratch")]) == 0
    assert "from scratch, 4 labelled images" in capsys.readouterr().out


def test_missing_data_set_prints_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(image_data.FASHION_MNIST_DIR_ENV, str(tmp_path / "absent"))
    assert main(["vision", "pretrain", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Fashion-MNIST is not installed" in err and "apt-get install dataset-fashion-mnist" in err
    assert "Traceback" not in err


def test_missing_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["vision", "finetune", "--checkpoint", str(tmp_path / "none.safetensors")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_impossible_label_budget_is_a_clear_error(fake_fashion_dir, tmp_path, capsys):
    pre = tmp_path / "pre"
    assert main(["vision", "pretrain", "--train-size", "0", "--epochs", "1", "--batch", "20", "--channels", "2",
                 "2", "--out", str(pre)]) == 0
    assert main(["vision", "finetune", "--checkpoint", str(pre / "checkpoint.safetensors"), "--labels", "7",
                 "--out", str(tmp_path / "fine")]) == 2
    assert "budget must be a positive multiple of the 10 classes" in capsys.readouterr().err
