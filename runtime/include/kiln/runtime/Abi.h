/*===- Abi.h - C ABI of a compiled model --------------------------*- C -*-===//
 *
 * Every compiled model exports these functions, prefixed with its name, so it
 * can be loaded from a shared object with dlopen (as `kiln run` does):
 *
 *   void *<name>_create(const char *weights_path, int threads,
 *                       char *error, size_t error_size);
 *   int   <name>_run(void *model, const kiln_tensor *inputs, size_t num_inputs,
 *                    kiln_tensor *outputs, size_t num_outputs,
 *                    char *error, size_t error_size);
 *   void  <name>_destroy(void *model);
 *   size_t <name>_num_inputs(void), <name>_num_outputs(void);
 *   int   <name>_input_info(size_t index, kiln_tensor_info *info);
 *   int   <name>_output_info(size_t index, kiln_tensor_info *info);
 *
 * Functions returning int return 0 on success; on failure they write a
 * NUL-terminated message into `error` (when non-null). `create` returns null on
 * failure.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_ABI_H
#define KILN_RUNTIME_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_ABI_MAX_RANK 8

/* A tensor passed across the C ABI. dtype uses ONNX TensorProto.DataType codes. */
typedef struct kiln_tensor {
  int32_t dtype;
  int32_t rank;
  int64_t dims[KILN_ABI_MAX_RANK];
  void *data;
} kiln_tensor;

typedef struct kiln_tensor_info {
  const char *name;
  int32_t dtype;
  int32_t rank;
  int64_t dims[KILN_ABI_MAX_RANK];
} kiln_tensor_info;

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_ABI_H */
