//===- OnnxImporter.cpp - ONNX ModelProto -> kiln dialect -----------------===//
//
// Import runs in two phases. First the model is validated and normalised with
// the official ONNX library: unsupported ops are collected (all of them, for
// one message), the checker runs, the version converter lifts the model to the
// canonical opset and strict shape inference gives every value a static type.
// Then each node is lowered by a handler from a table keyed by op type; the
// handlers resolve ONNX's defaults, negative axes, auto_pad and constant
// operands into explicit attributes of the kiln ops.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/OnnxImporter.h"
#include "lib/Import/AttributeChecks.h"
#include "lib/Import/ImporterCore.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/CompositeOps.h"
#include "lib/Import/QuantizedOps.h"
#include "lib/Import/RecurrentOps.h"
#include "lib/Import/ShapeFolding.h"
#include "lib/Import/TensorData.h"

#include "dialects/Kiln/KilnOps.h"
#include "dialects/Kiln/PointwiseFns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <functional>
#include <limits>
#include <set>

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace kiln {
using namespace kiln::import;

namespace {
std::string handlerKey(const onnx::NodeProto &n);
const llvm::StringMap<Handler> &handlerTable();
} // namespace

Expected<OwningOpRef<ModuleOp>> import::Importer::run(const onnx::GraphProto &graph) {
  auto module = ModuleOp::create(fileLoc);
  OwningOpRef<ModuleOp> owned(module);
  for (const auto &list : {graph.input(), graph.value_info(), graph.output()})
    for (const auto &v : list)
      if (v.has_type())
        valueTypes[v.name()] = v.type();

  std::set<std::string> initNames;
  for (const auto &t : graph.initializer())
    initNames.insert(t.name());

  // Function signature: graph inputs that are not initializers, then outputs.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  try {
    for (const auto &v : graph.input()) {
      if (initNames.count(v.name()) && !specialized.count(v.name()))
        continue;
      if (specialized.count(v.name())) {
        // The value fixes the shape even where the declaration is dynamic.
        for (const auto &t : graph.initializer())
          if (t.name() == v.name())
            argTypes.push_back(tensorAttr(ctx, t).getType());
      } else {
        argTypes.push_back(tensorType(ctx, v.type(), v.name()));
      }
      argNames.push_back(v.name());
    }
  } catch (const NodeError &e) {
    return makeError("model '" + modelPath + "': graph input: " + e.message);
  }
  if (graph.output_size() == 0)
    return makeError("model '" + modelPath + "': the graph has no outputs");

  builder.setInsertionPointToEnd(module.getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, "main", builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (size_t i = 0; i < argNames.size(); ++i) {
    values[argNames[i]] = entry->getArgument(i);
    func.setArgAttr(i, "kiln.name", builder.getStringAttr(argNames[i]));
  }
  builder.setInsertionPointToStart(entry);

  try {
    for (const auto &t : graph.initializer()) {
      loc = NameLoc::get(builder.getStringAttr(t.name()), fileLoc);
      DenseElementsAttr value = tensorAttr(ctx, t);
      values[t.name()] = builder.create<ConstantOp>(loc, value);
      // A specialised input keeps its argument; the generated code checks
      // that callers pass this value.
      for (size_t i = 0; i < argNames.size(); ++i)
        if (argNames[i] == t.name()) {
          if (value.getType() != argTypes[i])
            fail("specialised input '" + t.name() + "' has another shape than declared");
          func.setArgAttr(i, "kiln.specialized", value);
        }
    }
  } catch (const NodeError &e) {
    return makeError("model '" + modelPath + "': initializer: " + e.message);
  }

  const auto &handlers = handlerTable();
  for (int i = 0; i < graph.node_size(); ++i) {
    node = &graph.node(i);
    std::string label = node->name().empty()
                            ? node->op_type() + "_" + std::to_string(i)
                            : node->name();
    loc = NameLoc::get(builder.getStringAttr(label),
                       FileLineColLoc::get(&ctx, modelPath, i + 1, 0));
    try {
      auto it = handlers.find(handlerKey(*node));
      if (it == handlers.end())
        fail("unsupported operator");
      it->second(*this);
      for (int o = 0; o < node->output_size(); ++o)
        if (!node->output(o).empty() && !values.count(node->output(o)))
          fail("output " + std::to_string(o) + " was not produced");
    } catch (const NodeError &e) {
      std::string why = e.message;
      auto explain = [&]() {
        for (const std::string &out : node->output())
          if (auto it = unfolded.find(out); it != unfolded.end())
            return " (" + it->second + ")";
        for (const std::string &in : node->input())
          if (auto it = unfolded.find(in); it != unfolded.end())
            return " (input '" + in + "' is unknown at compile time: " + it->second + ")";
        return std::string();
      };
      why += explain();
      return makeError("model '" + modelPath + "': node '" + label + "' (" +
                       node->op_type() + "): " + why);
    }
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return makeError("model '" + modelPath + "': graph output '" +
                       out.name() + "' is not produced by any node");
    results.push_back(it->second);
    resultTypes.push_back(it->second.getType());
  }
  builder.setInsertionPointToEnd(entry);
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setType(builder.getFunctionType(argTypes, resultTypes));
  for (int i = 0; i < graph.output_size(); ++i)
    func.setResultAttr(i, "kiln.name",
                       builder.getStringAttr(graph.output(i).name()));

  // Shape subgraphs whose results only fed now-static shapes are dead.
  IRRewriter rewriter(&ctx);
  (void)runRegionDCE(rewriter, func.getBody());

  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      llvm::raw_string_ostream os(diagnostics);
      os << d.getLocation() << ": " << d << "\n";
      return success();
    });
    if (failed(verify(module)))
      return makeError("model '" + modelPath +
                       "': imported graph is invalid:\n" + diagnostics);
  }
  return std::move(owned);
}

