//===- Backend.h - The --target registry ------------------------*- C++ -*-===//
//
// Each backend turns the optimised graph, lowered kernel by kernel to the
// kernel form (codegen/lowering), into an artifact. `kiln compile --target`
// and `kiln run --target` pick one by name; the report records it.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_BACKEND_H
#define CODEGEN_BACKEND_H

#include "codegen/cpu/CppBackend.h"
#include "codegen/cuda/CudaBackend.h"

#include <string>
#include <vector>

namespace kiln {

struct Backend {
  const char *name;
  const char *description;
  mlir::LogicalResult (*emit)(mlir::func::FuncOp func, const CppEmitOptions &options,
                              CppArtifacts &out);
};

/// The backend called `name`, or null.
const Backend *lookupBackend(const std::string &name);

/// The names `--target` accepts.
std::vector<std::string> backendNames();

} // namespace kiln

#endif // CODEGEN_BACKEND_H
