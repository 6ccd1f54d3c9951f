"""Build minitransformer's extensions.

* ``minitransformer._C`` (always): the op schemas (csrc/ops.cpp), the CPU kernels (csrc/cpu/) and the
  CUDA emulation glue (csrc/emu/), which compiles the CUDA kernels of csrc/kernels/ with g++ so they
  run on CPU tensors.
* ``minitransformer._C_cuda``: the CUDA launchers and glue (csrc/cuda/). Built when torch is a CUDA
  build and nvcc is found, or when ``MINITRANSFORMER_CUDA=1`` (then it is an error if it cannot be);
  ``MINITRANSFORMER_CUDA=0`` turns it off.

Build facts measured on our machines: without -fopenmp at::parallel_for runs on one thread; without the
CPU_CAPABILITY macros at::vec falls back to generic code; with no GPU visible TORCH_CUDA_ARCH_LIST must be set.
"""

import glob
import os
import platform
import subprocess
import sys
import tempfile

if os.path.isdir("/usr/local/cuda") and "CUDA_HOME" not in os.environ:
    # /usr/local/bin/nvcc is a wrapper script; torch would guess CUDA_HOME=/usr/local from it.
    os.environ["CUDA_HOME"] = "/usr/local/cuda"

import torch  # noqa: E402
from setuptools import find_packages, setup  # noqa: E402
from torch.utils import cpp_extension  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))


def _sources(pattern):
    return sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))


def _compiler_accepts(flags):
    """True when the C++ compiler builds a trivial AVX2/FMA program with ``flags``."""
    code = "#include <immintrin.h>\nint main(){__m256 a=_mm256_set1_ps(1.f);" \
           "a=_mm256_fmadd_ps(a,a,a);return (int)_mm256_cvtss_f32(a)-3;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.cpp")
        with open(src, "w") as f:
            f.write(code)
        cxx = os.environ.get("CXX", "c++")
        result = subprocess.run([cxx, *flags, src, "-o", os.path.join(tmp, "t")],
                                capture_output=True)
        return result.returncode == 0


def _cpu_flag_set():
    if platform.machine() not in ("x86_64", "AMD64"):
        return set()
    try:
        with open("/proc/cpuinfo") as f:
            return set(f.read().split())
    except OSError:
        return set()


# SIMD levels of at::vec, best first: (name, the CPU flags it needs, compiler flags).
SIMD_LEVELS = [
    ("AVX512", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "fma"},
     ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma"]),
    ("AVX2", {"avx2", "fma", "f16c"}, ["-mavx2", "-mfma", "-mf16c"]),  # at::vec converts halves with F16C
]


def _cpu_flags():
    """Compiler flags for the CPU kernels: the best at::vec SIMD level this CPU and compiler support.

    MINITRANSFORMER_SIMD=AVX2 caps the level (e.g. to build for older CPUs); =generic turns SIMD off.
    """
    flags = ["-O3", "-std=c++20", "-fopenmp", "-Wno-unused-function"]
    cap = os.environ.get("MINITRANSFORMER_SIMD", "AVX512").upper()
    names = [name for name, _, _ in SIMD_LEVELS]
    allowed = names[names.index(cap):] if cap in names else []
    cpu = _cpu_flag_set()
    for name, needed, simd in SIMD_LEVELS:
        if name in allowed and needed <= cpu and _compiler_accepts(simd):
            # at::vec picks its specialisation only under these macros (without them it falls back to slow generic code).
            print(f"minitransformer: building CPU kernels with {name}")
            return flags + simd + [f"-DCPU_CAPABILITY={name}", f"-DCPU_CAPABILITY_{name}"]
    print("minitransformer: building CPU kernels with generic at::vec (no SIMD flags)")
    return flags


def _want_cuda():
    """Decide whether to build _C_cuda; raise a clear error when it is forced but impossible."""
    choice = os.environ.get("MINITRANSFORMER_CUDA", "auto")
    nvcc = os.path.join(cpp_extension.CUDA_HOME or "", "bin", "nvcc")
    possible = torch.version.cuda is not None and os.path.exists(nvcc)
    if choice == "0":
        return False
    if choice == "1" and not possible:
        why = ("this torch is a CPU-only build (torch.version.cuda is None); "
               "install a CUDA build such as torch==2.14.1") if torch.version.cuda is None else \
              f"nvcc was not found at {nvcc}; set CUDA_HOME to the CUDA toolkit"
        raise RuntimeError(f"MINITRANSFORMER_CUDA=1 but the CUDA extension cannot be built: {why}")
    return possible


def _cuda_extension():
    if not os.environ.get("TORCH_CUDA_ARCH_LIST") and not torch.cuda.is_available():
        # With no visible GPU torch cannot guess the architectures (it crashes with IndexError).
        os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0;9.0"
    print(f"minitransformer: building CUDA kernels for {os.environ.get('TORCH_CUDA_ARCH_LIST')}")
    # The toolkit on our machines lacks cuBLAS/cuSPARSE headers that some ATen CUDA headers include;
    # the torch wheel ships them. Appended last so a full toolkit's own headers win.
    extra_includes = glob.glob(os.path.join(os.path.dirname(torch.__file__), "..", "nvidia", "cu*",
                                            "include"))
    return cpp_extension.CUDAExtension(
        name="minitransformer._C_cuda",
        sources=_sources("csrc/cuda/*.cu") + _sources("csrc/cuda/*.cpp"),
        include_dirs=[os.path.join(ROOT, "csrc")] + [os.path.abspath(p) for p in extra_includes],
        extra_compile_args={
            "cxx": ["-O3", "-std=c++20"],
            "nvcc": ["-O3", "-std=c++17", "-Xptxas", "-v", "-lineinfo"],
        },
    )


def extensions():
    exts = [
        cpp_extension.CppExtension(
            name="minitransformer._C",
            sources=(_sources("csrc/ops.cpp") + _sources("csrc/autograd/*.cpp") + _sources("csrc/cpu/*.cpp")
                     + _sources("csrc/emu/*.cpp")),
            include_dirs=[os.path.join(ROOT, "csrc")],
            extra_compile_args={"cxx": _cpu_flags()},
            extra_link_args=["-fopenmp"],
        )
    ]
    if _want_cuda():
        exts.append(_cuda_extension())
    else:
        print("minitransformer: not building the CUDA extension", file=sys.stderr)
    return exts


setup(
    packages=find_packages(include=["minitransformer", "minitransformer.*"]),
    ext_modules=extensions(),
    cmdclass={"build_ext": cpp_extension.BuildExtension.with_options(use_ninja=True)},
)