namespace {

//===----------------------------------------------------------------------===//
// Handlers
//===----------------------------------------------------------------------===//

template <typename OpTy> void unary(Importer &im) {
  Value x = im.input(0);
  im.bind(0, im.create<OpTy>(x.getType(), x));
}

template <typename OpTy> void binary(Importer &im) {
  im.bind(0, im.create<OpTy>(im.outputType(0), im.input(0), im.input(1)));
}

/// Max/Min take any number of inputs; fold them pairwise.
template <typename OpTy> void variadic(Importer &im) {
  Value acc = im.input(0);
  for (size_t i = 1; i < im.numInputs(); ++i) {
    Value x = im.input(i);
    auto shape = broadcastShapes({shapeOf(acc), shapeOf(x)});
    if (!shape)
      fail("input shapes do not broadcast");
    auto type = RankedTensorType::get(
        *shape, cast<ShapedType>(acc.getType()).getElementType());
    acc = im.create<OpTy>(type, acc, x);
  }
  im.bind(0, acc);
}

/// Explicit [begin..., end...] pads for convolution and pooling.
SmallVector<int64_t> resolvePads(Importer &im, ArrayRef<int64_t> inputSpatial,
                                 ArrayRef<int64_t> kernel,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations) {
  size_t n = kernel.size();
  std::string autoPad = im.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    SmallVector<int64_t> pads = im.intsAttr("pads", SmallVector<int64_t>(2 * n, 0));
    if (pads.size() != 2 * n)
      fail("pads must have " + std::to_string(2 * n) + " values");
    return pads;
  }
  if (autoPad == "VALID")
    return SmallVector<int64_t>(2 * n, 0);
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    fail("unknown auto_pad '" + autoPad + "'");
  SmallVector<int64_t> pads(2 * n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t out = (inputSpatial[i] + strides[i] - 1) / strides[i];
    int64_t span = dilations[i] * (kernel[i] - 1) + 1;
    int64_t total =
        std::max<int64_t>((out - 1) * strides[i] + span - inputSpatial[i], 0);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[n + i] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

void checkLength(ArrayRef<int64_t> v, size_t n, const char *name) {
  if (v.size() != n)
    fail(std::string(name) + " must have " + std::to_string(n) + " values");
}

/// Spatial attributes of a conv or pool, as given (1-D or 2-D), expanded to
/// 2-D: a 1-D op is computed as 2-D with a unit height.
struct Spatial {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};

Spatial spatialAttrs(Importer &im, ArrayRef<int64_t> inputSpatial,
                     ArrayRef<int64_t> kernel) {
  size_t n = inputSpatial.size();
  if (n < 1 || n > 3)
    fail("only 1-D, 2-D and 3-D spatial ops are supported, got " + std::to_string(n) +
         "-D");
  Spatial s;
  auto strides = im.intsAttr("strides", SmallVector<int64_t>(n, 1));
  auto dilations = im.intsAttr("dilations", SmallVector<int64_t>(n, 1));
  checkLength(strides, n, "strides");
  checkLength(dilations, n, "dilations");
  auto pads = resolvePads(im, inputSpatial, kernel, strides, dilations);
  if (n >= 2) {
    s = {SmallVector<int64_t>(kernel), strides, dilations, pads};
  } else {
    s.kernel = {1, kernel[0]};
    s.strides = {1, strides[0]};
    s.dilations = {1, dilations[0]};
    s.pads = {0, pads[0], 0, pads[1]};
  }
  return s;
}

/// [N, C, L] -> [N, C, 1, L]; 4-D values pass through.
Value to2d(Importer &im, Value v) {
  ArrayRef<int64_t> s = shapeOf(v);
  return s.size() == 3 ? im.reshape(v, {s[0], s[1], 1, s[2]}) : v;
}

/// The 2-D result type for a node whose (1-D or 2-D) output type is known.
RankedTensorType resultAs2d(Importer &im) {
  RankedTensorType t = im.outputType(0);
  ArrayRef<int64_t> s = t.getShape();
  return s.size() == 3 ? RankedTensorType::get({s[0], s[1], 1, s[2]}, t.getElementType())
                       : t;
}

void importConv(Importer &im) {
  Value x = im.input(0), w = im.input(1), bias = im.optionalInput(2);
  size_t rank = shapeOf(x).size();
  if (rank < 3 || rank > 5 || shapeOf(w).size() != rank)
    fail("only 1-D, 2-D and 3-D convolution (rank 3 to 5 input and weight) is "
         "supported, got input rank " + std::to_string(rank));
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  if (auto ks = im.intsAttr("kernel_shape"); ks && *ks != kernel)
    fail("kernel_shape disagrees with the weight shape");
  Spatial s = spatialAttrs(im, shapeOf(x).drop_front(2), kernel);
  auto &b = im.b();
  int64_t group = im.intAttr("group", 1);
  if (Value q = quantizedConv(im, x, w, bias, s.strides, s.pads, s.dilations, group)) {
    im.bind(0, im.reshape(q, im.outputType(0).getShape()));
    return;
  }
  w = foldDequantized(im, w);
  Value y = im.create<ConvOp>(resultAs2d(im), to2d(im, x), to2d(im, w), bias,
                              b.getDenseI64ArrayAttr(s.strides),
                              b.getDenseI64ArrayAttr(s.pads),
                              b.getDenseI64ArrayAttr(s.dilations), b.getI64IntegerAttr(group),
                              /*channels_last=*/UnitAttr(), /*input_zero_point=*/IntegerAttr());
  im.bind(0, im.reshape(y, im.outputType(0).getShape()));
}

void importConvTranspose(Importer &im) {
  Value x = im.input(0), w = im.input(1), bias = im.optionalInput(2);
  size_t rank = shapeOf(x).size();
  if ((rank != 3 && rank != 4) || shapeOf(w).size() != rank)
    fail("only 1-D and 2-D transposed convolution is supported, got input rank " +
         std::to_string(rank));
  size_t n = rank - 2;
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  auto strides = im.intsAttr("strides", SmallVector<int64_t>(n, 1));
  auto dilations = im.intsAttr("dilations", SmallVector<int64_t>(n, 1));
  auto outPad = im.intsAttr("output_padding", SmallVector<int64_t>(n, 0));
  checkLength(strides, n, "strides");
  checkLength(dilations, n, "dilations");
  checkLength(outPad, n, "output_padding");
  ArrayRef<int64_t> in = shapeOf(x).drop_front(2);
  ArrayRef<int64_t> out = im.outputType(0).getShape().drop_front(2);
  std::string autoPad = im.stringAttr("auto_pad", "NOTSET");
  SmallVector<int64_t> begin(n, 0);
  if (auto pads = im.intsAttr("pads"); pads && autoPad == "NOTSET" &&
                                       !im.attr("output_shape")) {
    checkLength(*pads, 2 * n, "pads");
    begin.assign(pads->begin(), pads->begin() + n);
  } else if (autoPad != "VALID") {
    // Leading pads from the total the requested output size implies. The
    // total is negative when the output is larger than the natural size;
    // halves round down (as ONNX's reference), so the extra goes at the end.
    for (size_t i = 0; i < n; ++i) {
      int64_t total = strides[i] * (in[i] - 1) + outPad[i] +
                      (kernel[i] - 1) * dilations[i] + 1 - out[i];
      int64_t half = llvm::divideFloorSigned(total, 2);
      begin[i] = autoPad == "SAME_UPPER" ? half : total - half;
    }
  }
  auto &b = im.b();
  SmallVector<int64_t> s2 = n == 2 ? strides : SmallVector<int64_t>{1, strides[0]};
  SmallVector<int64_t> d2 = n == 2 ? dilations : SmallVector<int64_t>{1, dilations[0]};
  SmallVector<int64_t> p2 = n == 2 ? begin : SmallVector<int64_t>{0, begin[0]};
  Value y = im.create<ConvTransposeOp>(resultAs2d(im), to2d(im, x), to2d(im, w), bias,
                                       b.getDenseI64ArrayAttr(s2), b.getDenseI64ArrayAttr(p2),
                                       b.getDenseI64ArrayAttr(d2),
                                       b.getI64IntegerAttr(im.intAttr("group", 1)));
  im.bind(0, im.reshape(y, im.outputType(0).getShape()));
}

/// The spatial attributes of a pooling node, from its kernel_shape.
Spatial poolAttrs(Importer &im, Value x) {
  auto kernel = im.intsAttr("kernel_shape");
  if (!kernel)
    fail("missing required attribute 'kernel_shape'");
  if (shapeOf(x).size() != kernel->size() + 2)
    fail("kernel_shape must have one entry per spatial dimension");
  return spatialAttrs(im, shapeOf(x).drop_front(2), *kernel);
}

void importAvgPool(Importer &im) {
  Value x = im.input(0);
  Spatial s = poolAttrs(im, x);
  auto &b = im.b();
  Value y = im.create<AvgPoolOp>(resultAs2d(im), to2d(im, x),
                                 b.getDenseI64ArrayAttr(s.kernel),
                                 b.getDenseI64ArrayAttr(s.strides),
                                 b.getDenseI64ArrayAttr(s.pads),
                                 b.getBoolAttr(im.intAttr("count_include_pad", 0) != 0),
                                 /*channels_last=*/UnitAttr());
  im.bind(0, im.reshape(y, im.outputType(0).getShape()));
}

void importMaxPool(Importer &im) {
  Value x = im.input(0);
  im.rejectOutput(1, "Indices");
  if (im.intAttr("storage_order", 0) != 0)
    fail("storage_order=1 is only meaningful with the Indices output");
  Spatial s = poolAttrs(im, x);
  auto &b = im.b();
  Value y = im.create<MaxPoolOp>(resultAs2d(im), to2d(im, x),
                                 b.getDenseI64ArrayAttr(s.kernel),
                                 b.getDenseI64ArrayAttr(s.strides),
                                 b.getDenseI64ArrayAttr(s.pads),
                                 b.getDenseI64ArrayAttr(s.dilations),
                                 /*channels_last=*/UnitAttr());
  im.bind(0, im.reshape(y, im.outputType(0).getShape()));
}

void importGemm(Importer &im) {
  auto &b = im.b();
  if (im.intAttr("transA", 0) == 0 && ValueBuilder::elementOf(im.input(0)).isF32()) {
    GemmForm form{im.intAttr("transB", 0) != 0, im.floatAttr("alpha", 1.0f),
                  im.floatAttr("beta", 1.0f), im.optionalInput(2)};
    if (Value q = quantizedMatMul(im, im.input(0), im.input(1), form)) {
      if (cast<ShapedType>(q.getType()).getShape() != im.outputType(0).getShape())
        fail("C does not broadcast to the result");
      im.bind(0, q);
      return;
    }
  }
  im.bind(0, im.create<GemmOp>(
                 im.outputType(0), im.input(0), foldDequantized(im, im.input(1)),
                 im.optionalInput(2),
                 b.getBoolAttr(im.intAttr("transA", 0) != 0),
                 b.getBoolAttr(im.intAttr("transB", 0) != 0),
                 b.getF32FloatAttr(im.floatAttr("alpha", 1.0f)),
                 b.getF32FloatAttr(im.floatAttr("beta", 1.0f))));
}

void importMatMul(Importer &im) {
  Value a = im.input(0), bm = im.input(1);
  RankedTensorType outType = im.outputType(0);
  if (Value q = quantizedMatMul(im, a, bm)) {
    im.bind(0, im.reshape(q, outType.getShape()));
    return;
  }
  bm = foldDequantized(im, bm);
  if (shapeOf(a).empty() || shapeOf(bm).empty())
    fail("MatMul operands must have rank 1 or more");
  // numpy semantics: a 1-D operand is a row (lhs) or a column (rhs) vector.
  if (shapeOf(a).size() == 1)
    a = im.reshape(a, {1, shapeOf(a)[0]});
  if (shapeOf(bm).size() == 1)
    bm = im.reshape(bm, {shapeOf(bm)[0], 1});
  ArrayRef<int64_t> as = shapeOf(a), bs = shapeOf(bm);
  auto batch = broadcastShapes({as.drop_back(2), bs.drop_back(2)});
  if (!batch)
    fail("batch dimensions do not broadcast");
  if (as.back() != bs[bs.size() - 2])
    fail("inner dimensions differ: " + std::to_string(as.back()) + " vs " +
         std::to_string(bs[bs.size() - 2]));
  SmallVector<int64_t> shape = *batch;
  shape.push_back(as[as.size() - 2]);
  shape.push_back(bs.back());
  Value y = im.create<MatMulOp>(RankedTensorType::get(shape, outType.getElementType()), a, bm,
                                /*a_zero_point=*/IntegerAttr());
  im.bind(0, im.reshape(y, outType.getShape()));
}

void importSoftmax(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), shapeOf(x).size());
  im.bind(0, im.create<SoftmaxOp>(x.getType(), x, im.b().getI64IntegerAttr(axis),
                                  im.b().getBoolAttr(false)));
}

void importLayerNormWithStats(Importer &im);

void importLayerNorm(Importer &im) {
  Value x = im.input(0);
  if (im.hasOutput(1) || im.hasOutput(2))
    return importLayerNormWithStats(im);
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), shapeOf(x).size());
  auto &b = im.b();
  im.bind(0, im.create<LayerNormOp>(
                 x.getType(), x, im.input(1), im.optionalInput(2),
                 b.getI64IntegerAttr(axis),
                 b.getF32FloatAttr(im.floatAttr("epsilon", 1e-5f))));
}

void importBatchNormTraining(Importer &im);

void importBatchNorm(Importer &im) {
  if (im.intAttr("training_mode", 0) != 0)
    return importBatchNormTraining(im);
  im.rejectOutput(1, "running_mean");
  im.rejectOutput(2, "running_var");
  Value x = im.input(0);
  im.bind(0, im.create<BatchNormOp>(
                 x.getType(), x, im.input(1), im.input(2), im.input(3),
                 im.input(4),
                 im.b().getF32FloatAttr(im.floatAttr("epsilon", 1e-5f))));
}

/// Clip: constant limits go into kiln.clip; limits given at run time are data
/// and become max(x, min) and min(., max) in that order (min > max gives max).
void importClip(Importer &im) {
  Value x = im.input(0);
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool runtimeLo = im.hasInput(1) && !im.isConstantInput(1);
  bool runtimeHi = im.hasInput(2) && !im.isConstantInput(2);
  if (im.hasInput(1) && !runtimeLo)
    lo = im.constantScalar(1);
  if (im.hasInput(2) && !runtimeHi)
    hi = im.constantScalar(2);
  auto &b = im.b();
  auto scalarOperand = [&](size_t i) {
    Value v = im.input(i);
    if (cast<ShapedType>(v.getType()).getNumElements() != 1)
      fail("input " + std::to_string(i) + " must be a scalar");
    return im.reshape(v, {});
  };
  if (runtimeLo)
    x = im.create<MaxOp>(x.getType(), x, scalarOperand(1));
  bool constantLimit = (im.hasInput(1) && !runtimeLo) || (im.hasInput(2) && !runtimeHi);
  if (constantLimit || (!runtimeLo && !runtimeHi))
    x = im.create<ClipOp>(x.getType(), x, b.getF64FloatAttr(lo), b.getF64FloatAttr(hi));
  if (runtimeHi)
    x = im.create<MinOp>(x.getType(), x, scalarOperand(2));
  im.bind(0, x);
}

void importCast(Importer &im) {
  im.rejectAttr("saturate", "only the default applies");
  im.bind(0, im.create<CastOp>(im.outputType(0), im.input(0)));
}

/// Reshape, Flatten, Squeeze, Unsqueeze: the shape comes from inference.
void importReshape(Importer &im) {
  Value x = im.input(0);
  RankedTensorType type = im.outputType(0);
  if (type.getNumElements() != cast<ShapedType>(x.getType()).getNumElements())
    fail("the inferred output has a different element count");
  im.bind(0, im.reshape(x, type.getShape()));
}

void importIdentity(Importer &im) { im.bind(0, im.input(0)); }

void importConstant(Importer &im) {
  const onnx::NodeProto &n = im.current();
  if (n.attribute_size() != 1)
    fail("expects exactly one value attribute");
  const onnx::AttributeProto &a = n.attribute(0);
  MLIRContext &ctx = im.context();
  auto &b = im.b();
  DenseElementsAttr value;
  auto f32 = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  };
  auto i64 = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getI64Type());
  };
  if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR)
    value = tensorAttr(ctx, a.t());
  else if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT)
    value = DenseElementsAttr::get(f32({}), a.f());
  else if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT)
    value = DenseElementsAttr::get(i64({}), (int64_t)a.i());
  else if (a.name() == "value_floats" && a.type() == onnx::AttributeProto::FLOATS)
    value = DenseElementsAttr::get(
        f32({(int64_t)a.floats_size()}),
        ArrayRef<float>(a.floats().data(), a.floats_size()));
  else if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS)
    value = DenseElementsAttr::get(
        i64({(int64_t)a.ints_size()}),
        ArrayRef<int64_t>(a.ints().data(), a.ints_size()));
  else
    fail("attribute '" + a.name() + "' of type " +
         onnx::AttributeProto::AttributeType_Name(a.type()) +
         " is not supported");
  im.bind(0, im.create<ConstantOp>(value));
}

