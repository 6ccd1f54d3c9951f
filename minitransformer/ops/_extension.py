"""Loads the compiled extensions: ``_C`` (op schemas, CPU kernels, CUDA emulation) and, when it was
built, ``_C_cuda`` (CUDA kernels). Loading registers the ops as ``torch.ops.minitransformer.*``."""

import importlib

_BUILD_HINT = ("build it with `make build` (or `pip install --no-build-isolation -e .`) "
               "from the repository root")


def _load():
    try:
        importlib.import_module("minitransformer._C")
    except ImportError as error:
        raise ImportError(f"minitransformer's C++ extension is not built ({error}); {_BUILD_HINT}") \
            from error
    try:
        importlib.import_module("minitransformer._C_cuda")
        return True
    except ImportError:
        return False


HAS_CUDA_KERNELS = _load()
