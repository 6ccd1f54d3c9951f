"""bench/common.py's interleaved timer: every function is sampled, and the turn rotates so that each
function follows each of the others equally often (a cache-sweeping baseline must not always precede the
same contender)."""

import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
_spec = importlib.util.spec_from_file_location("bench_common", BENCH / "common.py")
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def test_the_turn_rotates_so_each_function_follows_each_other_equally_often():
    calls = []
    functions = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    medians = common.time_interleaved(functions, repeats=6, warmup=1)
    assert set(medians) == set("abc") and all(m >= 0 for m in medians.values())
    timed = calls[3:]  # after one warm-up round
    assert timed == list("abc" "bca" "cab" "abc" "bca" "cab")
    predecessors = {(before, after) for before, after in zip(timed, timed[1:]) if before != after}
    assert predecessors == {(x, y) for x in "abc" for y in "abc" if x != y}