void importGlobalAveragePool(Importer &im) {
  im.bind(0, im.create<GlobalAveragePoolOp>(im.outputType(0), im.input(0),
                                                /*channels_last=*/UnitAttr()));
}

/// Constant indices (input `i`) are checked at compile time, so that a model
/// indexing out of range fails to compile, naming the node, instead of
/// failing every run. Index k (flat position) may address a dimension of
/// `extentOf(k)` elements, from -extent to extent - 1; a dynamic extent is
/// left to the run-time check.
void checkConstantIndices(Importer &im, size_t i, llvm::function_ref<int64_t(int64_t)> extentOf) {
  if (!im.isConstantInput(i))
    return;
  DenseElementsAttr indices = im.constantInput(i);
  if (!isa<IntegerType>(indices.getElementType()))
    return;
  int64_t k = 0;
  for (const APInt &value : indices.getValues<APInt>()) {
    int64_t index = value.getSExtValue(), extent = extentOf(k);
    if (!ShapedType::isDynamic(extent) && (index < -extent || index >= extent))
      fail("index " + std::to_string(index) + " (element " + std::to_string(k) + " of input " +
           std::to_string(i) + " '" + im.current().input(i) + "') is out of range for a dimension of " +
           std::to_string(extent) + " (valid: " + std::to_string(-extent) + " to " +
           std::to_string(extent - 1) + ")");
    if (indices.isSplat())
      break;
    ++k;
  }
}

void importGather(Importer &im) {
  Value data = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(data).size());
  checkConstantIndices(im, 1, [&](int64_t) { return shapeOf(data)[axis]; });
  im.bind(0, im.create<GatherOp>(im.outputType(0), data, im.input(1),
                                 im.b().getI64IntegerAttr(axis)));
}

void importTranspose(Importer &im) {
  Value x = im.input(0);
  int64_t rank = shapeOf(x).size();
  SmallVector<int64_t> reversed;
  for (int64_t i = rank - 1; i >= 0; --i)
    reversed.push_back(i);
  auto perm = im.intsAttr("perm", reversed);
  for (int64_t &p : perm)
    p = normalizeAxis(p, rank, "perm entry");
  im.bind(0, im.create<TransposeOp>(im.outputType(0), x,
                                    im.b().getDenseI64ArrayAttr(perm)));
}

void importSlice(Importer &im) {
  Value x = im.input(0);
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t rank = shape.size();
  std::vector<int64_t> starts = im.constantInts(1), ends = im.constantInts(2);
  std::vector<int64_t> axes, steps;
  if (im.hasInput(3))
    axes = im.constantInts(3);
  else
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  steps = im.hasInput(4) ? im.constantInts(4)
                         : std::vector<int64_t>(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    fail("starts, ends, axes and steps must have the same length");
  SmallVector<int64_t> outStarts(rank, 0), outSteps(rank, 1),
      outShape(shape.begin(), shape.end());
  std::set<int64_t> seen;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = normalizeAxis(axes[i], rank);
    if (!seen.insert(axis).second)
      fail("axis " + std::to_string(axis) + " is listed twice");
    int64_t dim = shape[axis], step = steps[i];
    if (step == 0)
      fail("step must be non-zero");
    int64_t start = starts[i], end = ends[i];
    if (start < 0)
      start = start < -dim ? 0 : start + dim;
    if (end < 0)
      end = end < -dim ? -1 : end + dim;
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    outStarts[axis] = count ? start : 0;
    outSteps[axis] = step;
    outShape[axis] = count;
  }
  RankedTensorType type = im.outputType(0);
  if (type.getShape() != ArrayRef<int64_t>(outShape))
    fail("computed slice shape disagrees with shape inference");
  auto &b = im.b();
  im.bind(0, im.create<SliceOp>(type, x, b.getDenseI64ArrayAttr(outStarts),
                                b.getDenseI64ArrayAttr(outSteps)));
}

void importConcat(Importer &im) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < im.numInputs(); ++i)
    inputs.push_back(im.input(i));
  if (inputs.empty())
    fail("expects at least one input");
  auto attr = im.attr("axis");
  if (!attr)
    fail("missing required attribute 'axis'");
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(inputs[0]).size());
  im.bind(0, im.create<ConcatOp>(im.outputType(0), inputs,
                                 im.b().getI64IntegerAttr(axis)));
}

void importShape(Importer &im) {
  Value x = im.input(0);
  int64_t rank = shapeOf(x).size();
  auto clampIndex = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clampIndex(im.intAttr("start", 0));
  int64_t end = clampIndex(im.intAttr("end", rank));
  end = std::max(start, end);
  auto type = RankedTensorType::get({end - start}, im.b().getI64Type());
  auto &b = im.b();
  im.bind(0, im.createOrFold<ShapeOp>(type, x, b.getI64IntegerAttr(start),
                                      b.getI64IntegerAttr(end)));
}

void importSplit(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(x).size());
  SmallVector<Type> types;
  for (int i = 0; i < im.current().output_size(); ++i)
    types.push_back(im.outputType(i));
  auto op = im.create<SplitOp>(types, x, im.b().getI64IntegerAttr(axis));
  for (int i = 0; i < im.current().output_size(); ++i)
    im.bind(i, op.getResult(i));
}

template <typename OpTy> void importReduce(Importer &im) {
  Value x = im.input(0);
  int64_t rank = shapeOf(x).size();
  std::vector<int64_t> axes;
  if (auto a = im.intsAttr("axes"))
    axes.assign(a->begin(), a->end());
  else if (im.hasInput(1))
    axes = im.constantInts(1);
  bool keepdims = im.intAttr("keepdims", 1) != 0;
  if (axes.empty() && im.intAttr("noop_with_empty_axes", 0)) {
    im.bind(0, x);
    return;
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  std::set<int64_t> sorted;
  for (int64_t a : axes)
    sorted.insert(normalizeAxis(a, rank));
  SmallVector<int64_t> norm(sorted.begin(), sorted.end());
  auto &b = im.b();
  im.bind(0, im.create<OpTy>(im.outputType(0), x, b.getDenseI64ArrayAttr(norm),
                             b.getBoolAttr(keepdims)));
}

/// An ONNX elementwise op lowered to kiln.pointwise: the table function and
/// the ONNX attributes that become its parameters, with their defaults.
Handler pointwise(const char *fn,
                  std::vector<std::pair<const char *, float>> params = {}) {
  return [fn = std::string(fn), params](Importer &im) {
    SmallVector<Value> inputs;
    for (size_t i = 0; i < im.numInputs(); ++i)
      inputs.push_back(im.input(i));
    SmallVector<Attribute> values;
    for (auto &[name, dflt] : params)
      values.push_back(im.b().getF64FloatAttr(im.floatAttr(name, dflt)));
    im.bind(0, im.create<PointwiseOp>(im.outputType(0), im.b().getStringAttr(fn),
                                      inputs, im.b().getArrayAttr(values)));
  };
}

void importIsInf(Importer &im) {
  auto &b = im.b();
  SmallVector<Attribute> params = {
      b.getF64FloatAttr(im.intAttr("detect_positive", 1) != 0),
      b.getF64FloatAttr(im.intAttr("detect_negative", 1) != 0)};
  im.bind(0, im.create<PointwiseOp>(im.outputType(0), b.getStringAttr("is_inf"),
                                    ValueRange{im.input(0)}, b.getArrayAttr(params)));
}

void importMod(Importer &im) {
  bool fmod = im.intAttr("fmod", 0) != 0;
  if (!fmod && isa<FloatType>(cast<ShapedType>(im.input(0).getType()).getElementType()))
    fail("fmod=0 is not defined for floating-point inputs");
  auto &b = im.b();
  im.bind(0, im.create<PointwiseOp>(
                 im.outputType(0), b.getStringAttr(fmod ? "fmod" : "mod"),
                 ValueRange{im.input(0), im.input(1)}, b.getArrayAttr({})));
}

void importBitShift(Importer &im) {
  std::string dir = im.stringAttr("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    fail("direction must be LEFT or RIGHT");
  auto &b = im.b();
  im.bind(0, im.create<PointwiseOp>(
                 im.outputType(0),
                 b.getStringAttr(dir == "LEFT" ? "bitshift_left" : "bitshift_right"),
                 ValueRange{im.input(0), im.input(1)}, b.getArrayAttr({})));
}

/// Sum and Mean: chained broadcasting adds (Mean then scales by 1/n).
void importSumOrMean(Importer &im, bool mean) {
  variadic<AddOp>(im);
  if (!mean || im.numInputs() == 1)
    return;
  auto &b = im.b();
  RankedTensorType type = im.outputType(0);
  // variadic<> bound output 0 to the sum; scale it.
  Value sum = im.lookup(im.current().output(0));
  im.bind(0, im.create<PointwiseOp>(
                 type, b.getStringAttr("scale"), ValueRange{sum},
                 b.getArrayAttr({b.getF64FloatAttr(1.0 / im.numInputs())})));
}

void importLogSoftmax(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), shapeOf(x).size());
  im.bind(0, im.create<SoftmaxOp>(x.getType(), x, im.b().getI64IntegerAttr(axis),
                                  im.b().getBoolAttr(true)));
}

void importArgReduce(Importer &im, bool max) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(x).size());
  auto &b = im.b();
  im.bind(0, im.create<ArgReduceOp>(im.outputType(0), x, b.getI64IntegerAttr(axis),
                                    b.getBoolAttr(im.intAttr("keepdims", 1) != 0),
                                    b.getBoolAttr(max),
                                    b.getBoolAttr(im.intAttr("select_last_index", 0) != 0)));
}

/// Inference-mode Dropout: the identity, and an all-true mask.
void importDropout(Importer &im) {
  if (im.hasInput(2)) {
    DenseElementsAttr training = im.constantInput(2);
    if (training.getNumElements() != 1)
      fail("training_mode must be a scalar");
    // Training with ratio 0 drops nothing: deterministic, hence supported.
    // The ratio matters only in training mode.
    if (*training.getValues<bool>().begin() &&
        !(im.hasInput(1) && im.constantScalar(1) == 0.0))
      fail("training_mode=true with a non-zero ratio is random, not supported");
  }
  Value x = im.input(0);
  im.bind(0, x);
  if (im.hasOutput(1)) {
    RankedTensorType maskType = im.outputType(1);
    im.bind(1, im.create<ConstantOp>(DenseElementsAttr::get(maskType, true)));
  }
}

/// A compile-time constant of the node's output 0 type from raw values.
template <typename T>
Value constantOf(Importer &im, RankedTensorType type, ArrayRef<T> values) {
  return im.create<ConstantOp>(DenseElementsAttr::get(type, values));
}

/// Fills a constant of `type` with `v` (converted to the element type).
DenseElementsAttr splatOf(RankedTensorType type, double v) {
  Type elt = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(elt)) {
    APFloat f(v);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return DenseElementsAttr::get(type, f);
  }
  if (elt.isInteger(1))
    return DenseElementsAttr::get(type, v != 0);
  auto it = cast<IntegerType>(elt);
  return DenseElementsAttr::get(
      type, APInt(it.getWidth(), static_cast<uint64_t>(static_cast<int64_t>(v)),
                  it.isSigned() || it.isSignless()));
}

