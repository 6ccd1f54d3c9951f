"""Fixtures of the emulator tests: the test-kernel library, and the max relative error report.

``test_kernels`` builds tests/emu/kernels/capi.cpp (the broken kernels and the check kernels, no torch
headers: a few seconds with g++) into a shared library under the temp directory, cached by a hash of
its sources, and wraps it for ctypes; ``test_kernels_ucontext``: the same with the portable fiber
switch; ``test_kernels_wrong_layout``: the same with a wrong WMMA fragment layout. (``error_report``, the
max relative error per kernel, is in tests/conftest.py.)
"""

import ctypes
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNELS = pathlib.Path(__file__).resolve().parent / "kernels"
ORDERS = ("forward", "reverse", "shuffle")

def _sources():
    return sorted([*(ROOT / "csrc" / "emu").glob("*.h"), *(ROOT / "csrc" / "kernels").glob("*.cuh"),
                   *KERNELS.glob("*")])


def _build_library(*defines):
    digest = hashlib.sha256(" ".join(defines).encode())
    for path in _sources():
        digest.update(path.name.encode() + path.read_bytes())
    out_dir = pathlib.Path(tempfile.gettempdir()) / "minitransformer-emu-tests"
    out_dir.mkdir(exist_ok=True)
    library = out_dir / f"test_kernels_{digest.hexdigest()[:16]}.so"
    if library.exists():
        return library
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler to build the emulator's test kernels")
    partial = library.with_suffix(f".{os.getpid()}.tmp")
    # Hidden symbols: the emulator's inline functions and variables here stay apart from those in _C.
    command = [compiler, "-std=c++20", "-O1", "-g", "-shared", "-fPIC", "-fvisibility=hidden", *defines, f"-I{ROOT / 'csrc'}", f"-I{KERNELS}",
               str(KERNELS / "capi.cpp"), "-o", str(partial), "-lpthread"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building the test kernels failed:\n{' '.join(command)}\n{result.stderr[-4000:]}")
    os.replace(partial, library)
    return library


class TestKernels:
    """``run(name, x, y_size, rows, cols, order=..., seed=..., scheduler=...)`` -> y (float32 array);
    raises RuntimeError with the emulator's message when the kernel breaks a rule."""

    def __init__(self, path):
        self._lib = ctypes.CDLL(str(path))
        self._lib.mt_emu_test_run.restype = ctypes.c_int
        self._lib.mt_emu_test_run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_ulonglong, ctypes.c_int,
                                              ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                              ctypes.c_char_p, ctypes.c_int]

    def run(self, name, x, y_size, rows=1, cols=1, *, order="forward", seed=0, scheduler="fibers"):
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.full(y_size, -7.0, dtype=np.float32)  # a value no kernel writes: unwritten outputs show
        error = ctypes.create_string_buffer(8192)
        failed = self._lib.mt_emu_test_run(name.encode(), ORDERS.index(order), seed, scheduler == "threads",
                                           x.ctypes.data, y.ctypes.data, rows, cols, error, len(error))
        if failed:
            raise RuntimeError(error.value.decode())
        return y


@pytest.fixture(scope="session")
def test_kernels():
    return TestKernels(_build_library())


@pytest.fixture(scope="session")
def test_kernels_ucontext():
    """The same kernels with the portable fiber switch (POSIX swapcontext) instead of the x86-64 one."""
    return TestKernels(_build_library("-DMT_EMU_UCONTEXT"))


@pytest.fixture(scope="session")
def test_kernels_wrong_layout():
    """The same kernels with a deliberately wrong WMMA fragment layout (emu/wmma.h, MT_EMU_WMMA_WRONG_LAYOUT)."""
    return TestKernels(_build_library("-DMT_EMU_WMMA_WRONG_LAYOUT"))
