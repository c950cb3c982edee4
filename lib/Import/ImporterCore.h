//===- ImporterCore.h - State and helpers shared by the import handlers ----===//
//
// The Importer walks one ONNX graph and lowers each node through a handler.
// Handlers live in several files by family (OnnxImporter.cpp for the core
// table, RecurrentOps.cpp, ...); they share this class and its helpers.
// Internal to lib/Import.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_IMPORTERCORE_H
#define KILN_LIB_IMPORT_IMPORTERCORE_H

#include "lib/Import/ConstantEvaluator.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "onnx/onnx_pb.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

namespace kiln::import {

using namespace mlir;

/// Thrown by handlers and their helpers; caught at the node boundary, where the
/// model and node are added to the message.
struct NodeError {
  std::string message;
};

[[noreturn]] inline void fail(const std::string &message) { throw NodeError{message}; }

inline Type elementType(MLIRContext &ctx, int32_t onnxType) {
  Builder b(&ctx);
  using T = onnx::TensorProto;
  switch (onnxType) {
  case T::FLOAT: return b.getF32Type();
  case T::DOUBLE: return b.getF64Type();
  case T::FLOAT16: return b.getF16Type();
  case T::BOOL: return b.getI1Type();
  case T::INT8: return b.getIntegerType(8);
  case T::INT16: return b.getIntegerType(16);
  case T::INT32: return b.getIntegerType(32);
  case T::INT64: return b.getIntegerType(64);
  case T::UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case T::UINT16: return b.getIntegerType(16, false);
  case T::UINT32: return b.getIntegerType(32, false);
  case T::UINT64: return b.getIntegerType(64, false);
  default: return {};
  }
}

inline std::string elementTypeName(int32_t onnxType) {
  if (onnxType >= 0 && onnxType <= onnx::TensorProto::DataType_MAX &&
      onnx::TensorProto::DataType_IsValid(onnxType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(onnxType));
  return std::to_string(onnxType);
}

/// Static tensor type of an ONNX type, or an error naming what is missing.
inline RankedTensorType tensorType(MLIRContext &ctx, const onnx::TypeProto &type,
                            const std::string &valueName) {
  if (!type.has_tensor_type())
    fail("value '" + valueName + "' is not a tensor (sequences, maps and "
         "optionals are not supported)");
  const auto &tt = type.tensor_type();
  Type elt = elementType(ctx, tt.elem_type());
  if (!elt)
    fail("value '" + valueName + "' has unsupported element type " +
         elementTypeName(tt.elem_type()));
  if (!tt.has_shape())
    fail("the shape of value '" + valueName + "' is unknown");
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim()) {
    if (!d.has_dim_value())
      fail("value '" + valueName + "' has a dynamic dimension" +
           (d.has_dim_param() ? " '" + d.dim_param() + "'" : std::string()) +
           "; Kiln compiles static shapes");
    if (d.dim_value() < 0)
      fail("value '" + valueName + "' has negative dimension " +
           std::to_string(d.dim_value()) +
           " (from shape inference: the node's operands make a negative or overflowing size)");
    dims.push_back(d.dim_value());
  }
  if (auto count = checkedElementCount(dims); !count) {
    llvm::consumeError(count.takeError());
    fail("value '" + valueName + "' has too many elements (their count overflows int64)");
  }
  return RankedTensorType::get(dims, elt);
}

inline DenseElementsAttr tensorAttr(MLIRContext &ctx, const onnx::TensorProto &t) {
  Type elt = elementType(ctx, t.data_type());
  if (!elt)
    fail("tensor '" + t.name() + "' has unsupported element type " +
         elementTypeName(t.data_type()));
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      fail("tensor '" + t.name() + "' has negative dimension " +
           std::to_string(d));
  auto type = RankedTensorType::get(dims, elt);
  auto bytes = tensorBytes(t);
  if (!bytes)
    fail(llvm::toString(bytes.takeError()));
  if (elt.isInteger(1)) {
    SmallVector<bool> values;
    for (char c : *bytes)
      values.push_back(c != 0);
    return DenseElementsAttr::get(type, values);
  }
  return DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(bytes->data(), bytes->size()));
}

