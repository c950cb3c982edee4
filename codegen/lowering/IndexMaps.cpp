//===- IndexMaps.cpp - Strides and loop spaces shared by lowerings --------===//

#include "codegen/lowering/IndexMaps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace kiln {

ArrayRef<int64_t> shapeOf(Value v) { return cast<ShapedType>(v.getType()).getShape(); }
Type eltOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }
int64_t numel(Value v) { return cast<ShapedType>(v.getType()).getNumElements(); }
int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

SmallVector<int64_t> contiguousStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

SmallVector<int64_t> permutedStrides(ArrayRef<int64_t> shape,
                                     std::optional<ArrayRef<int64_t>> perm) {
  SmallVector<int64_t> stored = contiguousStrides(shape);
  if (!perm)
    return stored;
  SmallVector<int64_t> out;
  for (int64_t p : *perm)
    out.push_back(stored[p]);
  return out;
}

SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> operand, ArrayRef<int64_t> out) {
  SmallVector<int64_t> own = contiguousStrides(operand), s(out.size(), 0);
  size_t lead = out.size() - operand.size();
  for (size_t d = lead; d < out.size(); ++d)
    if (operand[d - lead] != 1 || out[d] == 1)
      s[d] = own[d - lead];
  return s;
}

LoopSpace::LoopSpace(ArrayRef<int64_t> full, ArrayRef<SmallVector<int64_t>> access) {
  strides.resize(access.size());
  for (size_t d = 0; d < full.size(); ++d) {
    if (full[d] == 1)
      continue;
    bool merge = !dims.empty();
    for (size_t k = 0; merge && k < access.size(); ++k)
      merge = strides[k].back() == access[k][d] * full[d];
    if (merge) {
      dims.back() *= full[d];
      for (size_t k = 0; k < access.size(); ++k)
        strides[k].back() = access[k][d];
    } else {
      dims.push_back(full[d]);
      for (size_t k = 0; k < access.size(); ++k)
        strides[k].push_back(access[k][d]);
    }
  }
}

LoopSpace LoopSpace::broadcast(ValueRange operands, Value result) {
  ArrayRef<int64_t> out = shapeOf(result);
  SmallVector<SmallVector<int64_t>> access;
  for (Value v : operands)
    access.push_back(broadcastStrides(shapeOf(v), out));
  access.push_back(contiguousStrides(out));
  return LoopSpace(out, access);
}

} // namespace kiln
