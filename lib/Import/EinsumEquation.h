//===- EinsumEquation.h - Parse ONNX Einsum equations ------------*- C++ -*-===//
//
// One parser for the Einsum equation, used by the importer (which lowers
// Einsum to products) and by constant folding's shape step (ONNX's shape
// inference of Einsum gives only the rank).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_EINSUMEQUATION_H
#define LIB_IMPORT_EINSUMEQUATION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace kiln {

/// The terms of an Einsum equation as index ids, with an explicit output:
/// letters are ids 0-51, the dimensions an ellipsis covers get ids from 64
/// on, aligned from the right as numpy broadcasts them.
struct EinsumTerms {
  std::vector<std::vector<int>> inputs;
  std::vector<int> output;
};

/// Parses `equation` for operands of `ranks` (spaces are ignored; without
/// "->" the output is the ellipsis, then the letters used once, sorted).
llvm::Expected<EinsumTerms> parseEinsum(const std::string &equation,
                                        llvm::ArrayRef<int64_t> ranks);

/// The output shape for operands of `shapes`, whose indices must agree in
/// size (no broadcasting).
llvm::Expected<std::vector<int64_t>> einsumShape(const EinsumTerms &terms,
                                                 llvm::ArrayRef<std::vector<int64_t>> shapes);

} // namespace kiln

#endif // LIB_IMPORT_EINSUMEQUATION_H