/// Constant folding evaluates ConstantOfShape within its budget; a bigger
/// fill stays one splat constant here (cheap to hold, written out by code
/// generation), up to the budget for all folded values.
void importConstantOfShape(Importer &im) {
  RankedTensorType type = im.outputType(0);
  int64_t elementBytes = std::max<int64_t>(type.getElementTypeBitWidth() / 8, 1);
  int64_t elements = type.getNumElements();
  if (elements > im.constantBudget().modelBytes / elementBytes)
    fail("the result has " + std::to_string(elements) + " elements, more than the " +
         std::to_string(im.constantBudget().modelBytes) +
         " bytes a model's constants may take (--max-constant-bytes)");
  DenseElementsAttr value;
  if (const onnx::AttributeProto *a = im.attr("value")) {
    if (a->type() != onnx::AttributeProto::TENSOR)
      fail("attribute 'value' must be a tensor");
    value = tensorAttr(im.context(), a->t());
    if (value.getNumElements() != 1)
      fail("attribute 'value' must hold one element");
    im.bind(0, im.create<ConstantOp>(DenseElementsAttr::get(
                   type, *value.value_begin<Attribute>())));
    return;
  }
  im.bind(0, im.create<ConstantOp>(splatOf(type, 0.0)));
}

void importSize(Importer &im) {
  int64_t n = cast<ShapedType>(im.input(0).getType()).getNumElements();
  im.bind(0, constantOf<int64_t>(im, im.outputType(0), {n}));
}

/// Constant folding evaluates every Range it can (ConstantEvaluator.cpp);
/// one that reaches the importer is not known at compile time or too big.
void importRange(Importer &im) {
  fail("start, limit and delta must be constants and the range within the constant budget of " +
       im.constantBudget().describe());
}

void importEyeLike(Importer &im) {
  RankedTensorType type = im.outputType(0);
  if (type.getRank() != 2)
    fail("EyeLike needs a 2-D input");
  int64_t k = im.intAttr("k", 0), rows = type.getDimSize(0), cols = type.getDimSize(1);
  SmallVector<Attribute> values;
  Type elt = type.getElementType();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double v = j - i == k ? 1.0 : 0.0;
      values.push_back(isa<FloatType>(elt) ? Attribute(FloatAttr::get(elt, v))
                       : elt.isInteger(1)  ? Attribute(BoolAttr::get(&im.context(), v != 0))
                                           : Attribute(IntegerAttr::get(elt, (int64_t)v)));
    }
  im.bind(0, im.create<ConstantOp>(DenseElementsAttr::get(type, values)));
}

/// LayerNormalization with its Mean/InvStdDev outputs requested: composed
/// from reductions and pointwise ops so all three results are available.
void importLayerNormWithStats(Importer &im) {
  Value x = im.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), rank);
  float eps = im.floatAttr("epsilon", 1e-5f);
  auto &b = im.b();
  SmallVector<int64_t> axes, statShape(xType.getShape());
  for (int64_t d = axis; d < rank; ++d) {
    axes.push_back(d);
    statShape[d] = 1;
  }
  auto statType = RankedTensorType::get(statShape, xType.getElementType());
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  Value mean = im.create<ReduceMeanOp>(statType, x, axesAttr, b.getBoolAttr(true));
  Value d = im.create<SubOp>(xType, x, mean);
  Value sq = im.create<MulOp>(xType, d, d);
  Value var = im.create<ReduceMeanOp>(statType, sq, axesAttr, b.getBoolAttr(true));
  auto scalar = RankedTensorType::get({}, xType.getElementType());
  Value epsC = im.create<ConstantOp>(splatOf(scalar, eps));
  Value inv = im.create<ReciprocalOp>(statType, im.create<SqrtOp>(
      statType, im.create<AddOp>(statType, var, epsC)));
  Value y = im.create<MulOp>(xType, im.create<MulOp>(xType, d, inv), im.input(1));
  if (Value bias = im.optionalInput(2))
    y = im.create<AddOp>(xType, y, bias);
  im.bind(0, y);
  if (im.hasOutput(1))
    im.bind(1, im.reshape(mean, im.outputType(1).getShape()));
  if (im.hasOutput(2))
    im.bind(2, im.reshape(inv, im.outputType(2).getShape()));
}

void importDepthToSpace(Importer &im, bool toSpace) {
  Value x = im.input(0);
  ArrayRef<int64_t> s = shapeOf(x);
  if (s.size() != 4)
    fail("expects a rank-4 input");
  int64_t bs = im.intAttr("blocksize", 0);
  if (bs < 1)
    fail("blocksize must be positive");
  int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  auto elt = cast<ShapedType>(x.getType()).getElementType();
  auto transpose = [&](Value v, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(shapeOf(v)[p]);
    return im.create<TransposeOp>(RankedTensorType::get(shape, elt), v,
                                  im.b().getDenseI64ArrayAttr(perm)).getResult();
  };
  Value y;
  if (toSpace) {
    if (c % (bs * bs))
      fail("channels must be divisible by blocksize^2");
    bool crd = im.stringAttr("mode", "DCR") == "CRD";
    int64_t cc = c / (bs * bs);
    y = crd ? transpose(im.reshape(x, {n, cc, bs, bs, h, w}), {0, 1, 4, 2, 5, 3})
            : transpose(im.reshape(x, {n, bs, bs, cc, h, w}), {0, 3, 4, 1, 5, 2});
    y = im.reshape(y, {n, cc, h * bs, w * bs});
  } else {
    if (h % bs || w % bs)
      fail("height and width must be divisible by blocksize");
    y = transpose(im.reshape(x, {n, c, h / bs, bs, w / bs, bs}), {0, 3, 5, 1, 2, 4});
    y = im.reshape(y, {n, c * bs * bs, h / bs, w / bs});
  }
  im.bind(0, y);
}

void importTile(Importer &im) {
  std::vector<int64_t> repeats = im.constantInts(1);
  im.bind(0, im.create<TileOp>(im.outputType(0), im.input(0),
                               im.b().getDenseI64ArrayAttr(repeats)));
}

void importPad(Importer &im) {
  Value x = im.input(0);
  int64_t rank = shapeOf(x).size();
  std::vector<int64_t> given = im.constantInts(1);
  std::vector<int64_t> axes;
  if (im.hasInput(3))
    axes = im.constantInts(3);
  else
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  if (given.size() != 2 * axes.size())
    fail("pads must have two values per axis");
  SmallVector<int64_t> pads(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalizeAxis(axes[i], rank);
    pads[a] = given[i];
    pads[rank + a] = given[axes.size() + i];
    if (pads[a] < 0 || pads[rank + a] < 0)
      fail("negative pads (cropping) are not supported");
  }
  std::string mode = im.stringAttr("mode", "constant");
  auto &b = im.b();
  RankedTensorType outType = im.outputType(0);
  bool runtimeValue = mode == "constant" && im.hasInput(2) && !im.isConstantInput(2);
  double value = im.hasInput(2) && !runtimeValue ? im.constantScalar(2) : 0.0;
  Value y = im.create<PadOp>(outType, x, b.getDenseI64ArrayAttr(pads), b.getStringAttr(mode),
                             b.getF64FloatAttr(value));
  if (runtimeValue) {
    // A fill value given at run time is data: pad with zeros, then select the
    // value where a padded all-true mask says "outside".
    Value fill = im.input(2);
    if (cast<ShapedType>(fill.getType()).getNumElements() != 1)
      fail("constant_value must be a scalar");
    auto i1 = b.getI1Type();
    Value ones = im.create<ConstantOp>(
        DenseElementsAttr::get(RankedTensorType::get(shapeOf(x), i1), true));
    Value inside = im.create<PadOp>(RankedTensorType::get(outType.getShape(), i1), ones,
                                    b.getDenseI64ArrayAttr(pads), b.getStringAttr("constant"),
                                    b.getF64FloatAttr(0.0));
    y = im.create<WhereOp>(outType, inside, y, im.reshape(fill, {}));
  }
  im.bind(0, y);
}

void importTrilu(Importer &im) {
  Value x = im.input(0);
  if (shapeOf(x).size() < 2)
    fail("expects rank 2 or more");
  int64_t k = im.hasInput(1) ? (int64_t)im.constantScalar(1) : 0;
  auto &b = im.b();
  im.bind(0, im.create<TriluOp>(x.getType(), x, b.getI64IntegerAttr(k),
                                b.getBoolAttr(im.intAttr("upper", 1) != 0)));
}

void importCumSum(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis((int64_t)im.constantScalar(1), shapeOf(x).size());
  auto &b = im.b();
  im.bind(0, im.create<CumSumOp>(x.getType(), x, b.getI64IntegerAttr(axis),
                                 b.getBoolAttr(im.intAttr("exclusive", 0) != 0),
                                 b.getBoolAttr(im.intAttr("reverse", 0) != 0)));
}

void importHardmax(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), shapeOf(x).size());
  im.bind(0, im.create<HardmaxOp>(x.getType(), x, im.b().getI64IntegerAttr(axis)));
}

void importGatherElements(Importer &im) {
  Value data = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(data).size());
  checkConstantIndices(im, 1, [&](int64_t) { return shapeOf(data)[axis]; });
  im.bind(0, im.create<GatherElementsOp>(im.outputType(0), data, im.input(1),
                                         im.b().getI64IntegerAttr(axis)));
}

void importNllLoss(Importer &im, Value logProb) {
  auto &b = im.b();
  std::string reduction = im.stringAttr("reduction", "mean");
  IntegerAttr ignore;
  if (im.attr("ignore_index"))
    ignore = b.getI64IntegerAttr(im.intAttr("ignore_index", 0));
  im.bind(0, im.create<NllLossOp>(im.outputType(0), logProb, im.input(1),
                                  im.optionalInput(2), b.getStringAttr(reduction),
                                  ignore));
}

void importSoftmaxCrossEntropy(Importer &im) {
  Value scores = im.input(0);
  if (shapeOf(scores).size() < 2)
    fail("scores must have rank 2 or more");
  Value logProb = im.create<SoftmaxOp>(scores.getType(), scores,
                                       im.b().getI64IntegerAttr(1), im.b().getBoolAttr(true));
  importNllLoss(im, logProb);
  if (im.hasOutput(1))
    im.bind(1, logProb);
}

/// PRelu: before opset 7 a 1-D slope applied per channel (axis 1).
void importPRelu(Importer &im) {
  Value x = im.input(0), slope = im.input(1);
  ArrayRef<int64_t> xs = shapeOf(x), ss = shapeOf(slope);
  if (!broadcastShapes({xs, ss}) && ss.size() == 1 && xs.size() >= 2 && ss[0] == xs[1]) {
    SmallVector<int64_t> shape(xs.size() - 1, 1);
    shape[0] = ss[0];
    slope = im.reshape(slope, shape);
  }
  im.bind(0, im.create<PointwiseOp>(im.outputType(0), im.b().getStringAttr("prelu"),
                                    ValueRange{x, slope}, im.b().getArrayAttr({})));
}

void importGlobalMaxPool(Importer &im) {
  Value x = im.input(0);
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < (int64_t)shapeOf(x).size(); ++d)
    axes.push_back(d);
  auto &b = im.b();
  im.bind(0, im.create<ReduceMaxOp>(im.outputType(0), x, b.getDenseI64ArrayAttr(axes),
                                    b.getBoolAttr(true)));
}