inline int64_t normalizeAxis(int64_t axis, int64_t rank, const char *what = "axis") {
  int64_t r = std::max<int64_t>(rank, 1);
  if (axis < -r || axis >= r)
    fail(std::string(what) + " " + std::to_string(axis) +
         " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

inline ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

class Importer;
using Handler = std::function<void(Importer &)>;

class Importer {
public:
  /// `unfolded`: values constant folding left to run time for its budget,
  /// with the reason, to explain errors of nodes that need them constant.
  Importer(MLIRContext &ctx, std::string modelPath, std::set<std::string> specialized,
           std::map<std::string, std::string> unfolded = {}, ConstantBudget budget = {})
      : ctx(ctx), builder(&ctx), modelPath(std::move(modelPath)),
        specialized(std::move(specialized)), unfolded(std::move(unfolded)), budget(budget),
        fileLoc(FileLineColLoc::get(&ctx, this->modelPath, 0, 0)) {}

  llvm::Expected<OwningOpRef<ModuleOp>> run(const onnx::GraphProto &graph);

  /// The budget for constants made at compile time (`--max-constant-bytes`).
  const ConstantBudget &constantBudget() const { return budget; }

  //===--- Helpers for handlers -------------------------------------------===//

  size_t numInputs() const { return node->input_size(); }
  bool hasInput(size_t i) const {
    return i < (size_t)node->input_size() && !node->input(i).empty();
  }
  Value input(size_t i) {
    if (!hasInput(i))
      fail("missing required input " + std::to_string(i));
    auto it = values.find(node->input(i));
    if (it == values.end())
      fail("input '" + node->input(i) + "' is not defined");
    return it->second;
  }
  Value optionalInput(size_t i) { return hasInput(i) ? input(i) : Value(); }
  /// Whether input `i` is present and a compile-time constant.
  bool isConstantInput(size_t i) {
    if (!hasInput(i))
      return false;
    auto c = input(i).getDefiningOp<ConstantOp>();
    return c && isa<DenseElementsAttr>(c.getValue());
  }
  /// The value of a constant input, for operands whose role needs it at
  /// compile time (Slice bounds, axes, TopK's k; see ShapeOperands.h).
  DenseElementsAttr constantInput(size_t i) {
    Value v = input(i);
    DenseElementsAttr attr;
    if (auto c = v.getDefiningOp<ConstantOp>())
      attr = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!attr)
      fail("input " + std::to_string(i) + " ('" + node->input(i) +
           "') must be a constant");
    return attr;
  }
  std::vector<int64_t> constantInts(size_t i) {
    DenseElementsAttr a = constantInput(i);
    if (!isa<IntegerType>(a.getElementType()))
      fail("input " + std::to_string(i) + " must be an integer tensor");
    std::vector<int64_t> out;
    for (const APInt &v : a.getValues<APInt>())
      out.push_back(v.getSExtValue());
    return out;
  }
  double constantScalar(size_t i) {
    DenseElementsAttr a = constantInput(i);
    if (a.getNumElements() != 1)
      fail("input " + std::to_string(i) + " must be a scalar");
    if (isa<FloatType>(a.getElementType()))
      return (*a.getValues<APFloat>().begin()).convertToDouble();
    APInt v = *a.getValues<APInt>().begin();
    return a.getElementType().isUnsignedInteger() ? (double)v.getZExtValue()
                                                  : (double)v.getSExtValue();
  }

  RankedTensorType outputType(size_t i) {
    if (i >= (size_t)node->output_size() || node->output(i).empty())
      fail("missing output " + std::to_string(i));
    const std::string &name = node->output(i);
    auto it = valueTypes.find(name);
    if (it == valueTypes.end())
      fail("shape inference gave no type for output '" + name + "'");
    return tensorType(ctx, it->second, name);
  }
  bool hasOutput(size_t i) const {
    return i < (size_t)node->output_size() && !node->output(i).empty();
  }
  void bind(size_t i, Value v) { values[node->output(i)] = v; }
  Value lookup(const std::string &name) { return values.lookup(name); }

  const onnx::AttributeProto *attr(const char *name) const {
    for (const auto &a : node->attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  const onnx::AttributeProto *typedAttr(const char *name,
                                        onnx::AttributeProto::AttributeType t) {
    const onnx::AttributeProto *a = attr(name);
    if (a && a->type() != t)
      fail(std::string("attribute '") + name + "' must be of type " +
           onnx::AttributeProto::AttributeType_Name(t) + ", got " +
           onnx::AttributeProto::AttributeType_Name(a->type()));
    return a;
  }
  int64_t intAttr(const char *name, int64_t dflt) {
    auto *a = typedAttr(name, onnx::AttributeProto::INT);
    return a ? a->i() : dflt;
  }
  float floatAttr(const char *name, float dflt) {
    auto *a = typedAttr(name, onnx::AttributeProto::FLOAT);
    return a ? a->f() : dflt;
  }
  std::string stringAttr(const char *name, const std::string &dflt) {
    auto *a = typedAttr(name, onnx::AttributeProto::STRING);
    return a ? a->s() : dflt;
  }
  std::optional<SmallVector<int64_t>> intsAttr(const char *name) {
    auto *a = typedAttr(name, onnx::AttributeProto::INTS);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }
  SmallVector<int64_t> intsAttr(const char *name, SmallVector<int64_t> dflt) {
    auto v = intsAttr(name);
    return v ? *v : dflt;
  }
  void rejectAttr(const char *name, const char *why) {
    if (attr(name))
      fail(std::string("attribute '") + name + "' is not supported: " + why);
  }
  void rejectOutput(size_t i, const char *what) {
    if (hasOutput(i))
      fail(std::string("output ") + std::to_string(i) + " (" + what +
           ") is not supported");
  }

  template <typename OpTy, typename... Args> OpTy create(Args &&...args) {
    return builder.create<OpTy>(loc, std::forward<Args>(args)...);
  }
  template <typename OpTy, typename... Args> Value createOrFold(Args &&...args) {
    return builder.createOrFold<OpTy>(loc, std::forward<Args>(args)...);
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(
        shape, cast<ShapedType>(v.getType()).getElementType());
    if (v.getType() == type)
      return v;
    return create<ReshapeOp>(type, v);
  }

  OpBuilder &b() { return builder; }
  MLIRContext &context() { return ctx; }
  const onnx::NodeProto &current() const { return *node; }

private:
  MLIRContext &ctx;
  OpBuilder builder;
  std::string modelPath;
  std::set<std::string> specialized;
  std::map<std::string, std::string> unfolded;
  ConstantBudget budget;
  Location fileLoc;
  Location loc = fileLoc;
  const onnx::NodeProto *node = nullptr;
  llvm::StringMap<Value> values;
  std::unordered_map<std::string, onnx::TypeProto> valueTypes;
};


/// Builds kiln ops for handlers that expand one ONNX node into several; each
/// helper infers its result type. `elt` is the default element type.
class ValueBuilder {
public:
  ValueBuilder(Importer &im, Type elt) : im(im), elt(elt) {}

  RankedTensorType type(ArrayRef<int64_t> shape, Type t = {}) {
    return RankedTensorType::get(shape, t ? t : elt);
  }
  /// `count` entries of `v` along `axis` from `start`.
  Value slice(Value v, int64_t axis, int64_t start, int64_t count) {
    SmallVector<int64_t> shape(shapeOf(v)), starts(shape.size(), 0),
        steps(shape.size(), 1);
    if (start == 0 && count == shape[axis])
      return v;
    starts[axis] = start;
    shape[axis] = count;
    auto &b = im.b();
    return im.createOrFold<SliceOp>(type(shape, elementOf(v)), v,
                                    b.getDenseI64ArrayAttr(starts),
                                    b.getDenseI64ArrayAttr(steps));
  }
  /// a [M,K] times w [N,K] transposed, plus c broadcast over rows (or none).
  Value linear(Value a, Value w, Value c) {
    auto &b = im.b();
    return im.create<GemmOp>(type({shapeOf(a)[0], shapeOf(w)[0]}), a, w, c,
                             b.getBoolAttr(false), b.getBoolAttr(true),
                             b.getF32FloatAttr(1.0f), b.getF32FloatAttr(1.0f));
  }
  template <typename OpTy> Value binary(Value x, Value y) {
    auto shape = broadcastShapes({shapeOf(x), shapeOf(y)});
    if (!shape)
      fail("operand shapes do not broadcast");
    return im.createOrFold<OpTy>(type(*shape, elementOf(x)), x, y);
  }
  Value add(Value x, Value y) { return binary<AddOp>(x, y); }
  Value sub(Value x, Value y) { return binary<SubOp>(x, y); }
  Value mul(Value x, Value y) { return binary<MulOp>(x, y); }
  Value zeros(ArrayRef<int64_t> shape) {
    auto t = type(shape);
    return im.create<ConstantOp>(DenseElementsAttr::get(t, im.b().getZeroAttr(elt)));
  }
  Value scalar(double v) { return scalarOf(elt, v); }
  Value pointwise(const char *fn, Value x, ArrayRef<double> params) {
    auto &b = im.b();
    SmallVector<Attribute> attrs;
    for (double p : params)
      attrs.push_back(b.getF64FloatAttr(p));
    return im.create<PointwiseOp>(x.getType(), b.getStringAttr(fn), ValueRange{x},
                                  b.getArrayAttr(attrs));
  }
  Value clip(Value x, float limit) {
    if (!(limit > 0))
      return x;
    auto &b = im.b();
    return im.create<ClipOp>(x.getType(), x, b.getF64FloatAttr(-limit),
                             b.getF64FloatAttr(limit));
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) { return im.reshape(v, shape); }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(shapeOf(v)[p]);
    return im.create<TransposeOp>(type(shape, elementOf(v)), v,
                                  im.b().getDenseI64ArrayAttr(perm));
  }
  Value concat(ArrayRef<Value> parts, int64_t axis) {
    if (parts.size() == 1)
      return parts[0];
    SmallVector<int64_t> shape(shapeOf(parts[0]));
    shape[axis] = 0;
    for (Value p : parts)
      shape[axis] += shapeOf(p)[axis];
    return im.createOrFold<ConcatOp>(type(shape), parts, im.b().getI64IntegerAttr(axis));
  }

  Value castTo(Value v, Type to) {
    if (elementOf(v) == to)
      return v;
    return im.create<CastOp>(type(shapeOf(v), to), v);
  }
  Value round(Value x) { return pointwise("round", x, {}); }
  Value clipTo(Value x, double lo, double hi) {
    auto &b = im.b();
    return im.create<ClipOp>(x.getType(), x, b.getF64FloatAttr(lo), b.getF64FloatAttr(hi));
  }
  Value scalarOf(Type t, double v) {
    auto st = type({}, t);
    Attribute a = isa<FloatType>(t) ? Attribute(im.b().getFloatAttr(t, v))
                                    : Attribute(im.b().getIntegerAttr(t, (int64_t)v));
    return im.create<ConstantOp>(DenseElementsAttr::get(st, a));
  }

  static Type elementOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

  Importer &im;
  Type elt;
};

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_IMPORTERCORE_H
