// Importing `minitransformer._C_cuda` loads the CUDA implementations (TORCH_LIBRARY_IMPL(…, CUDA, …)).
#include <Python.h>

extern "C" PyObject* PyInit__C_cuda(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C_cuda", nullptr, -1, nullptr};
  return PyModule_Create(&module);
}