/// InstanceNormalization: per (n, c) plane statistics, from reductions.
void importInstanceNorm(Importer &im) {
  Value x = im.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  if (rank < 3)
    fail("expects an input of rank 3 or more");
  auto &b = im.b();
  SmallVector<int64_t> axes, statShape(xType.getShape()), paramShape(rank - 1, 1);
  for (int64_t d = 2; d < rank; ++d) {
    axes.push_back(d);
    statShape[d] = 1;
  }
  paramShape[0] = xType.getDimSize(1);
  auto statType = RankedTensorType::get(statShape, xType.getElementType());
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  Value mean = im.create<ReduceMeanOp>(statType, x, axesAttr, b.getBoolAttr(true));
  Value d = im.create<SubOp>(xType, x, mean);
  Value var = im.create<ReduceMeanOp>(statType, im.create<MulOp>(xType, d, d), axesAttr,
                                      b.getBoolAttr(true));
  Value eps = im.create<ConstantOp>(
      splatOf(RankedTensorType::get({}, xType.getElementType()), im.floatAttr("epsilon", 1e-5f)));
  Value inv = im.create<ReciprocalOp>(statType, im.create<SqrtOp>(
      statType, im.create<AddOp>(statType, var, eps)));
  Value y = im.create<MulOp>(xType, im.create<MulOp>(xType, d, inv),
                             im.reshape(im.input(1), paramShape));
  im.bind(0, im.create<AddOp>(xType, y, im.reshape(im.input(2), paramShape)));
}

/// OneHot: where(indices (wrapped) == iota along `axis`, on, off).
void importOneHot(Importer &im) {
  Value indices = im.input(0);
  RankedTensorType outType = im.outputType(0);
  int64_t rank = outType.getRank();
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), rank);
  int64_t depth = (int64_t)im.constantScalar(1);
  if (cast<ShapedType>(im.input(2).getType()).getNumElements() != 2)
    fail("values must hold [off, on]");
  auto &b = im.b();
  auto i64 = b.getI64Type();
  ArrayRef<int64_t> is = shapeOf(indices);
  auto idxType = RankedTensorType::get(is, i64);
  Value idx = im.create<CastOp>(idxType, indices);
  // Negative indices count from the end.
  auto scalarI64 = RankedTensorType::get({}, i64);
  Value zero = im.create<ConstantOp>(DenseElementsAttr::get(scalarI64, int64_t(0)));
  Value depthC = im.create<ConstantOp>(DenseElementsAttr::get(scalarI64, depth));
  auto boolType = RankedTensorType::get(is, b.getI1Type());
  Value negative = im.create<LessOp>(boolType, idx, zero);
  idx = im.create<WhereOp>(idxType, negative, im.create<AddOp>(idxType, idx, depthC), idx);
  SmallVector<int64_t> expanded(is), iotaShape(rank, 1);
  expanded.insert(expanded.begin() + axis, 1);
  iotaShape[axis] = depth;
  SmallVector<int64_t> iota;
  for (int64_t i = 0; i < depth; ++i)
    iota.push_back(i);
  Value range = im.create<ConstantOp>(
      DenseElementsAttr::get(RankedTensorType::get(iotaShape, i64), ArrayRef<int64_t>(iota)));
  Value hit = im.create<EqualOp>(RankedTensorType::get(outType.getShape(), b.getI1Type()),
                                 im.reshape(idx, expanded), range);
  // values = [off, on] is data: split it at run time (folded when constant).
  Value values = im.reshape(im.input(2), {2});
  auto scalarType = RankedTensorType::get({}, outType.getElementType());
  auto pick = [&](int64_t i) {
    Value at = im.create<ConstantOp>(DenseElementsAttr::get(scalarI64, i));
    return im.createOrFold<GatherOp>(scalarType, values, at, b.getI64IntegerAttr(0));
  };
  im.bind(0, im.create<WhereOp>(outType, hit, pick(1), pick(0)));
}

/// Scale and zero point of a (de)quantisation, reshaped for per-axis use.
std::pair<Value, Value> quantParams(Importer &im, Value x, Type zeroPointType) {
  Value scale = im.input(1);
  int64_t rank = shapeOf(x).size();
  auto &b = im.b();
  Value zp = im.optionalInput(2);
  // ONNX asks for equal shapes; [] against [1] is let through.
  if (zp && cast<ShapedType>(zp.getType()).getNumElements() !=
                cast<ShapedType>(scale.getType()).getNumElements())
    fail("the zero point has shape " + dimsText(shapeOf(zp)) + ", the scale " +
         dimsText(shapeOf(scale)) + " (they must match)");
  if (!zp)
    zp = im.create<ConstantOp>(splatOf(RankedTensorType::get({}, zeroPointType), 0.0));
  if (shapeOf(scale).size() == 1 && rank > 0) {
    int64_t axis = normalizeAxis(im.intAttr("axis", 1), rank);
    if (shapeOf(scale)[0] != shapeOf(x)[axis])
      fail("the scale has " + std::to_string(shapeOf(scale)[0]) + " entries for axis " +
           std::to_string(axis) + " of size " + std::to_string(shapeOf(x)[axis]));
    SmallVector<int64_t> shape(rank - axis, 1);
    shape[0] = shapeOf(scale)[0];
    scale = im.reshape(scale, shape);
    if (shapeOf(zp).size() == 1)
      zp = im.reshape(zp, shape);
  }
  (void)b;
  return {scale, zp};
}

void importQuantizeLinear(Importer &im) {
  Value x = im.input(0);
  RankedTensorType outType = im.outputType(0);
  auto [scale, zp] = quantParams(im, x, outType.getElementType());
  auto &b = im.b();
  im.bind(0, im.create<PointwiseOp>(outType, b.getStringAttr("quantize_linear"),
                                    ValueRange{x, scale, zp}, b.getArrayAttr({})));
}

void importDequantizeLinear(Importer &im) {
  Value x = im.input(0);
  auto [scale, zp] = quantParams(im, x, cast<ShapedType>(x.getType()).getElementType());
  auto &b = im.b();
  im.bind(0, im.create<PointwiseOp>(im.outputType(0), b.getStringAttr("dequantize_linear"),
                                    ValueRange{x, scale, zp}, b.getArrayAttr({})));
}

void importTopK(Importer &im) {
  Value x = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", -1), shapeOf(x).size());
  if (im.intAttr("sorted", 1) == 0)
    fail("sorted=0 is not supported (the order of results would be unspecified)");
  (void)im.constantScalar(1); // k is reflected in the inferred result shapes.
  auto op = im.create<TopKOp>(TypeRange{im.outputType(0), im.outputType(1)}, x,
                              im.b().getI64IntegerAttr(axis),
                              im.b().getBoolAttr(im.intAttr("largest", 1) != 0));
  im.bind(0, op.getValues());
  im.bind(1, op.getIndices());
}

void importScatterElements(Importer &im) {
  Value data = im.input(0);
  int64_t axis = normalizeAxis(im.intAttr("axis", 0), shapeOf(data).size());
  checkConstantIndices(im, 1, [&](int64_t) { return shapeOf(data)[axis]; });
  std::string reduction = im.stringAttr("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul")
    fail("reduction '" + reduction + "' is not supported");
  auto &b = im.b();
  im.bind(0, im.create<ScatterElementsOp>(im.outputType(0), data, im.input(1), im.input(2),
                                          b.getI64IntegerAttr(axis), b.getStringAttr(reduction)));
}

/// GatherND and ScatterND: the last dimension of the indices holds tuples
/// whose component c addresses dimension `batchDims + c` of the data.
/// Their shapes are checked here too: ONNX's shape inference of ScatterND
/// does not check them.
void checkTupleIndices(Importer &im, int64_t batchDims) {
  ArrayRef<int64_t> data = shapeOf(im.input(0)), indices = shapeOf(im.input(1));
  if (indices.empty())
    fail("the indices must have rank >= 1");
  int64_t tuple = indices.back();
  if (batchDims < 0 || (batchDims > 0 && batchDims >= int64_t(std::min(data.size(), indices.size()))))
    fail("batch_dims " + std::to_string(batchDims) +
         " must be at least 0 and less than the ranks of data and indices");
  if (tuple < 1 || batchDims + tuple > int64_t(data.size()))
    fail("index tuples of length " + std::to_string(tuple) + " do not fit data of rank " +
         std::to_string(data.size()) +
         (batchDims ? " after " + std::to_string(batchDims) + " batch dimensions" : ""));
  checkConstantIndices(im, 1, [&](int64_t k) { return data[batchDims + k % tuple]; });
}

void importScatterND(Importer &im) {
  std::string reduction = im.stringAttr("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul")
    fail("reduction '" + reduction + "' is not supported");
  checkTupleIndices(im, 0);
  // updates: indices.shape[:-1] + data.shape[tuple length:].
  ArrayRef<int64_t> data = shapeOf(im.input(0)), indices = shapeOf(im.input(1));
  SmallVector<int64_t> expected(indices.begin(), indices.end() - 1);
  expected.append(data.begin() + indices.back(), data.end());
  if (shapeOf(im.input(2)) != ArrayRef<int64_t>(expected))
    fail("updates have shape " + dimsText(shapeOf(im.input(2))) + "; indices and data need " +
         dimsText(expected));
  im.bind(0, im.create<ScatterNDOp>(im.outputType(0), im.input(0), im.input(1), im.input(2),
                                    im.b().getStringAttr(reduction)));
}

void importGatherND(Importer &im) {
  checkTupleIndices(im, im.intAttr("batch_dims", 0));
  im.bind(0, im.create<GatherNDOp>(im.outputType(0), im.input(0), im.input(1),
                                   im.b().getI64IntegerAttr(im.intAttr("batch_dims", 0))));
}

void importResize(Importer &im) {
  Value x = im.input(0);
  ArrayRef<int64_t> in = shapeOf(x);
  RankedTensorType outType = im.outputType(0);
  ArrayRef<int64_t> out = outType.getShape();
  auto &b = im.b();
  auto floats = [&](size_t i) {
    SmallVector<double> v;
    DenseElementsAttr a = im.constantInput(i);
    if (!isa<FloatType>(a.getElementType()))
      fail("input " + std::to_string(i) + " must be a floating-point tensor");
    for (const APFloat &f : a.getValues<APFloat>())
      v.push_back(f.convertToDouble());
    return v;
  };
  SmallVector<double> scales;
  if (im.hasInput(2) && cast<ShapedType>(im.input(2).getType()).getNumElements() > 0)
    scales = floats(2);
  else
    for (size_t d = 0; d < in.size(); ++d)
      scales.push_back(in[d] ? double(out[d]) / double(in[d]) : 1.0);
  if (scales.size() != in.size())
    fail("scales must have one value per dimension");
  SmallVector<double> roi;
  std::string ctm = im.stringAttr("coordinate_transformation_mode", "half_pixel");
  if (ctm == "tf_crop_and_resize")
    roi = floats(1);
  std::string mode = im.stringAttr("mode", "nearest");
  auto f64s = [&](ArrayRef<double> v) {
    SmallVector<Attribute> attrs;
    for (double d : v)
      attrs.push_back(b.getF64FloatAttr(d));
    return b.getArrayAttr(attrs);
  };
  im.bind(0, im.create<ResizeOp>(
                 outType, x, b.getStringAttr(mode), b.getStringAttr(ctm),
                 b.getStringAttr(im.stringAttr("nearest_mode", "round_prefer_floor")),
                 b.getF64FloatAttr(im.floatAttr("cubic_coeff_a", -0.75f)),
                 b.getBoolAttr(im.intAttr("exclude_outside", 0) != 0),
                 b.getF64FloatAttr(im.floatAttr("extrapolation_value", 0.0f)),
                 f64s(scales), f64s(roi)));
}

