"""Loads the compiled extensions: ``_C`` (op schemas, CPU kernels, CUDA emulation) and, when it was
built, ``_C_cuda`` (CUDA kernels). Loading registers the ops as ``torch.ops.minitransformer.*``; without
``_C`` importing this module (and so ``minitransformer.ops``) raises ImportError saying it is not built."""

import importlib

import torch

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


def kernel_versions(op):
    """The versions of ``op``'s CUDA kernel ladder, oldest first, as the extension was built: the rungs
    that csrc/kernels/<op>_ladder.cuh lists, one per csrc/kernels/<op>_v<k>.cuh. The last is the best, the
    one the op runs on CUDA by default (for float32 attention, the last that is not a tensor-core rung:
    ops.attention.TENSOR_CORE_VERSIONS). ValueError for an op without a ladder."""
    return tuple(torch.ops.minitransformer.kernel_versions(op))
