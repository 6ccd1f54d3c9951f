// The one TORCH_LIBRARY block of the project: every op's schema is declared here, once.
// Implementations attach elsewhere with TORCH_LIBRARY_IMPL (csrc/cpu/, csrc/cuda/, csrc/emu/); fake
// (meta) kernels and autograd are registered from Python (minitransformer/ops/).
#include <Python.h>
#include <torch/library.h>

// Importing `minitransformer._C` from Python loads this library and runs the registrations below.
extern "C" PyObject* PyInit__C(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module);
}

TORCH_LIBRARY(minitransformer, m) {
  // Softmax along `dim` (issue 2). CPU: at::vec kernel; CUDA: the best kernel of the ladder.
  m.def("softmax(Tensor x, int dim) -> Tensor");
  m.def("softmax_backward(Tensor y, Tensor grad_y, int dim) -> Tensor");
  // One rung of the CUDA softmax ladder (csrc/kernels/softmax_v*.cuh), chosen by number.
  m.def("softmax_kernel(Tensor x, int dim, int version) -> Tensor");
}