/// Upsample (deprecated): out[i] = in[floor(i / scale)] (nearest) or
/// linear interpolation, both with asymmetric coordinates.
void importUpsample(Importer &im) {
  Value x = im.input(0);
  RankedTensorType outType = im.outputType(0);
  DenseElementsAttr scalesAttr = im.constantInput(1);
  auto &b = im.b();
  SmallVector<Attribute> scales;
  for (const APFloat &f : scalesAttr.getValues<APFloat>())
    scales.push_back(b.getF64FloatAttr(f.convertToDouble()));
  if (scales.size() != shapeOf(x).size())
    fail("scales must have one value per dimension");
  std::string mode = im.stringAttr("mode", "nearest");
  im.bind(0, im.create<ResizeOp>(
                 outType, x, b.getStringAttr(mode == "bilinear" ? "linear" : mode),
                 b.getStringAttr("asymmetric"), b.getStringAttr("floor"),
                 b.getF64FloatAttr(-0.75), b.getBoolAttr(false), b.getF64FloatAttr(0.0),
                 b.getArrayAttr(scales), b.getArrayAttr({})));
}

/// Hann, Hamming and Blackman windows: constants of the requested size.
Handler windowFunction(std::vector<double> cosineTerms) {
  return [cosineTerms](Importer &im) {
    RankedTensorType type = im.outputType(0);
    int64_t size = (int64_t)im.constantScalar(0);
    if (size < 0 || size != type.getNumElements())
      fail("size disagrees with the inferred output");
    double n = im.intAttr("periodic", 1) ? size : size - 1;
    SmallVector<Attribute> values;
    Type elt = type.getElementType();
    for (int64_t i = 0; i < size; ++i) {
      double v = 0;
      for (size_t k = 0; k < cosineTerms.size(); ++k)
        v += cosineTerms[k] * (n == 0 ? 1.0 : std::cos(2 * M_PI * k * i / n));
      v = static_cast<float>(v); // the reference computes in float32
      values.push_back(isa<FloatType>(elt) ? Attribute(FloatAttr::get(elt, v))
                                           : Attribute(IntegerAttr::get(elt, (int64_t)v)));
    }
    im.bind(0, im.create<ConstantOp>(DenseElementsAttr::get(type, values)));
  };
}

/// Elementwise arithmetic on values of one type, for ops imported as
/// compositions (training-mode ops, optimisers).
struct Arith {
  Importer &im;
  Type elt;
  Value scalar(double v) {
    return im.create<ConstantOp>(splatOf(RankedTensorType::get({}, elt), v));
  }
  RankedTensorType typeOf(Value a, Value b) {
    auto shape = broadcastShapes({shapeOf(a), shapeOf(b)});
    if (!shape)
      fail("operand shapes do not broadcast");
    return RankedTensorType::get(*shape, elt);
  }
  Value add(Value a, Value b) { return im.create<AddOp>(typeOf(a, b), a, b); }
  Value sub(Value a, Value b) { return im.create<SubOp>(typeOf(a, b), a, b); }
  Value mul(Value a, Value b) { return im.create<MulOp>(typeOf(a, b), a, b); }
  Value div(Value a, Value b) { return im.create<DivOp>(typeOf(a, b), a, b); }
  Value sqrt(Value a) { return im.create<SqrtOp>(a.getType(), a); }
  Value pow(Value a, Value b) { return im.create<PowOp>(typeOf(a, b), a, b); }
  /// `cond ? a : b` for rank-0 operands.
  Value select(Value cond, Value a, Value b) { return im.create<WhereOp>(typeOf(a, b), cond, a, b); }
  /// A scalar input of any numeric type, as a rank-0 value of `elt`.
  Value scalarInput(size_t i) {
    Value v = im.input(i);
    if (cast<ShapedType>(v.getType()).getNumElements() != 1)
      fail("input " + std::to_string(i) + " must be a scalar");
    v = im.reshape(v, {});
    if (cast<ShapedType>(v.getType()).getElementType() != elt)
      v = im.create<CastOp>(RankedTensorType::get({}, elt), v);
    return v;
  }
};

/// Optimisers of the ai.onnx.preview.training domain, as the plain maths
/// their specifications give. R (learning rate) and T (step) are data: when
/// both are constants the step factors are computed in double at compile
/// time, otherwise in the graph.
void importOptimizer(Importer &im, const std::string &kind) {
  bool constantSchedule = im.isConstantInput(0) && im.isConstantInput(1);
  double rate = constantSchedule ? im.constantScalar(0) : 0.0;
  double step = constantSchedule ? im.constantScalar(1) : 0.0;
  size_t groups = kind == "Momentum" ? 3 : kind == "Adagrad" ? 3 : 4;
  if ((im.numInputs() - 2) % groups)
    fail("expects R, T and " + std::to_string(groups) + " tensors per parameter");
  size_t n = (im.numInputs() - 2) / groups;
  Type elt = cast<ShapedType>(im.input(2).getType()).getElementType();
  Arith a{im, elt};
  double norm = im.floatAttr("norm_coefficient", 0.0f);
  // The learning rate and step as graph values (folded when constant).
  Value rateV = constantSchedule ? a.scalar(rate) : a.scalarInput(0);
  Value stepV = constantSchedule ? a.scalar(step) : a.scalarInput(1);
  auto stepPositive = [&]() -> Value {
    Value zero = a.scalar(0.0);
    return im.create<GreaterOp>(RankedTensorType::get({}, im.b().getI1Type()), stepV, zero);
  };
  for (size_t i = 0; i < n; ++i) {
    Value x = im.input(2 + i), g = im.input(2 + n + i);
    Value greg = a.add(a.mul(a.scalar(norm), x), g);
    if (kind == "Adagrad") {
      Value h = im.input(2 + 2 * n + i);
      double decay = im.floatAttr("decay_factor", 0.0f);
      Value r = constantSchedule
                    ? a.scalar(rate / (1 + step * decay))
                    : a.div(rateV, a.add(a.scalar(1.0), a.mul(stepV, a.scalar(decay))));
      Value hNew = a.add(h, a.mul(greg, greg));
      Value adaptive = a.add(a.sqrt(hNew), a.scalar(im.floatAttr("epsilon", 1e-6f)));
      im.bind(i, a.sub(x, a.div(a.mul(r, greg), adaptive)));
      im.bind(n + i, hNew);
    } else if (kind == "Momentum") {
      Value v = im.input(2 + 2 * n + i);
      double alpha = im.floatAttr("alpha", 0.0f), beta = im.floatAttr("beta", 0.0f);
      Value betaAdj = constantSchedule ? a.scalar(step > 0 ? beta : 1.0)
                                       : a.select(stepPositive(), a.scalar(beta), a.scalar(1.0));
      Value vNew = a.add(a.mul(a.scalar(alpha), v), a.mul(betaAdj, greg));
      std::string mode = im.stringAttr("mode", "standard");
      Value delta = mode == "nesterov" ? a.add(greg, a.mul(a.scalar(alpha), vNew)) : vNew;
      im.bind(i, a.sub(x, a.mul(rateV, delta)));
      im.bind(n + i, vNew);
    } else {
      Value v = im.input(2 + 2 * n + i), h = im.input(2 + 3 * n + i);
      double alpha = im.floatAttr("alpha", 0.9f), beta = im.floatAttr("beta", 0.999f);
      Value vNew = a.add(a.mul(a.scalar(alpha), v), a.mul(a.scalar(1 - alpha), greg));
      Value hNew = a.add(a.mul(a.scalar(beta), h), a.mul(a.scalar(1 - beta), a.mul(greg, greg)));
      Value hSqrt = a.add(a.sqrt(hNew), a.scalar(im.floatAttr("epsilon", 1e-6f)));
      Value r;
      if (constantSchedule) {
        r = a.scalar(step > 0 ? rate * std::sqrt(1 - std::pow(beta, step)) /
                                    (1 - std::pow(alpha, step))
                              : rate);
      } else {
        Value one = a.scalar(1.0);
        Value corrected = a.div(a.mul(rateV, a.sqrt(a.sub(one, a.pow(a.scalar(beta), stepV)))),
                                a.sub(one, a.pow(a.scalar(alpha), stepV)));
        r = a.select(stepPositive(), corrected, rateV);
      }
      Value xNew = a.sub(x, a.mul(r, a.div(vNew, hSqrt)));
      double post = im.floatAttr("norm_coefficient_post", 0.0f);
      im.bind(i, a.mul(a.scalar(1 - post), xNew));
      im.bind(n + i, vNew);
      im.bind(2 * n + i, hNew);
    }
  }
}

/// BatchNormalization with training_mode=1: normalise with the batch's
/// statistics and update the running ones.
void importBatchNormTraining(Importer &im) {
  Value x = im.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  Arith a{im, xType.getElementType()};
  auto &b = im.b();
  SmallVector<int64_t> axes = {0}, statShape(rank, 1), paramShape(rank - 1, 1);
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  statShape[1] = xType.getDimSize(1);
  paramShape[0] = xType.getDimSize(1);
  auto statType = RankedTensorType::get(statShape, a.elt);
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  Value mean = im.create<ReduceMeanOp>(statType, x, axesAttr, b.getBoolAttr(true));
  Value d = a.sub(x, mean);
  Value var = im.create<ReduceMeanOp>(statType, a.mul(d, d), axesAttr, b.getBoolAttr(true));
  double eps = im.floatAttr("epsilon", 1e-5f), momentum = im.floatAttr("momentum", 0.9f);
  Value y = a.div(d, a.sqrt(a.add(var, a.scalar(eps))));
  y = a.add(a.mul(y, im.reshape(im.input(1), paramShape)), im.reshape(im.input(2), paramShape));
  im.bind(0, y);
  SmallVector<int64_t> channels = {xType.getDimSize(1)};
  if (im.hasOutput(1))
    im.bind(1, a.add(a.mul(im.input(3), a.scalar(momentum)),
                     a.mul(im.reshape(mean, channels), a.scalar(1 - momentum))));
  if (im.hasOutput(2))
    im.bind(2, a.add(a.mul(im.input(4), a.scalar(momentum)),
                     a.mul(im.reshape(var, channels), a.scalar(1 - momentum))));
}

