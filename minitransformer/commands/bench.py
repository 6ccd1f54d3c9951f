"""`minitransformer bench <name>`: run one of the benchmark scripts in the source tree's bench/.

Each script compares our implementation against PyTorch in the same run and writes
bench/results/<name>_<device>.{json,md,png}; extra arguments are passed to the script.
"""

import pathlib
import runpy
import sys

BENCH_DIR = pathlib.Path(__file__).resolve().parents[2] / "bench"


def available():
    if not BENCH_DIR.is_dir():
        return []
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem != "common")


def run_script(name, script_args):
    """Run bench/<name>.py with ``script_args`` as its command line; return its main()'s result."""
    path = BENCH_DIR / f"{name}.py"
    if not path.is_file():
        names = ", ".join(available()) or "none (bench/ is only in a source checkout)"
        raise SystemExit(f"minitransformer bench: no benchmark named {name!r}; available: {names}")
    saved_argv = sys.argv
    sys.argv = [str(path), *script_args]
    try:
        module = runpy.run_path(str(path), run_name="minitransformer_bench")
        return module["main"](script_args)
    finally:
        sys.argv = saved_argv


def _run(args):
    run_script(args.name, args.script_args)


def register(subparsers):
    parser = subparsers.add_parser("bench", help="run a benchmark from bench/ (e.g. softmax --quick)",
                                   description=__doc__)
    parser.add_argument("name", help="benchmark name: " + (", ".join(available()) or "see bench/"))
    parser.add_argument("script_args", nargs="*", help="arguments passed to the script (use -- first)")
    parser.set_defaults(func=_run)
