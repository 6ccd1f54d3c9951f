"""bench/common.py's interleaved timer: every function is sampled, and the turn rotates so that each
function follows each of the others equally often (a cache-sweeping baseline must not always precede the
same contender)."""

import importlib.util
import pathlib

import pytest

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


def test_interleaved_samples_keep_every_round_and_time_interleaved_takes_their_median():
    samples = common.interleaved_samples({"a": lambda: None, "b": lambda: None}, repeats=7, warmup=0)
    assert [len(s) for s in samples.values()] == [7, 7]
    medians = common.time_interleaved({"a": lambda: None}, repeats=5, warmup=0)
    assert set(medians) == {"a"} and medians["a"] >= 0


def test_paired_ratio_is_the_median_of_the_rounds_ratios_inside_its_interval():
    # Round i: the numerator took (i + 1) * r_i, the denominator i + 1, so the slow rounds cancel in each pair.
    ratios = [0.8, 0.9, 0.85, 0.95, 0.7, 0.88, 0.86]
    numerator = [(i + 1) * r for i, r in enumerate(ratios)]
    denominator = [float(i + 1) for i in range(len(ratios))]
    ratio, (low, high) = common.paired_ratio(numerator, denominator)
    assert abs(ratio - 0.86) < 1e-12  # the median of the seven ratios
    assert min(ratios) <= low <= ratio <= high <= max(ratios) and low < high
    constant, interval = common.paired_ratio([2.0] * 5, [4.0] * 5)
    assert constant == 0.5 and interval == (0.5, 0.5)


def test_paired_ratio_refuses_unpaired_samples():
    with pytest.raises(ValueError, match="equally long"):
        common.paired_ratio([1.0, 2.0], [1.0])