const llvm::StringMap<Handler> &handlerTable() {
  static const llvm::StringMap<Handler> table = [] {
    llvm::StringMap<Handler> t = {
      {"Abs", unary<AbsOp>},
      {"Acos", pointwise("acos")},
      {"Acosh", pointwise("acosh")},
      {"And", pointwise("and")},
      {"ArgMax", [](Importer &im) { importArgReduce(im, true); }},
      {"ArgMin", [](Importer &im) { importArgReduce(im, false); }},
      {"AveragePool", importAvgPool},
      {"CastLike", importCast},
      {"ConvTranspose", importConvTranspose},
      {"ConstantOfShape", importConstantOfShape},
      {"CumSum", importCumSum},
      {"DepthToSpace", [](Importer &im) { importDepthToSpace(im, true); }},
      {"Expand", [](Importer &im) {
         im.bind(0, im.create<ExpandOp>(im.outputType(0), im.input(0)));
       }},
      {"EyeLike", importEyeLike},
      {"GatherElements", importGatherElements},
      {"Hardmax", importHardmax},
      {"NegativeLogLikelihoodLoss", [](Importer &im) { importNllLoss(im, im.input(0)); }},
      {"Pad", importPad},
      {"Range", importRange},
      {"Size", importSize},
      {"SoftmaxCrossEntropyLoss", importSoftmaxCrossEntropy},
      {"SpaceToDepth", [](Importer &im) { importDepthToSpace(im, false); }},
      {"Tile", importTile},
      {"Trilu", importTrilu},
      {"Asin", pointwise("asin")},
      {"Asinh", pointwise("asinh")},
      {"Atan", pointwise("atan")},
      {"Atanh", pointwise("atanh")},
      {"BitShift", importBitShift},
      {"Ceil", pointwise("ceil")},
      {"Celu", pointwise("celu", {{"alpha", 1.0f}})},
      {"Cos", pointwise("cos")},
      {"Cosh", pointwise("cosh")},
      {"Dropout", importDropout},
      {"Elu", pointwise("elu", {{"alpha", 1.0f}})},
      {"Floor", pointwise("floor")},
      {"GreaterOrEqual", pointwise("greater_equal")},
      {"HardSigmoid", pointwise("hard_sigmoid", {{"alpha", 0.2f}, {"beta", 0.5f}})},
      {"HardSwish", pointwise("hard_swish")},
      {"IsInf", importIsInf},
      {"IsNaN", pointwise("is_nan")},
      {"LeakyRelu", pointwise("leaky_relu", {{"alpha", 0.01f}})},
      {"LessOrEqual", pointwise("less_equal")},
      {"LogSoftmax", importLogSoftmax},
      {"Mean", [](Importer &im) { importSumOrMean(im, true); }},
      {"Mod", importMod},
      {"Not", pointwise("not")},
      {"Or", pointwise("or")},
      {"PRelu", importPRelu},
      {"GatherND", importGatherND},
      {"GlobalMaxPool", importGlobalMaxPool},
      {"InstanceNormalization", importInstanceNorm},
      {"OneHot", importOneHot},
      {"QuantizeLinear", importQuantizeLinear},
      {"DequantizeLinear", importDequantizeLinear},
      {"Resize", importResize},
      {"RNN", importRnn},
      {"GRU", importGru},
      {"LSTM", importLstm},
      {"ai.onnx.preview.training.Adagrad", [](Importer &im) { importOptimizer(im, "Adagrad"); }},
      {"ai.onnx.preview.training.Adam", [](Importer &im) { importOptimizer(im, "Adam"); }},
      {"ai.onnx.preview.training.Momentum", [](Importer &im) { importOptimizer(im, "Momentum"); }},
      {"HannWindow", windowFunction({0.5, -0.5})},
      {"HammingWindow", windowFunction({25.0 / 46.0, -(1 - 25.0 / 46.0)})},
      {"BlackmanWindow", windowFunction({0.42, -0.5, 0.08})},
      {"Upsample", importUpsample},
      {"Scatter", importScatterElements},
      {"ScatterElements", importScatterElements},
      {"ScatterND", importScatterND},
      {"TopK", importTopK},
      {"ReduceL1", importReduce<ReduceL1Op>},
      {"ReduceL2", importReduce<ReduceL2Op>},
      {"ReduceLogSum", importReduce<ReduceLogSumOp>},
      {"ReduceLogSumExp", importReduce<ReduceLogSumExpOp>},
      {"ReduceMin", importReduce<ReduceMinOp>},
      {"ReduceProd", importReduce<ReduceProdOp>},
      {"ReduceSumSquare", importReduce<ReduceSumSquareOp>},
      {"Round", pointwise("round")},
      {"Selu", pointwise("selu", {{"alpha", 1.67326319217681884765625f},
                                  {"gamma", 1.05070102214813232421875f}})},
      {"Shrink", pointwise("shrink", {{"bias", 0.0f}, {"lambd", 0.5f}})},
      {"Sign", pointwise("sign")},
      {"Sin", pointwise("sin")},
      {"Sinh", pointwise("sinh")},
      {"Softplus", pointwise("softplus")},
      {"Softsign", pointwise("softsign")},
      {"Sum", [](Importer &im) { importSumOrMean(im, false); }},
      {"Tan", pointwise("tan")},
      {"ThresholdedRelu", pointwise("thresholded_relu", {{"alpha", 1.0f}})},
      {"Xor", pointwise("xor")},
      {"Add", binary<AddOp>},
      {"BatchNormalization", importBatchNorm},
      {"Cast", importCast},
      {"Clip", importClip},
      {"Concat", importConcat},
      {"Constant", importConstant},
      {"Conv", importConv},
      {"Div", binary<DivOp>},
      {"Equal", binary<EqualOp>},
      {"Erf", unary<ErfOp>},
      {"Exp", unary<ExpOp>},
      {"Flatten", importReshape},
      {"Gather", importGather},
      {"Gemm", importGemm},
      {"GlobalAveragePool", importGlobalAveragePool},
      {"Greater", binary<GreaterOp>},
      {"Identity", importIdentity},
      {"LayerNormalization", importLayerNorm},
      {"Less", binary<LessOp>},
      {"Log", unary<LogOp>},
      {"MatMul", importMatMul},
      {"Max", variadic<MaxOp>},
      {"MaxPool", importMaxPool},
      {"Min", variadic<MinOp>},
      {"Mul", binary<MulOp>},
      {"Neg", unary<NegOp>},
      {"Pow", binary<PowOp>},
      {"Reciprocal", unary<ReciprocalOp>},
      {"ReduceMax", importReduce<ReduceMaxOp>},
      {"ReduceMean", importReduce<ReduceMeanOp>},
      {"ReduceSum", importReduce<ReduceSumOp>},
      {"Relu", unary<ReluOp>},
      {"Reshape", importReshape},
      {"Shape", importShape},
      {"Sigmoid", unary<SigmoidOp>},
      {"Slice", importSlice},
      {"Softmax", importSoftmax},
      {"Split", importSplit},
      {"Sqrt", unary<SqrtOp>},
      {"Squeeze", importReshape},
      {"Sub", binary<SubOp>},
      {"Tanh", unary<TanhOp>},
      {"Transpose", importTranspose},
      {"Unsqueeze", importReshape},
      {"Where", [](Importer &im) {
         im.bind(0, im.create<WhereOp>(im.outputType(0), im.input(0),
                                       im.input(1), im.input(2)));
       }},
  };
    addQuantizedHandlers(t);
    addCompositeHandlers(t);
    return t;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// Validation and normalisation with the ONNX library
//===----------------------------------------------------------------------===//

/// The handler-table key of a node: op type, prefixed by a non-default domain.
std::string handlerKey(const onnx::NodeProto &n) {
  return isDefaultDomain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
}

using UnsupportedOps = std::map<std::string, std::vector<std::string>>;

/// Collects unsupported op types and their nodes, subgraphs included.
void collectUnsupportedOps(const onnx::GraphProto &graph, UnsupportedOps &unsupported) {
  const auto &table = handlerTable();
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &n = graph.node(i);
    std::string type = handlerKey(n);
    bool structure = isDefaultDomain(n.domain()) && isStructureOp(n.op_type());
    if (!table.count(type) && !structure)
      unsupported[type].push_back(
          n.name().empty() ? "#" + std::to_string(i) : n.name());
    for (const auto &a : n.attribute()) {
      if (a.has_g())
        collectUnsupportedOps(a.g(), unsupported);
      for (const auto &g : a.graphs())
        collectUnsupportedOps(g, unsupported);
    }
  }
}

/// Names every unsupported op type and its nodes in one message.
Error checkSupportedOps(const onnx::GraphProto &graph, const std::string &path) {
  UnsupportedOps unsupported;
  collectUnsupportedOps(graph, unsupported);
  if (unsupported.empty())
    return Error::success();
  std::string msg = "model '" + path + "': unsupported operators: ";
  bool first = true;
  for (auto &[type, nodes] : unsupported) {
    msg += (first ? "" : "; ") + type + " (node" +
           (nodes.size() > 1 ? "s " : " ");
    first = false;
    for (size_t i = 0; i < nodes.size() && i < 5; ++i)
      msg += (i ? ", '" : "'") + nodes[i] + "'";
    if (nodes.size() > 5)
      msg += " and " + std::to_string(nodes.size() - 5) + " more";
    msg += ")";
  }
  return makeError(msg);
}

/// onnx::version_conversion::ConvertVersion builds a converter per call, which
/// copies every operator schema and registers every adapter (most of the time
/// of importing a small model). The converter is immutable once built and
/// convert_version is const, so one instance serves every call and thread.
onnx::ModelProto convertOpset(const onnx::ModelProto &model, int64_t from, int64_t to) {
  static const onnx::version_conversion::DefaultVersionConverter converter;
  return converter.convert_version(model, onnx::OpSetID(from), onnx::OpSetID(to));
}

/// Repairs two defects of older exporters that stop the version converter:
/// value_info entries without a type, and initializers missing from the graph
/// inputs under IR versions < 4.
void repairForConversion(onnx::ModelProto &model) {
  auto *graph = model.mutable_graph();
  auto *infos = graph->mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (!infos->Get(i).has_type())
      infos->DeleteSubrange(i, 1);
  if (model.ir_version() < 4) {
    std::set<std::string> inputs;
    for (const auto &v : graph->input())
      inputs.insert(v.name());
    for (const auto &t : graph->initializer()) {
      if (inputs.count(t.name()))
        continue;
      auto *v = graph->add_input();
      v->set_name(t.name());
      auto *tt = v->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(t.data_type());
      auto *shape = tt->mutable_shape();
      for (int64_t d : t.dims())
        shape->add_dim()->set_dim_value(d);
    }
  }
}

/// Rewrites Constant nodes written with value_float(s)/value_int(s) into the
/// `value` tensor form, the only one ONNX shape inference reads as data (so
/// e.g. Unsqueeze axes from a value_ints Constant get a static result).
void canonicalizeConstants(onnx::GraphProto &graph) {
  for (auto &node : *graph.mutable_node()) {
    for (auto &a : *node.mutable_attribute()) {
      if (a.has_g())
        canonicalizeConstants(*a.mutable_g());
      for (auto &g : *a.mutable_graphs())
        canonicalizeConstants(g);
    }
    if (node.op_type() != "Constant" || !isDefaultDomain(node.domain()) ||
        node.attribute_size() != 1)
      continue;
    const onnx::AttributeProto &a = node.attribute(0);
    onnx::TensorProto t;
    t.set_name(node.output_size() ? node.output(0) : "");
    using A = onnx::AttributeProto;
    if (a.name() == "value_float" && a.type() == A::FLOAT) {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_float_data(a.f());
    } else if (a.name() == "value_int" && a.type() == A::INT) {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_int64_data(a.i());
    } else if (a.name() == "value_floats" && a.type() == A::FLOATS) {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_dims(a.floats_size());
      *t.mutable_float_data() = a.floats();
    } else if (a.name() == "value_ints" && a.type() == A::INTS) {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_dims(a.ints_size());
      *t.mutable_int64_data() = a.ints();
    } else {
      continue;
    }
    node.clear_attribute();
    auto *value = node.add_attribute();
    value->set_name("value");
    value->set_type(A::TENSOR);
    *value->mutable_t() = std::move(t);
  }
}

/// Element types and limits of each supported op, for docs/operators.md.
/// Ops absent here take every type their kiln op's verifier accepts.
const std::map<std::string, std::string> &opNotes() {
  static const std::map<std::string, std::string> notes = [] {
    std::map<std::string, std::string> n = {
      {"ArgMax", "numeric; int64 result"},
      {"ArgMin", "numeric; int64 result"},
      {"AveragePool", "float32; 1-D, 2-D and 3-D"},
      {"BatchNormalization", "float32; inference mode; folded into a preceding Conv"},
      {"Clip", "numeric; min/max constants or run-time scalars"},
      {"Constant", "value, value_float(s), value_int(s)"},
      {"ConstantOfShape", "shape must be a constant; evaluated at compile time"},
      {"Conv", "float32; 1-D, 2-D and 3-D; groups, strides, dilations, auto_pad; 2-D QDQ "
               "(dequantised 8-bit input, int8 weights with zero zero points, 4+ input channels "
               "per group) on the int8 kernel"},
      {"ConvTranspose", "float32; 1-D and 2-D; groups, strides, dilations, pads/auto_pad/output_shape"},
      {"CumSum", "numeric; axis must be a constant"},
      {"Dropout", "inference mode (identity), or training mode with ratio 0; mask output all true; ratio and training_mode must be constants"},
      {"EyeLike", "evaluated at compile time"},
      {"Gemm", "float32; QDQ (8-bit A, int8 B with zero zero points, K a multiple of 4) on "
               "the int8 kernel"},
      {"Einsum", "one operand (sums and transposes) or two float32 operands (batched products); no diagonals, no broadcasting"},
      {"LRN", "floating point; rank 3 or more"},
      {"MeanVarianceNormalization", "floating point"},
      {"ReverseSequence", "time and batch axes 0 and 1; sequence_lens read at run time"},
      {"ConvInteger", "uint8/int8; 2-D; per-channel weight zero points; exact int32 accumulation; "
                      "constant int8 weights with zero zero points on the int8 kernel"},
      {"DynamicQuantizeLinear", "float32 to uint8"},
      {"MatMulInteger", "uint8/int8, rank 2 or more; per-row/per-column zero points; exact int32 "
                        "accumulation; constant 2-D int8 B with zero zero points on the int8 kernel"},
      {"QLinearConv", "uint8/int8; 2-D; per-channel weight scales and zero points; int32 bias; "
                      "constant int8 weights with zero zero points on the int8 kernel"},
      {"QLinearMatMul", "uint8/int8, rank 2 or more; requantised as the ONNX reference (float64 "
                        "scaling, round half to even); constant 2-D int8 B with zero zero points "
                        "on the int8 kernel"},
      {"GRU", "float32; one loop kernel per direction (kiln.recurrence), unrolled over time without linear_before_reset; all directions, layouts, activations, clip, linear_before_reset, sequence_lens"},
      {"LSTM", "float32; one loop kernel per direction (kiln.recurrence); all directions, layouts, activations, clip, peepholes, input_forget, sequence_lens"},
      {"RNN", "float32; one loop kernel per direction (kiln.recurrence); all directions, layouts, activations, clip, sequence_lens"},
      {"GlobalAveragePool", "float32"},
      {"LayerNormalization", "float32; Mean/InvStdDev outputs supported"},
      {"LogSoftmax", "float32"},
      {"MatMul", "float32; numpy batching and 1-D operands; QDQ (8-bit A, constant 2-D int8 B "
                 "with zero zero points, K a multiple of 4) on the int8 kernel"},
      {"MaxPool", "float32; 1-D, 2-D and 3-D; no Indices output"},
      {"NegativeLogLikelihoodLoss", "float32, float64; weights, ignore_index, all reductions"},
      {"Pad", "pads and axes must be constants; the value may be a run-time scalar; constant, reflect, edge"},
      {"Range", "inputs must be constants; evaluated at compile time"},
      {"ReduceSum", "axes attribute or constant input"},
      {"Shape", "evaluated at compile time"},
      {"Size", "evaluated at compile time"},
      {"Slice", "starts/ends/axes/steps must be constants"},
      {"Softmax", "float32"},
      {"SoftmaxCrossEntropyLoss", "float32, float64; weights, ignore_index, log_prob output"},
      {"Tile", "repeats must be a constant"},
      {"Trilu", "k must be a constant"},
      {"OneHot", "depth must be a constant; values may be a run-time input"},
      {"BitShift", "integers"},
      {"Mod", "integers; floating point with fmod=1"},
      {"Equal", "numeric, bool; bool result"},
      {"Greater", "numeric; bool result"},
      {"GreaterOrEqual", "numeric; bool result"},
      {"Less", "numeric; bool result"},
      {"LessOrEqual", "numeric; bool result"},
      {"Where", "bool condition; any element type"},
      {"Cast", "between all supported element types"},
      {"CastLike", "between all supported element types"},
      {"Hardmax", "numeric"},
      {"ReduceMean", "numeric (integers truncate)"},
    };
    for (const char *op : {"Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil",
                           "Celu", "Cos", "Cosh", "Elu", "Erf", "Exp", "Floor",
                           "HardSigmoid", "HardSwish", "IsInf", "IsNaN", "LeakyRelu",
                           "Log", "Reciprocal", "Round", "Selu", "Sigmoid", "Sin",
                           "Sinh", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh",
                           "ThresholdedRelu"})
      n[op] = "floating point";
    for (const char *op : {"And", "Or", "Xor", "Not"})
      n[op] = "bool";
    return n;
  }();
  return notes;
}

} // namespace

