"""The command line: every command answers --help, a bad input is one error line and status 2 (--debug: the
traceback), and the demo's kernel check passes."""

import pytest

from minitransformer import cli, ops
from minitransformer.commands import bench, demo


def test_every_command_has_help(capsys):
    parser = cli.build_parser()
    subcommands = parser._subparsers._group_actions[0].choices
    assert {"demo", "bench", "word2vec", "pretrain", "finetune", "evaluate", "generate", "predict",
            "vision"} <= set(subcommands)
    for name in subcommands:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "<command>" in capsys.readouterr().out


@pytest.fixture
def reviews_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "".join(f"review {i},{'good' if i % 2 else 'bad'}\n" for i in range(20)),
                    encoding="utf-8")
    return path


def assert_one_error_line(capsys, *fragments):
    printed = capsys.readouterr().err
    assert printed.count("\n") == 1 and printed.startswith("minitransformer: error: "), printed
    for fragment in fragments:
        assert fragment in printed


def test_bad_inputs_are_one_line_and_status_2(tmp_path, reviews_csv, capsys):
    missing = str(tmp_path / "missing.safetensors")
    assert cli.main(["predict", "--checkpoint", missing, "some text"]) == 2
    assert_one_error_line(capsys, f"checkpoint not found: {missing}")
    assert cli.main(["finetune", "--init", missing, "--train-file", str(reviews_csv), "--out", str(tmp_path)]) == 2
    assert_one_error_line(capsys, f"checkpoint not found: {missing}")
    assert cli.main(["finetune", "--train-file", str(reviews_csv), "--labels", "1", "--out", str(tmp_path)]) == 2
    assert_one_error_line(capsys, "--labels 1 is below the number of classes (2)")
    assert cli.main(["pretrain", "--files", str(tmp_path / "absent.txt"), "--out", str(tmp_path)]) == 2
    assert_one_error_line(capsys, f"file not found: {tmp_path / 'absent.txt'}")
    assert cli.main(["predict", "--checkpoint", missing]) == 2
    assert_one_error_line(capsys, "no text to classify")


def test_argparse_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["finetune", "--task", "wikipedia", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "minitransformer finetune: error: argument --task: invalid choice: 'wikipedia'")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["finetune", "--labels", "0", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "expected a positive number or 'all'" in capsys.readouterr().err


def test_debug_raises_the_error(tmp_path):
    with pytest.raises(ValueError, match="checkpoint not found"):
        cli.main(["--debug", "predict", "--checkpoint", str(tmp_path / "missing.safetensors"), "some text"])


def test_demo_checks_every_implementation_against_numpy():
    errors = demo.check_against_reference()
    assert set(errors) == {"softmax", "attention"}
    for op, by_name in errors.items():
        # the C++ op, the hand-written torch version and every CUDA kernel version (emulated here)
        assert len(by_name) == 2 + len(ops.kernel_versions(op)), (op, by_name)
        for name, (error, tolerance) in by_name.items():
            assert error <= tolerance, (op, name, error)


def test_bench_lists_scripts_and_rejects_unknown_names():
    assert {"softmax", "attention"} <= set(bench.available())
    with pytest.raises(SystemExit, match="no benchmark named 'nope'"):
        bench.run_script("nope", [])


def test_pretrain_defaults_are_the_measured_recipe():
    from minitransformer.commands.pretrain import chosen_recipe
    from minitransformer.recipes.pretraining import DEFAULT_RECIPE, RECIPES
    parser = cli.build_parser()
    assert DEFAULT_RECIPE == "reviews-bert"
    assert chosen_recipe(parser.parse_args(["pretrain", "--out", "x"])) == RECIPES[DEFAULT_RECIPE]
    assert chosen_recipe(parser.parse_args(["pretrain", "--out", "x", "--recipe", "reviews-gpt"])) == RECIPES["reviews-gpt"]
    changed = chosen_recipe(parser.parse_args(["pretrain", "--out", "x", "--steps", "300", "--seed", "1"]))
    assert (changed.steps, changed.seed, changed.keep_steps) == (300, 1, [])
    kept = chosen_recipe(parser.parse_args(["pretrain", "--out", "x", "--steps", "800", "--positions", "learned"]))
    assert (kept.keep_steps, kept.positions) == ([375, 750], "learned")


def test_dtype_option_of_pretrain_and_finetune(capsys):
    """--dtype bfloat16 / float16 runs the training forward under that autocast (train/loop.py); float32 by
    default."""
    from minitransformer.commands.finetune import finetune_recipe
    from minitransformer.commands.pretrain import chosen_recipe
    parser = cli.build_parser()
    assert chosen_recipe(parser.parse_args(["pretrain", "--out", "x"])).train_config().dtype == "float32"
    bf16 = chosen_recipe(parser.parse_args(["pretrain", "--out", "x", "--dtype", "bfloat16"]))
    assert bf16.dtype == bf16.train_config().dtype == "bfloat16"
    assert finetune_recipe(parser.parse_args(["finetune", "--out", "x"])).dtype == "float32"
    assert finetune_recipe(parser.parse_args(["finetune", "--out", "x", "--dtype", "bfloat16"])).dtype == "bfloat16"
    fp16 = chosen_recipe(parser.parse_args(["pretrain", "--out", "x", "--dtype", "float16"]))
    assert fp16.dtype == fp16.train_config().dtype == "float16"
    assert finetune_recipe(parser.parse_args(["finetune", "--out", "x", "--dtype", "float16"])).dtype == "float16"
    with pytest.raises(SystemExit):
        parser.parse_args(["pretrain", "--out", "x", "--dtype", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err
