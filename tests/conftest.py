"""Test configuration: hypothesis profiles and the `cuda` marker.

Hypothesis profiles, chosen by the HYPOTHESIS_PROFILE environment variable: ``ci`` (the default, and
``make test``'s) draws the same examples on every run (derandomised), so a failure reproduces; ``dev``
(``make test-all``'s) draws more, and new ones each run, replaying first the failures it found before
(its example database, .hypothesis/). Neither has a deadline. Tests marked ``cuda`` are skipped without a GPU.
The module, optimizer, model and training tests run on one intra-op thread (see ``_one_thread``). The fixture
``error_report`` collects the max relative error of each emulated CUDA kernel (and dtype) against the NumPy
reference; pytest's terminal summary prints it.
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", parent=settings.get_profile("ci"), max_examples=100, derandomize=False,
                          database=settings.get_profile("default").database)  # ci's derandomize turned it off
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Test folders whose tensors are tiny: there one intra-op thread is several times faster than two on a
# loaded 2-core machine (OpenMP start-up and spinning dominate). The kernel tests (ops/, emu/) keep every
# thread, so at::parallel_for's split is exercised.
ONE_THREAD_FOLDERS = {"nn", "optim", "models", "train"}


@pytest.fixture(autouse=True)
def _one_thread(request):
    if request.node.path.parent.name not in ONE_THREAD_FOLDERS:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (none visible)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


_MAX_RELATIVE_ERROR = {}


@pytest.fixture(scope="session")
def error_report():
    """record(kernel, relative_error): keeps the maximum per kernel for the terminal summary."""

    def record(kernel, relative_error):
        _MAX_RELATIVE_ERROR[kernel] = max(_MAX_RELATIVE_ERROR.get(kernel, 0.0), float(relative_error))

    return record


def pytest_terminal_summary(terminalreporter):
    if not _MAX_RELATIVE_ERROR:
        return
    terminalreporter.section("emulated CUDA kernels vs NumPy reference (max relative error)")
    for kernel, error in sorted(_MAX_RELATIVE_ERROR.items()):
        terminalreporter.write_line(f"{kernel:<36} {error:.3e}")
