/*===- Abi.h - C ABI of a compiled model --------------------------*- C -*-===//
 *
 * Every compiled model exports these functions, prefixed with its name, so it
 * can be loaded from a shared object with dlopen (as `kiln run` does) or
 * called from C through the generated <name>_c.h:
 *
 *   void *<name>_create(const char *weights_path, int threads,
 *                       char *error, size_t error_size);
 *   void *<name>_create_from_memory(const void *data, size_t bytes, int threads,
 *                                   char *error, size_t error_size);
 *   void *<name>_create_embedded(int threads, char *error, size_t error_size);
 *                       (models compiled with --embed-weights only)
 *   int   <name>_run(void *model, const kiln_tensor *inputs, size_t num_inputs,
 *                    kiln_tensor *outputs, size_t num_outputs,
 *                    char *error, size_t error_size);
 *   void  <name>_destroy(void *model);
 *   size_t <name>_num_inputs(void), <name>_num_outputs(void);
 *   int   <name>_input_info(size_t index, kiln_tensor_info *info);
 *   int   <name>_output_info(size_t index, kiln_tensor_info *info);
 *
 * Functions returning int return 0 on success; on failure they write a
 * NUL-terminated message into `error` (when non-null). The `create`
 * functions return null on failure. A model's memory given to
 * `create_from_memory` must outlive the model.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_ABI_H
#define KILN_RUNTIME_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_ABI_MAX_RANK 8

/* Element types of kiln_tensor.dtype: ONNX's TensorProto.DataType codes. */
enum kiln_dtype {
  KILN_DTYPE_FLOAT32 = 1,
  KILN_DTYPE_UINT8 = 2,
  KILN_DTYPE_INT8 = 3,
  KILN_DTYPE_UINT16 = 4,
  KILN_DTYPE_INT16 = 5,
  KILN_DTYPE_INT32 = 6,
  KILN_DTYPE_INT64 = 7,
  KILN_DTYPE_BOOL = 9,
  KILN_DTYPE_FLOAT16 = 10,
  KILN_DTYPE_FLOAT64 = 11,
  KILN_DTYPE_UINT32 = 12,
  KILN_DTYPE_UINT64 = 13
};

/* A tensor passed across the C ABI; dtype is a kiln_dtype. */
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
