//===- CppText.h - Small helpers for writing C++ source ---------*- C++ -*-===//
//
// Shared by the kernel printer and the model wrapper of the CPU backend.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CPU_CPPTEXT_H
#define CODEGEN_CPU_CPPTEXT_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace kiln {

/// An indented block of C++.
class Code {
public:
  void line(const std::string &s) { text += std::string(2 * depth, ' ') + s + "\n"; }
  void open(const std::string &s) {
    line(s.empty() ? "{" : s + " {");
    ++depth;
  }
  void close(const std::string &suffix = "") {
    --depth;
    line("}" + suffix);
  }
  std::string text;
  int depth = 0;
};

inline std::string str(int64_t v) { return std::to_string(v); }

/// C++ type of an element type (float, int8_t, bool, ...); index is int64_t.
mlir::FailureOr<std::string> cType(mlir::Type t);

/// A literal of C++ floating type `type` (float, double, _Float16) that
/// reads back as `v`, infinities and NaN included.
std::string floatLiteral(double v, const std::string &type);

/// A C string literal of `s`: quotes, backslashes, "??" (trigraphs) and
/// every byte outside printable ASCII escaped.
std::string cStringLiteral(const std::string &s);

/// `s` made safe inside a // comment: no line breaks or other controls, no
/// backslashes or "??/" (which splice the next line into the comment), and
/// no malformed UTF-8 or characters that reorder what a reader sees.
std::string commentText(const std::string &s);

/// The ONNX node names an op came from (its NameLocs), joined with ", " and
/// made safe for a comment; "(unnamed)" if there are none.
std::string sourceNodes(mlir::Location loc);
inline std::string sourceNodes(mlir::Operation *op) { return sourceNodes(op->getLoc()); }

/// Whether `s` is a C++ keyword or a name the generated code uses.
bool isKeyword(const std::string &s);

} // namespace kiln

#endif // CODEGEN_CPU_CPPTEXT_H
