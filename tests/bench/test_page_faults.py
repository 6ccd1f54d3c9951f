"""bench/common.py's page-fault accounting (bench/train_step.py and bench/training_ops.py): each call's minor
faults are counted, and keep_freed_memory (their --keep-freed-memory) makes a re-allocated buffer fault-free."""

import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
BUFFER = 64 * 2**20  # above glibc's largest dynamic mmap threshold (32 MiB): mmap'd and unmapped each call

SCRIPT = f"""
import sys
sys.path.insert(0, {str(BENCH)!r})
import common
if sys.argv[1] == "keep":
    common.keep_freed_memory()
steps, faults = common.counting_page_faults({{"alloc": lambda: bytearray({BUFFER}), "idle": lambda: None}})
for _ in range(3):
    steps["alloc"](), steps["idle"]()
print(faults["alloc"][-1], faults["idle"][-1])
"""


def faults_of_the_third_call(mode):
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True).stdout
    return [int(n) for n in out.split()]


def test_default_allocator_faults_on_every_reallocation_and_keep_freed_memory_does_not():
    pages = BUFFER // 4096
    alloc, idle = faults_of_the_third_call("default")
    assert alloc >= pages // 2 and idle < 100
    alloc, idle = faults_of_the_third_call("keep")
    assert alloc < 100 and idle < 100