std::string operatorsMarkdown() {
  std::string md =
      "# Supported ONNX operators\n\n"
      "Generated by `kiln ops --markdown` from the importer's table; a test fails\n"
      "when this file is out of date. Models are converted to opset 17 first, so\n"
      "older versions of these operators are supported through the ONNX version\n"
      "converter. Operands whose role decides a shape or a kernel's structure\n"
      "(Reshape shapes, Slice bounds, Pad pads, TopK k, axes, trip counts; the\n"
      "list is `lib/Import/ShapeOperands.cpp`) must be constants, or graph inputs\n"
      "specialised with `kiln compile --specialize` or `kiln run --specialize-inputs\n"
      "shapes` (the generated code then checks the value at run time). Every other\n"
      "operand is data and may be a run-time input: Clip limits, Pad's value,\n"
      "OneHot's values, Pow exponents, Where conditions, optimiser rates and steps.\n"
      "Element types: float32, float64, float16 (computed in float32), int8-int64,\n"
      "uint8-uint64, bool, unless noted.\n\n"
      "Conformance (ONNX backend suite, 1072 cases, `test/conformance`): 978 pass\n"
      "with data inputs at run time, 888 of them strict (no input compiled in) and\n"
      "90 with shape operands specialised; 11 are excluded (random outputs, one\n"
      "wrong expectation).\n\n"
      "| operator | element types and limits |\n|---|---|\n";
  for (const std::string &op : supportedOnnxOps()) {
    auto it = opNotes().find(op);
    auto st = structureOps().find(op);
    std::string note = it != opNotes().end()   ? it->second
                       : st != structureOps().end() ? st->second
                                                    : "";
    md += "| " + op + " | " + note + " |\n";
  }
  return md;
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> ops;
  for (const auto &entry : handlerTable())
    ops.push_back(entry.getKey().str());
  for (const auto &entry : structureOps())
    ops.push_back(entry.first);
  std::sort(ops.begin(), ops.end());
  return ops;
}

Expected<ImportResult> importOnnxModel(onnx::ModelProto model,
                                       MLIRContext &context,
                                       const ImportOptions &options) {
  const std::string &path = options.modelPath;
  if (!model.has_graph())
    return makeError("model '" + path + "': the model has no graph");
  if (Error e = checkSupportedOps(model.graph(), path))
    return std::move(e);
  if (Error e = checkWindowAttributes(model.graph(), path))
    return std::move(e);
  if (Error e = checkNodeInputs(model.graph(), {}, path))
    return std::move(e);

  ImportResult result;
  result.graphName = model.graph().name();
  result.opsImported = model.graph().node_size();
  for (const auto &n : model.graph().node())
    ++result.opsByType[n.op_type()];

  int64_t opset = 0;
  for (const auto &o : model.opset_import())
    if (isDefaultDomain(o.domain()))
      opset = o.version();
  if (opset == 0) {
    // A graph made only of other domains' ops (e.g. the training optimisers)
    // may omit the default domain; its tensors still follow the canonical opset.
    for (const auto &n : model.graph().node())
      if (isDefaultDomain(n.domain()))
        return makeError("model '" + path + "': no default-domain opset import");
    auto *import = model.add_opset_import();
    import->set_domain("");
    import->set_version(kCanonicalOpset);
    opset = kCanonicalOpset;
  }

  canonicalizeConstants(*model.mutable_graph());
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return makeError("model '" + path + "': ONNX checker: " + e.what());
  }
  if (Error e = checkAgainstShapes(model, path))
    return std::move(e);
  if (opset != kCanonicalOpset) {
    try {
      repairForConversion(model);
      // The converter keeps only tensor types on the graph interface; put
      // sequence and optional types back.
      std::map<std::string, onnx::TypeProto> interfaceTypes;
      for (const auto &list : {model.graph().input(), model.graph().output()})
        for (const auto &v : list)
          if (v.has_type() && !v.type().has_tensor_type())
            interfaceTypes[v.name()] = v.type();
      model = convertOpset(model, opset, kCanonicalOpset);
      auto *graph = model.mutable_graph();
      for (auto *list : {graph->mutable_input(), graph->mutable_output()})
        for (auto &v : *list)
          if (auto it = interfaceTypes.find(v.name()); it != interfaceTypes.end())
            *v.mutable_type() = it->second;
    } catch (const std::exception &e) {
      return makeError("model '" + path + "': cannot convert opset " +
                       std::to_string(opset) + " to " +
                       std::to_string(kCanonicalOpset) + ": " + e.what());
    }
  }
  // With structure to lower, fold constants first too, so loop counts and
  // conditions computed from specialised inputs are known when control flow
  // is unrolled; the fold after lowering covers the unrolled bodies.
  if (needsStructureLowering(model, options.inputShapes))
    foldConstants(model, options.constantBudget);
  auto signature = lowerStructuredValues(model, options.inputShapes, options.specializedInputs,
                                         path, options.constantBudget);
  if (!signature)
    return signature.takeError();
  result.signature = std::move(*signature);
  FoldReport folding = foldConstants(model, options.constantBudget);
  // Again on the folded, converted graph: folding makes operands constant
  // and lowering adds the unrolled bodies of loops.
  if (Error e = checkAgainstShapes(model, path))
    return std::move(e);
  try {
    onnx::ShapeInferenceOptions sio(/*check_type=*/true, /*strict_mode=*/1,
                                    /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       sio);
  } catch (const std::exception &e) {
    return makeError("model '" + path + "': shape inference: " + e.what());
  }

  Importer importer(context, path, options.specializedInputs, std::move(folding.overBudget),
                    options.constantBudget);
  auto module = importer.run(model.graph());
  if (!module)
    return module.takeError();
  result.module = std::move(*module);
  return std::move(result);
}

} // namespace kiln
