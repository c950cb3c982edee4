//===- NpyFile.h - NumPy .npy tensor files ----------------------*- C++ -*-===//
//
// `kiln run --input NAME=FILE.npy` and `--save-format npy`: NumPy's .npy
// format (versions 1 to 3), little-endian and C-ordered, for the element
// types Kiln's tensors have (bool, int8-64, uint8-64, float16/32/64).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DRIVER_NPYFILE_H
#define LIB_DRIVER_NPYFILE_H

#include "lib/Driver/TensorFile.h"

namespace kiln {

llvm::Expected<HostTensor> readNpyFile(const std::string &path);
/// Parses a .npy file's contents as readNpyFile would read `path`.
llvm::Expected<HostTensor> parseNpy(const std::string &bytes, const std::string &path);
/// Writes `tensor` as a version 1.0 .npy file, atomically.
llvm::Error writeNpyFile(const HostTensor &tensor, const std::string &path);

} // namespace kiln

#endif // LIB_DRIVER_NPYFILE_H
