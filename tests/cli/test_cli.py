"""The command line: every command answers --help, and the demo's kernel check passes."""

import pytest

from minitransformer import cli
from minitransformer.commands import bench, demo


def test_every_command_has_help(capsys):
    parser = cli.build_parser()
    subcommands = parser._subparsers._group_actions[0].choices
    assert {"demo", "bench", "word2vec", "pretrain", "finetune", "evaluate", "generate",
            "vision"} <= set(subcommands)
    for name in subcommands:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "<command>" in capsys.readouterr().out


def test_demo_checks_every_implementation_against_numpy():
    errors = demo.check_against_reference()
    assert set(errors) == {"softmax", "attention"}
    for op, by_name in errors.items():
        # the C++ op, the hand-written torch version and every CUDA kernel version (emulated here)
        assert len(by_name) == 2 + 3, (op, by_name)
        for name, error in by_name.items():
            assert error <= 1e-5, (op, name, error)


def test_bench_lists_scripts_and_rejects_unknown_names():
    assert {"softmax", "attention"} <= set(bench.available())
    with pytest.raises(SystemExit, match="no benchmark named 'nope'"):
        bench.run_script("nope", [])
