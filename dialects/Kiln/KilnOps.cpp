//===- KilnOps.cpp - Operations of the kiln dialect -----------------------===//
//
// Verifiers and folders of the kiln ops. Verifiers recompute each result shape
// from the operands and attributes, so passes and importers cannot build a
// graph whose types disagree with its semantics.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kiln/KilnOps.h"
#include "dialects/Kiln/PointwiseFns.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace kiln;

std::optional<SmallVector<int64_t>>
kiln::broadcastShapes(ArrayRef<ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (ArrayRef<int64_t> s : shapes)
    rank = std::max(rank, s.size());
  SmallVector<int64_t> out(rank, 1);
  for (ArrayRef<int64_t> s : shapes) {
    size_t offset = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &d = out[offset + i];
      if (s[i] == d || s[i] == 1)
        continue;
      if (d != 1)
        return std::nullopt;
      d = s[i];
    }
  }
  return out;
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Checks that `result` has the broadcast shape of `operands`.
static LogicalResult verifyBroadcastResult(Operation *op, ValueRange operands,
                                           Value result) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : operands)
    shapes.push_back(shapeOf(v));
  auto expected = broadcastShapes(shapes);
  if (!expected)
    return op->emitOpError("operand shapes do not broadcast");
  if (ArrayRef<int64_t>(*expected) != shapeOf(result))
    return op->emitOpError("result shape ")
           << shapeStr(shapeOf(result)) << " is not the broadcast shape "
           << shapeStr(*expected);
  return success();
}

static LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return op->emitOpError("axis ") << axis << " out of range for rank " << rank;
  return success();
}

static bool isBoolTensor(Value v) {
  return cast<ShapedType>(v.getType()).getElementType().isInteger(1);
}

//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

#define KILN_BINARY_VERIFIER(OP, BOOLEAN_RESULT)                               \
  LogicalResult OP::verify() {                                                 \
    if (failed(verifyBroadcastResult(*this, getOperands(), getOutput())))      \
      return failure();                                                        \
    Type lhsElt = getElementTypeOrSelf(getLhs().getType());                    \
    Type outElt = getElementTypeOrSelf(getOutput().getType());                 \
    if (BOOLEAN_RESULT ? !outElt.isInteger(1) : outElt != lhsElt)              \
      return emitOpError("unexpected result element type ") << outElt;         \
    return success();                                                          \
  }
KILN_BINARY_VERIFIER(AddOp, false)
KILN_BINARY_VERIFIER(SubOp, false)
KILN_BINARY_VERIFIER(MulOp, false)
KILN_BINARY_VERIFIER(DivOp, false)
KILN_BINARY_VERIFIER(PowOp, false)
KILN_BINARY_VERIFIER(MaxOp, false)
KILN_BINARY_VERIFIER(MinOp, false)
KILN_BINARY_VERIFIER(EqualOp, true)
KILN_BINARY_VERIFIER(LessOp, true)
KILN_BINARY_VERIFIER(GreaterOp, true)
#undef KILN_BINARY_VERIFIER

LogicalResult WhereOp::verify() {
  if (!isBoolTensor(getCondition()))
    return emitOpError("condition must be a boolean tensor");
  if (getElementTypeOrSelf(getX().getType()) !=
          getElementTypeOrSelf(getY().getType()) ||
      getElementTypeOrSelf(getX().getType()) !=
          getElementTypeOrSelf(getOutput().getType()))
    return emitOpError("x, y and result element types differ");
  return verifyBroadcastResult(*this, getOperands(), getOutput());
}

/// A channels-last shape seen in the NCHW order the checks are written for;
/// `perm` lists which stored dimension each NCHW (or OIHW) dimension is.
static SmallVector<int64_t> permuted(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(shape[p]);
  return out;
}
static constexpr int64_t kNhwcAsNchw[] = {0, 3, 1, 2};
static constexpr int64_t kHwioAsOihw[] = {3, 2, 0, 1};

/// The input and result shapes of a pool in NCHW order, whether it runs
/// channels-last or not.
static LogicalResult poolShapesAsNchw(Operation *op, bool channelsLast,
                                      SmallVector<int64_t> &x, SmallVector<int64_t> &y) {
  x.assign(shapeOf(op->getOperand(0)).begin(), shapeOf(op->getOperand(0)).end());
  y.assign(shapeOf(op->getResult(0)).begin(), shapeOf(op->getResult(0)).end());
  if (!channelsLast)
    return success();
  if (x.size() != 4 || y.size() != 4)
    return op->emitOpError("channels_last expects rank-4 NHWC input and result");
  x = permuted(x, kNhwcAsNchw);
  y = permuted(y, kNhwcAsNchw);
  return success();
}

LogicalResult ConvOp::verify() {
  SmallVector<int64_t> xs(shapeOf(getInput())), ws(shapeOf(getWeight())),
      ys(shapeOf(getOutput()));
  if (getChannelsLast()) {
    if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4)
      return emitOpError("channels_last expects rank-4 NHWC input and result and HWIO weight");
    xs = permuted(xs, kNhwcAsNchw);
    ws = permuted(ws, kHwioAsOihw);
    ys = permuted(ys, kNhwcAsNchw);
  }
  ArrayRef<int64_t> x = xs, w = ws, y = ys;
  size_t rank = x.size(), n = rank - 2;
  if ((rank != 4 && rank != 5) || w.size() != rank || y.size() != rank)
    return emitOpError("expects rank-4 (NCHW) or rank-5 (NCDHW) input, weight and result");
  auto elementOf = [](Value v) { return cast<ShapedType>(v.getType()).getElementType(); };
  if (getInputZeroPoint() &&
      (!elementOf(getInput()).isInteger(8) || !elementOf(getWeight()).isSignlessInteger(8) ||
       !elementOf(getOutput()).isInteger(32) || getBias()))
    return emitOpError("a quantised conv (input_zero_point) takes 8-bit input, int8 weight, no "
                       "bias and gives int32");
  if (getStrides().size() != n || getDilations().size() != n || getPads().size() != 2 * n)
    return emitOpError("expects one stride and dilation and two pads per spatial dimension");
  int64_t group = getGroup();
  if (group < 1 || x[1] % group || w[0] % group)
    return emitOpError("group ") << group << " does not divide the channels";
  if (w[1] * group != x[1])
    return emitOpError("weight has ")
           << w[1] << " input channels per group, input has " << x[1]
           << " channels in " << group << " groups";
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{w[0]})
    return emitOpError("bias must have one element per output channel");
  for (int64_t v : getStrides())
    if (v < 1)
      return emitOpError("strides must be positive");
  for (int64_t v : getDilations())
    if (v < 1)
      return emitOpError("dilations must be positive");
  for (int64_t v : getPads())
    if (v < 0)
      return emitOpError("pads must be non-negative");
  SmallVector<int64_t> expected = {x[0], w[0]};
  for (size_t i = 0; i < n; ++i) {
    int64_t span = getDilations()[i] * (w[2 + i] - 1) + 1;
    int64_t padded = x[2 + i] + getPads()[i] + getPads()[n + i];
    if (padded < span)
      return emitOpError("kernel larger than padded input");
    expected.push_back((padded - span) / getStrides()[i] + 1);
  }
  if (ArrayRef<int64_t>(expected) != y)
    return emitOpError("result shape ")
           << shapeStr(y) << " differs from computed " << shapeStr(expected);
  return success();
}

LogicalResult ConvTransposeOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight()),
                    y = shapeOf(getOutput());
  if (x.size() != 4 || w.size() != 4 || y.size() != 4)
    return emitOpError("expects rank-4 input, weight and result (NCHW)");
  if (getStrides().size() != 2 || getDilations().size() != 2 || getPads().size() != 2)
    return emitOpError("expects 2 strides, 2 dilations and 2 leading pads");
  int64_t group = getGroup();
  if (group < 1 || x[1] % group || w[0] != x[1])
    return emitOpError("weight must have one row per input channel, in groups");
  if (y[0] != x[0] || y[1] != w[1] * group)
    return emitOpError("result must have group * weight.dim(1) channels");
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{y[1]})
    return emitOpError("bias must have one element per output channel");
  for (int64_t v : llvm::concat<const int64_t>(getStrides(), getDilations()))
    if (v < 1)
      return emitOpError("strides and dilations must be positive");
  return success();
}

LogicalResult GemmOp::verify() {
  ArrayRef<int64_t> a = shapeOf(getA()), b = shapeOf(getB()),
                    y = shapeOf(getOutput());
  if (a.size() != 2 || b.size() != 2 || y.size() != 2)
    return emitOpError("expects rank-2 operands and result");
  int64_t m = getTransA() ? a[1] : a[0], k = getTransA() ? a[0] : a[1];
  int64_t kb = getTransB() ? b[1] : b[0], n = getTransB() ? b[0] : b[1];
  if (k != kb)
    return emitOpError("inner dimensions differ: ") << k << " vs " << kb;
  if (y[0] != m || y[1] != n)
    return emitOpError("result shape ") << shapeStr(y) << " is not " << m
                                        << "x" << n;
  if (getC()) {
    auto bc = broadcastShapes({shapeOf(getC()), y});
    if (!bc || ArrayRef<int64_t>(*bc) != y)
      return emitOpError("C does not broadcast to the result");
  }
  return success();
}

/// Checks that the ops of a fused or recurrent body, besides `head`, are
/// elementwise: the kernels evaluate them element by element.
static LogicalResult verifyElementwiseBody(Block &body, Operation *head) {
  for (Operation &op : body.without_terminator())
    if (&op != head && (!isElementwise(&op) || isa<FusedElementwiseOp, BatchNormOp>(op)))
      return op.emitOpError("is not an elementwise op and cannot be fused");
  return success();
}

/// Checks what fused ops share: block arguments typed like the inputs, a
/// yield of the result type, and elementwise ops besides the `head`.
static LogicalResult verifyFusedBody(Operation *fused, Block &body, ValueRange inputs,
                                     Operation *head) {
  if (body.getNumArguments() != inputs.size())
    return fused->emitOpError("body takes ") << body.getNumArguments() << " arguments for "
                                             << inputs.size() << " inputs";
  for (auto [arg, input] : llvm::zip(body.getArguments(), inputs))
    if (arg.getType() != input.getType())
      return fused->emitOpError("body argument types differ from the input types");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues()[0].getType() != fused->getResult(0).getType())
    return fused->emitOpError("body must yield a value of the result type");
  return verifyElementwiseBody(body, head);
}

LogicalResult FusedElementwiseOp::verify() {
  Block &body = getBody().front();
  return verifyFusedBody(*this, body, getInputs(), nullptr);
}

Operation *FusedContractionOp::getContraction() {
  for (Operation &op : getBody().front())
    if (isa<ConvOp, GemmOp, MatMulOp>(op))
      return &op;
  return nullptr;
}

/// The prologue's scale: the operand of the mul feeding the conv that is
/// a [N or 1, 1, 1, C] block argument.
Value FusedContractionOp::getInputScale() {
  Operation *head = getContraction();
  auto mul = head ? head->getOperand(0).getDefiningOp<MulOp>() : MulOp();
  if (!mul)
    return nullptr;
  ArrayRef<int64_t> x = shapeOf(head->getOperand(0));
  for (Value v : mul->getOperands()) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (isa<BlockArgument>(v) && s.size() == 4 && (s[0] == 1 || s[0] == x[0]) && s[1] == 1 &&
        s[2] == 1 && s[3] == x[3])
      return v;
  }
  return nullptr;
}

LogicalResult FusedContractionOp::verify() {
  Block &body = getBody().front();
  Operation *head = getContraction();
  auto conv = dyn_cast_or_null<ConvOp>(head);
  if (!head || (conv && !conv.getChannelsLast()))
    return emitOpError("body must hold a channels-last kiln.conv, a kiln.gemm or a kiln.matmul");
  if (head != &body.front()) {
    // The only prologue: a per-channel scale of a conv's input.
    auto mul = dyn_cast<MulOp>(body.front());
    Value other = mul ? (mul.getLhs() == getInputScale() ? mul.getRhs() : mul.getLhs())
                      : Value();
    if (!conv || &*std::next(body.begin()) != head || head->getOperand(0) != mul.getOutput() ||
        !getInputScale() || !isa<BlockArgument>(other) ||
        other.getType() != head->getOperand(0).getType())
      return emitOpError("only a per-channel scale of a conv's input may precede the "
                         "contraction");
  }
  // A quantised conv's int32 sums become float (and maybe 8-bit) in the
  // epilogue; other contractions produce float32 of the result type.
  auto mm = dyn_cast<MatMulOp>(head);
  bool quantized = (conv && conv.getInputZeroPoint()) || (mm && mm.getAZeroPoint());
  auto headType = cast<ShapedType>(head->getResult(0).getType());
  if (quantized ? headType.getShape() != cast<ShapedType>(getOutput().getType()).getShape()
                : (headType != getOutput().getType() || !headType.getElementType().isF32()))
    return emitOpError("the contraction must produce a float32 value of the result type (or "
                       "int32 sums of its shape, for a quantised conv)");
  return verifyFusedBody(*this, body, getInputs(), head);
}

LogicalResult RecurrenceOp::verify() {
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  ArrayRef<int64_t> x = shape(getInputs()), r = shape(getWeights());
  int64_t gates = getGates();
  if (x.size() != 3 || r.size() != 2 || gates < 1 || x[2] % gates)
    return emitOpError("inputs must be [steps, batch, gates * hidden] and weights 2-D");
  int64_t steps = x[0], batch = x[1], hidden = x[2] / gates;
  if (r[0] != gates * hidden || r[1] != hidden)
    return emitOpError("weights must be [gates * hidden, hidden] = [")
           << gates * hidden << ", " << hidden << "]";
  for (Value v : ValueRange{getInputs(), getWeights()})
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return emitOpError("inputs and weights must be float32");
  auto state = RankedTensorType::get({batch, hidden}, Float32Type::get(getContext()));
  auto unit = RankedTensorType::get({hidden}, state.getElementType());
  if (getInitial().empty() || getInitial().size() != getStates().size())
    return emitOpError("needs one initial value per state, and at least one state");
  for (Value v : getInitial())
    if (v.getType() != state)
      return emitOpError("initial states must be ") << state;
  for (Value v : getStates())
    if (v.getType() != state)
      return emitOpError("states must be ") << state;
  for (Value v : getExtras())
    if (v.getType() != unit)
      return emitOpError("extras must be ") << unit;
  if (Value lens = getSequenceLens())
    if (shape(lens) != ArrayRef<int64_t>{batch} ||
        !getElementTypeOrSelf(lens.getType()).isInteger(32))
      return emitOpError("sequence_lens must be int32 [") << batch << "]";
  if (shape(getY()) != ArrayRef<int64_t>{steps, batch, hidden} ||
      !getElementTypeOrSelf(getY().getType()).isF32())
    return emitOpError("y must be float32 [") << steps << ", " << batch << ", " << hidden << "]";
  Block &body = getBody().front();
  size_t args = 2 * gates + getInitial().size() + getExtras().size();
  if (body.getNumArguments() != args)
    return emitOpError("body takes ") << body.getNumArguments() << " arguments, expected "
                                      << args;
  for (BlockArgument arg : body.getArguments())
    if (arg.getType() != (arg.getArgNumber() < args - getExtras().size() ? state : unit))
      return emitOpError("body argument ") << arg.getArgNumber() << " has type "
                                           << arg.getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValues().size() != getStates().size() ||
      llvm::any_of(yield.getValues(), [&](Value v) { return v.getType() != state; }))
    return emitOpError("body must yield the new states");
  return verifyElementwiseBody(body, nullptr);
}

Operation *FusedRowOp::getHead() {
  for (Operation &op : getBody().front())
    if (isa<SoftmaxOp, LayerNormOp>(op))
      return &op;
  return nullptr;
}

LogicalResult FusedRowOp::verify() {
  Block &body = getBody().front();
  Operation *head = getHead();
  int heads = llvm::count_if(body, [](Operation &op) { return isa<SoftmaxOp, LayerNormOp>(op); });
  if (!head || heads != 1)
    return emitOpError("body must hold exactly one kiln.softmax or kiln.layer_norm");
  auto type = cast<RankedTensorType>(getOutput().getType());
  int64_t axis = isa<SoftmaxOp>(head) ? cast<SoftmaxOp>(head).getAxis()
                                      : cast<LayerNormOp>(head).getAxis();
  if (axis != type.getRank() - 1)
    return emitOpError("the softmax or layer norm must run over the last axis");
  if (head->getResult(0).getType() != type || head->getOperand(0).getType() != type ||
      !type.getElementType().isF32())
    return emitOpError("the softmax or layer norm must map float32 values of the result type");
  return verifyFusedBody(*this, body, getInputs(), head);
}

/// `shape` viewed through `perm` (dimension i of the view is dimension
/// perm[i]); no permutation, or an invalid one, leaves it as is.
static SmallVector<int64_t> viewThrough(ArrayRef<int64_t> shape,
                                        std::optional<ArrayRef<int64_t>> perm) {
  if (!perm || perm->size() != shape.size())
    return SmallVector<int64_t>(shape);
  SmallVector<int64_t> out;
  for (int64_t p : *perm)
    out.push_back(p >= 0 && p < (int64_t)shape.size() ? shape[p] : 0);
  return out;
}

SmallVector<int64_t> AttentionOp::qShape() { return viewThrough(shapeOf(getQ()), getQPerm()); }
SmallVector<int64_t> AttentionOp::ktShape() { return viewThrough(shapeOf(getKt()), getKtPerm()); }
SmallVector<int64_t> AttentionOp::vShape() { return viewThrough(shapeOf(getV()), getVPerm()); }
SmallVector<int64_t> AttentionOp::resultShape() {
  ArrayRef<int64_t> stored = shapeOf(getOutput());
  auto perm = getOutPerm();
  if (!perm || perm->size() != stored.size())
    return SmallVector<int64_t>(stored);
  SmallVector<int64_t> logical(stored.size());
  for (auto [k, p] : llvm::enumerate(*perm))
    if (p >= 0 && p < (int64_t)stored.size())
      logical[p] = stored[k];
  return logical;
}

LogicalResult AttentionOp::verify() {
  for (auto [name, perm, value] :
       {std::tuple{"q_perm", getQPerm(), getQ()}, {"kt_perm", getKtPerm(), getKt()},
        {"v_perm", getVPerm(), getV()}, {"out_perm", getOutPerm(), getOutput()}}) {
    if (!perm)
      continue;
    SmallVector<int64_t> sorted(*perm);
    llvm::sort(sorted);
    for (auto [i, p] : llvm::enumerate(sorted))
      if (p != (int64_t)i || sorted.size() != shapeOf(value).size())
        return emitOpError(name) << " is not a permutation of the operand's dimensions";
  }
  SmallVector<int64_t> qs = qShape(), kts = ktShape(), vs = vShape(), ys = resultShape();
  ArrayRef<int64_t> q = qs, kt = kts, v = vs, y = ys;
  size_t rank = q.size();
  if (rank < 2 || kt.size() != rank || v.size() != rank || y.size() != rank)
    return emitOpError("expects q, kt, v and result of one rank, 2 or more");
  if (q.drop_back(2) != kt.drop_back(2) || q.drop_back(2) != v.drop_back(2) ||
      q.drop_back(2) != y.drop_back(2))
    return emitOpError("expects the same leading dimensions on all operands");
  int64_t tq = q[rank - 2], d = q[rank - 1], tk = kt[rank - 1], dv = v[rank - 1];
  if (kt[rank - 2] != d)
    return emitOpError("q has depth ") << d << ", kt " << kt[rank - 2];
  if (v[rank - 2] != tk)
    return emitOpError("kt has ") << tk << " keys, v " << v[rank - 2];
  if (y[rank - 2] != tq || y[rank - 1] != dv)
    return emitOpError("result shape ") << shapeStr(y) << " is not [..., " << tq << ", "
                                        << dv << "]";
  for (Value x : {getQ(), getKt(), getV(), getOutput()})
    if (!getElementTypeOrSelf(x.getType()).isF32())
      return emitOpError("expects float32 q, kt, v and result");
  StringRef kind = getMaskKind();
  if (kind != "none" && kind != "add" && kind != "keep" && kind != "drop")
    return emitOpError("mask_kind must be none, add, keep or drop");
  if ((kind == "none") != !getMask())
    return emitOpError("a mask is needed exactly when mask_kind is not none");
  if (Value m = getMask()) {
    SmallVector<int64_t> scores(q.drop_back(1));
    scores.push_back(tk);
    auto bc = broadcastShapes({shapeOf(m), scores});
    if (!bc || ArrayRef<int64_t>(*bc) != ArrayRef<int64_t>(scores))
      return emitOpError("mask does not broadcast to the scores ") << shapeStr(scores);
    bool isBool = isBoolTensor(m);
    if ((kind == "add") == isBool ||
        (kind == "add" && !getElementTypeOrSelf(m.getType()).isF32()))
      return emitOpError("an add mask is float32, a keep/drop mask boolean");
  }
  return success();
}

LogicalResult MatMulOp::verify() {
  ArrayRef<int64_t> a = shapeOf(getA()), b = shapeOf(getB()),
                    y = shapeOf(getOutput());
  if (a.size() < 2 || b.size() < 2)
    return emitOpError("expects operands of rank 2 or more");
  auto elementOf = [](Value v) { return cast<ShapedType>(v.getType()).getElementType(); };
  if (getAZeroPoint() &&
      (!elementOf(getA()).isInteger(8) || !elementOf(getB()).isSignlessInteger(8) ||
       !elementOf(getOutput()).isInteger(32)))
    return emitOpError("a quantised matmul (a_zero_point) takes 8-bit a, int8 b and gives int32");
  if (a.back() != b[b.size() - 2])
    return emitOpError("inner dimensions differ: ")
           << a.back() << " vs " << b[b.size() - 2];
  auto batch = broadcastShapes({a.drop_back(2), b.drop_back(2)});
  if (!batch)
    return emitOpError("batch dimensions do not broadcast");
  SmallVector<int64_t> expected = *batch;
  expected.push_back(a[a.size() - 2]);
  expected.push_back(b.back());
  if (ArrayRef<int64_t>(expected) != y)
    return emitOpError("result shape ")
           << shapeStr(y) << " differs from computed " << shapeStr(expected);
  return success();
}

LogicalResult SoftmaxOp::verify() {
  // ONNX allows axis 0 on a scalar (a one-element softmax).
  int64_t rank = shapeOf(getInput()).size();
  return verifyAxis(*this, getAxis(), std::max<int64_t>(rank, 1));
}

LogicalResult ShapeOp::verify() {
  int64_t rank = shapeOf(getInput()).size();
  int64_t start = getStart(), end = getEnd();
  if (start < 0 || end > rank || start > end)
    return emitOpError("start/end must satisfy 0 <= start <= end <= rank");
  auto type = cast<ShapedType>(getOutput().getType());
  if (type.getRank() != 1 || type.getDimSize(0) != end - start ||
      !type.getElementType().isInteger(64))
    return emitOpError("result must be tensor<") << end - start << "xi64>";
  return success();
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  if (failed(verifyAxis(*this, getAxis(), x.size())))
    return failure();
  ArrayRef<int64_t> normalized = x.drop_front(getAxis());
  for (Value p : {getScale(), getBias()}) {
    if (!p)
      continue;
    auto bc = broadcastShapes({shapeOf(p), normalized});
    if (!bc || ArrayRef<int64_t>(*bc) != normalized)
      return emitOpError("scale/bias do not broadcast to the normalised shape");
  }
  if (shapeOf(getOutput()) != x)
    return emitOpError("result shape differs from input shape");
  return success();
}

LogicalResult BatchNormOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  if (x.size() < 2)
    return emitOpError("expects an input of rank 2 or more");
  for (Value p : {getScale(), getBias(), getMean(), getVariance()})
    if (shapeOf(p) != ArrayRef<int64_t>{x[1]})
      return emitOpError("parameters must have one element per channel");
  if (shapeOf(getOutput()) != x)
    return emitOpError("result shape differs from input shape");
  return success();
}

template <typename Op> static LogicalResult verifyReduce(Op op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  SmallVector<int64_t> expected;
  ArrayRef<int64_t> axes = op.getAxes();
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= (int64_t)x.size() ||
        (i && axes[i] <= axes[i - 1]))
      return op.emitOpError("axes must be sorted, unique and within the rank");
  for (size_t d = 0; d < x.size(); ++d) {
    bool reduced = llvm::is_contained(axes, (int64_t)d);
    if (!reduced)
      expected.push_back(x[d]);
    else if (op.getKeepdims())
      expected.push_back(1);
  }
  if (ArrayRef<int64_t>(expected) != shapeOf(op.getOutput()))
    return op.emitOpError("result shape ")
           << shapeStr(shapeOf(op.getOutput())) << " differs from computed "
           << shapeStr(expected);
  return success();
}
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMinOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceProdOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceL1Op::verify() { return verifyReduce(*this); }
LogicalResult ReduceL2Op::verify() { return verifyReduce(*this); }
LogicalResult ReduceSumSquareOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceLogSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceLogSumExpOp::verify() { return verifyReduce(*this); }

LogicalResult ArgReduceOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  int64_t axis = getAxis();
  if (failed(verifyAxis(*this, axis, x.size())))
    return failure();
  if (!getElementTypeOrSelf(getOutput().getType()).isInteger(64))
    return emitOpError("result must be int64");
  SmallVector<int64_t> expected(x);
  if (getKeepdims())
    expected[axis] = 1;
  else if (!expected.empty())
    expected.erase(expected.begin() + axis);
  if (ArrayRef<int64_t>(expected) != shapeOf(getOutput()))
    return emitOpError("result shape ")
           << shapeStr(shapeOf(getOutput())) << " differs from computed "
           << shapeStr(expected);
  return success();
}

LogicalResult PointwiseOp::verify() {
  const PointwiseFn *fn = lookupPointwiseFn(getFn());
  if (!fn)
    return emitOpError("unknown pointwise function '") << getFn() << "'";
  if (getInputs().size() != fn->arity)
    return emitOpError("'") << getFn() << "' takes " << fn->arity
                            << " operand(s), got " << getInputs().size();
  if (getParams().size() != fn->numParams)
    return emitOpError("'") << getFn() << "' takes " << fn->numParams
                            << " parameter(s), got " << getParams().size();
  Type elt = getElementTypeOrSelf(getInputs()[0].getType());
  for (Value v : getInputs()) {
    Type t = getElementTypeOrSelf(v.getType());
    bool isBool = t.isInteger(1), isInt = isa<IntegerType>(t) && !isBool;
    bool ok = false;
    switch (fn->operands) {
    case PointwiseOperands::Float: ok = isa<FloatType>(t); break;
    case PointwiseOperands::Numeric: ok = isa<FloatType>(t) || isInt; break;
    case PointwiseOperands::Integer: ok = isInt; break;
    case PointwiseOperands::Bool: ok = isBool; break;
    case PointwiseOperands::Mixed: ok = true; break;
    }
    if (!ok)
      return emitOpError("'") << getFn() << "' does not accept element type " << t;
    if (t != elt && getFn() != "prelu" && fn->operands != PointwiseOperands::Mixed)
      return emitOpError("operand element types differ");
  }
  Type outElt = getElementTypeOrSelf(getOutput().getType());
  bool resultOk = false;
  switch (fn->result) {
  case PointwiseResult::SameAsInput: resultOk = outElt == elt; break;
  case PointwiseResult::Bool: resultOk = outElt.isInteger(1); break;
  case PointwiseResult::Integer: resultOk = isa<IntegerType>(outElt) && !outElt.isInteger(1); break;
  case PointwiseResult::Float: resultOk = isa<FloatType>(outElt); break;
  }
  if (!resultOk)
    return emitOpError("unexpected result element type ") << outElt;
  return verifyBroadcastResult(*this, getInputs(), getOutput());
}
LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this); }

LogicalResult MaxPoolOp::verify() {
  SmallVector<int64_t> xs, ys;
  if (failed(poolShapesAsNchw(*this, getChannelsLast(), xs, ys)))
    return failure();
  ArrayRef<int64_t> x = xs, y = ys;
  size_t rank = x.size(), n = rank - 2;
  if ((rank != 4 && rank != 5) || y.size() != rank)
    return emitOpError("expects rank-4 (NCHW) or rank-5 (NCDHW) input and result");
  if (getKernelShape().size() != n || getStrides().size() != n ||
      getDilations().size() != n || getPads().size() != 2 * n)
    return emitOpError("expects kernel dims, strides and dilations per spatial dimension and two pads each");
  if (y[0] != x[0] || y[1] != x[1])
    return emitOpError("pooling must keep batch and channels");
  for (size_t i = 0; i < n; ++i) {
    if (getKernelShape()[i] < 1 || getStrides()[i] < 1 || getDilations()[i] < 1)
      return emitOpError("kernel, strides and dilations must be positive");
    // Floor and ceil modes both give a result whose every window starts inside
    // the padded input.
    int64_t span = getDilations()[i] * (getKernelShape()[i] - 1) + 1;
    int64_t padded = x[2 + i] + getPads()[i] + getPads()[n + i];
    int64_t floorOut = (padded - span) / getStrides()[i] + 1;
    if (y[2 + i] != floorOut && y[2 + i] != floorOut + 1)
      return emitOpError("result spatial size ") << y[2 + i]
             << " does not follow from the attributes";
  }
  return success();
}

LogicalResult GlobalAveragePoolOp::verify() {
  SmallVector<int64_t> xs, ys;
  if (failed(poolShapesAsNchw(*this, getChannelsLast(), xs, ys)))
    return failure();
  ArrayRef<int64_t> x = xs, y = ys;
  if (x.size() < 3 || y.size() != x.size() || y[0] != x[0] || y[1] != x[1] ||
      llvm::any_of(y.drop_front(2), [](int64_t d) { return d != 1; }))
    return emitOpError("expects [N, C, 1, ...] result for [N, C, ...] input");
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("element counts differ: ")
           << in.getNumElements() << " vs " << out.getNumElements();
  return success();
}

/// Constant results are folded up to this many elements; bigger ones stay
/// run-time work rather than copies of the weights in the compiler.
constexpr int64_t kMaxFoldElements = int64_t(1) << 24;

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  auto type = cast<ShapedType>(getOutput().getType());
  if (!dense || type.getNumElements() > kMaxFoldElements)
    return {};
  if (dense.isSplat())
    return dense.resizeSplat(type);
  ArrayRef<int64_t> in = dense.getType().getShape(), out = type.getShape();
  SmallVector<int64_t> strides(in.size(), 1);
  for (int64_t d = (int64_t)in.size() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * in[d + 1];
  ArrayRef<int64_t> starts = getStarts(), steps = getSteps();
  // Source offset of each result element, in row-major order.
  SmallVector<int64_t> offsets;
  offsets.reserve(type.getNumElements());
  SmallVector<int64_t> idx(out.size(), 0);
  for (int64_t k = 0, n = type.getNumElements(); k < n; ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < out.size(); ++d)
      off += (starts[d] + idx[d] * steps[d]) * strides[d];
    offsets.push_back(off);
    for (size_t d = out.size(); d-- > 0;) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  Type elt = type.getElementType();
  if (elt.isInteger(1)) {
    SmallVector<bool> src(dense.getValues<bool>()), values;
    for (int64_t off : offsets)
      values.push_back(src[off]);
    return DenseElementsAttr::get(type, values);
  }
  int64_t bytes = elt.getIntOrFloatBitWidth() / 8;
  ArrayRef<char> raw = dense.getRawData();
  std::vector<char> data;
  data.reserve(offsets.size() * bytes);
  for (int64_t off : offsets)
    data.insert(data.end(), raw.begin() + off * bytes, raw.begin() + (off + 1) * bytes);
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  auto type = cast<ShapedType>(getOutput().getType());
  Type elt = type.getElementType();
  if (type.getNumElements() > kMaxFoldElements || elt.isInteger(1) ||
      !elt.isIntOrFloat())
    return {};
  SmallVector<DenseElementsAttr> parts;
  for (Attribute a : adaptor.getInputs()) {
    auto dense = dyn_cast_or_null<DenseElementsAttr>(a);
    if (!dense)
      return {};
    parts.push_back(dense);
  }
  // Row-major: per index of the dimensions before the axis, each part's
  // contiguous slab in turn.
  ArrayRef<int64_t> shape = type.getShape();
  int64_t axis = getAxis(), outer = 1, bytes = elt.getIntOrFloatBitWidth() / 8;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  std::vector<char> data;
  data.reserve(type.getNumElements() * bytes);
  for (int64_t o = 0; o < outer; ++o)
    for (DenseElementsAttr part : parts) {
      int64_t slab = outer ? part.getNumElements() / outer * bytes : 0;
      ArrayRef<char> raw = part.getRawData();
      if (part.isSplat()) {
        for (int64_t k = 0; k < slab; k += bytes)
          data.insert(data.end(), raw.begin(), raw.begin() + bytes);
      } else {
        data.insert(data.end(), raw.begin() + o * slab, raw.begin() + (o + 1) * slab);
      }
    }
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  auto type = cast<ShapedType>(getOutput().getType());
  if (!dense || type.getNumElements() > kMaxFoldElements)
    return {};
  Type from = dense.getElementType(), to = type.getElementType();
  if (from == to)
    return dense;
  // Float to float rounds to nearest even, as the generated code's
  // conversions do; integer widths convert as C++ does. Float to integer and
  // bool conversions are left to run time.
  auto toFloat = dyn_cast<FloatType>(to);
  if (isa<FloatType>(from) && toFloat)
    return dense.mapValues(to, [&](const APFloat &v) {
      APFloat c = v;
      bool lost;
      c.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      return c.bitcastToAPInt();
    });
  auto fromInt = dyn_cast<IntegerType>(from);
  if (!fromInt || fromInt.getWidth() == 1 || to.isInteger(1))
    return {};
  if (toFloat)
    return dense.mapValues(to, [&](const APInt &v) {
      APFloat c(toFloat.getFloatSemantics());
      c.convertFromAPInt(v, !fromInt.isUnsigned(), APFloat::rmNearestTiesToEven);
      return c.bitcastToAPInt();
    });
  if (auto toInt = dyn_cast<IntegerType>(to))
    return dense.mapValues(to, [&](const APInt &v) {
      return fromInt.isUnsigned() ? v.zextOrTrunc(toInt.getWidth())
                                  : v.sextOrTrunc(toInt.getWidth());
    });
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  auto lhs = dyn_cast_or_null<DenseElementsAttr>(adaptor.getLhs());
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(adaptor.getRhs());
  auto type = cast<ShapedType>(getOutput().getType());
  if (!lhs || !rhs || lhs.getType() != type || rhs.getType() != type ||
      !type.getElementType().isF32() || type.getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<float> sum;
  sum.reserve(type.getNumElements());
  for (auto [a, b] : llvm::zip(lhs.getValues<float>(), rhs.getValues<float>()))
    sum.push_back(a + b);
  return DenseElementsAttr::get(type, ArrayRef<float>(sum));
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(cast<ShapedType>(getOutput().getType()));
  return {};
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), y = shapeOf(getOutput());
  ArrayRef<int64_t> perm = getPerm();
  if (perm.size() != x.size() || y.size() != x.size())
    return emitOpError("perm must list every dimension once");
  SmallVector<bool> seen(x.size(), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= (int64_t)x.size() || seen[perm[i]])
      return emitOpError("perm must be a permutation of 0..rank-1");
    seen[perm[i]] = true;
    if (y[i] != x[perm[i]])
      return emitOpError("result dim ") << i << " must be input dim " << perm[i];
  }
  return success();
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), y = shapeOf(getOutput());
  if (getStarts().size() != x.size() || getSteps().size() != x.size() ||
      y.size() != x.size())
    return emitOpError("expects one start and step per dimension");
  for (size_t d = 0; d < x.size(); ++d) {
    int64_t start = getStarts()[d], step = getSteps()[d];
    if (step == 0)
      return emitOpError("step must be non-zero");
    if (y[d] == 0)
      continue;
    int64_t last = start + (y[d] - 1) * step;
    if (start < 0 || start >= x[d] || last < 0 || last >= x[d])
      return emitOpError("slice of dimension ") << d << " leaves the input";
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("expects at least one input");
  ArrayRef<int64_t> y = shapeOf(getOutput());
  int64_t axis = getAxis();
  if (failed(verifyAxis(*this, axis, y.size())))
    return failure();
  int64_t total = 0;
  for (Value v : getInputs()) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() != y.size())
      return emitOpError("inputs must have the result's rank");
    for (size_t d = 0; d < s.size(); ++d)
      if ((int64_t)d != axis && s[d] != y[d])
        return emitOpError("inputs differ from the result off the axis");
    total += s[axis];
  }
  if (total != y[axis])
    return emitOpError("sizes along the axis do not add up");
  return success();
}

LogicalResult SplitOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  int64_t axis = getAxis();
  if (failed(verifyAxis(*this, axis, x.size())))
    return failure();
  int64_t total = 0;
  for (Value v : getOutputs()) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() != x.size())
      return emitOpError("results must have the input's rank");
    for (size_t d = 0; d < s.size(); ++d)
      if ((int64_t)d != axis && s[d] != x[d])
        return emitOpError("results differ from the input off the axis");
    total += s[axis];
  }
  if (total != x[axis])
    return emitOpError("result sizes along the axis do not add up to ")
           << x[axis];
  return success();
}

LogicalResult GatherOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getData()), idx = shapeOf(getIndices());
  int64_t axis = getAxis();
  if (failed(verifyAxis(*this, axis, x.size())))
    return failure();
  auto idxType = getElementTypeOrSelf(getIndices().getType());
  if (!idxType.isInteger(32) && !idxType.isInteger(64))
    return emitOpError("indices must be int32 or int64");
  SmallVector<int64_t> expected(x.begin(), x.begin() + axis);
  expected.append(idx.begin(), idx.end());
  expected.append(x.begin() + axis + 1, x.end());
  if (ArrayRef<int64_t>(expected) != shapeOf(getOutput()))
    return emitOpError("result shape ")
           << shapeStr(shapeOf(getOutput())) << " differs from computed "
           << shapeStr(expected);
  return success();
}

LogicalResult ExpandOp::verify() {
  auto bc = broadcastShapes({shapeOf(getInput()), shapeOf(getOutput())});
  if (!bc || ArrayRef<int64_t>(*bc) != shapeOf(getOutput()))
    return emitOpError("input does not broadcast to the result shape");
  return success();
}

LogicalResult TileOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), y = shapeOf(getOutput());
  if (getRepeats().size() != x.size() || y.size() != x.size())
    return emitOpError("expects one repeat per dimension");
  for (size_t d = 0; d < x.size(); ++d)
    if (getRepeats()[d] < 0 || y[d] != x[d] * getRepeats()[d])
      return emitOpError("result dim ") << d << " must be input dim times repeats";
  return success();
}

LogicalResult PadOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), y = shapeOf(getOutput());
  ArrayRef<int64_t> pads = getPads();
  if (pads.size() != 2 * x.size() || y.size() != x.size())
    return emitOpError("expects 2 pads per dimension");
  if (getMode() != "constant" && getMode() != "reflect" && getMode() != "edge")
    return emitOpError("unknown mode '") << getMode() << "'";
  for (size_t d = 0; d < x.size(); ++d) {
    if (pads[d] < 0 || pads[x.size() + d] < 0)
      return emitOpError("pads must be non-negative");
    if (y[d] != x[d] + pads[d] + pads[x.size() + d])
      return emitOpError("result dim ") << d << " must be input dim plus pads";
    if (getMode() == "reflect" && (pads[d] >= x[d] || pads[x.size() + d] >= x[d]) &&
        (pads[d] || pads[x.size() + d]))
      return emitOpError("reflect pads must be smaller than the dimension");
    if (getMode() == "edge" && x[d] == 0 && (pads[d] || pads[x.size() + d]))
      return emitOpError("edge padding of an empty dimension");
  }
  return success();
}

LogicalResult GatherElementsOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getData()), idx = shapeOf(getIndices());
  if (failed(verifyAxis(*this, getAxis(), x.size())))
    return failure();
  if (idx.size() != x.size() || shapeOf(getOutput()) != idx)
    return emitOpError("indices and result must have the data's rank and equal shapes");
  auto it = getElementTypeOrSelf(getIndices().getType());
  if (!it.isInteger(32) && !it.isInteger(64))
    return emitOpError("indices must be int32 or int64");
  return success();
}

LogicalResult NllLossOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), t = shapeOf(getTarget());
  if (x.size() < 2 || t.size() != x.size() - 1 || t[0] != x[0] ||
      t.drop_front() != x.drop_front(2))
    return emitOpError("expects input [N, C, d...] and target [N, d...]");
  if (getWeight() && shapeOf(getWeight()) != ArrayRef<int64_t>{x[1]})
    return emitOpError("weight must have one element per class");
  StringRef r = getReduction();
  if (r != "none" && r != "sum" && r != "mean")
    return emitOpError("unknown reduction '") << r << "'";
  ArrayRef<int64_t> y = shapeOf(getOutput());
  if (r == "none" ? y != t : !y.empty())
    return emitOpError("result shape does not match the reduction");
  return success();
}

LogicalResult ResizeOp::verify() {
  size_t rank = shapeOf(getInput()).size();
  if (shapeOf(getOutput()).size() != rank || getScales().size() != rank)
    return emitOpError("expects one scale per dimension and an equal-rank result");
  if (!getRoi().empty() && getRoi().size() != 2 * rank)
    return emitOpError("roi must be empty or hold 2 values per dimension");
  StringRef mode = getMode(), ctm = getCoordinateTransformationMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("unknown mode '") << mode << "'";
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" &&
      ctm != "asymmetric" && ctm != "tf_half_pixel_for_nn" && ctm != "tf_crop_and_resize")
    return emitOpError("unknown coordinate_transformation_mode '") << ctm << "'";
  if (ctm == "tf_crop_and_resize" && getRoi().empty())
    return emitOpError("tf_crop_and_resize needs a roi");
  StringRef nm = getNearestMode();
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    return emitOpError("unknown nearest_mode '") << nm << "'";
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> x = shapeOf(getInput());
  auto type = cast<RankedTensorType>(getOutput().getType());
  int64_t start = getStart(), end = getEnd();
  if (start < 0 || end > (int64_t)x.size() || start > end ||
      type.getNumElements() != end - start ||
      !type.getElementType().isInteger(64))
    return {};
  return DenseElementsAttr::get(type, x.slice(start, end - start));
}

#define GET_OP_CLASSES
#include "dialects/Kiln/KilnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Kernel-level ops
//===----------------------------------------------------------------------===//

LogicalResult CheckOp::verify() {
  // Every {N} of the message names one of the values.
  StringRef text = getMessage();
  for (size_t open = text.find('{'); open != StringRef::npos; open = text.find('{', open + 1)) {
    size_t close = text.find('}', open);
    unsigned index;
    if (close == StringRef::npos || text.slice(open + 1, close).getAsInteger(10, index))
      continue;
    if (index >= getValues().size())
      return emitOpError("message refers to value {") << index << "} but has "
             << getValues().size() << " values";
  }
  return success();
}

namespace {
/// Whether `v` is a static one-dimensional memref of `n` elements of a type
/// that `isElement` accepts.
bool isFlatBuffer(Value v, int64_t n, llvm::function_ref<bool(Type)> isElement) {
  auto t = cast<MemRefType>(v.getType());
  return t.hasStaticShape() && t.getRank() == 1 && t.getNumElements() == n &&
         isElement(t.getElementType());
}
bool isF32Buffer(Value v) { return cast<MemRefType>(v.getType()).getElementType().isF32(); }
} // namespace

LogicalResult GemmTileOp::verify() {
  auto elementOf = [](Value v) { return cast<MemRefType>(v.getType()).getElementType(); };
  bool int8 = elementOf(getAcc()).isInteger(32);
  if (int8) {
    if (!elementOf(getA()).isInteger(8) || !elementOf(getB()).isInteger(8) || getAlt() ||
        getAStride() != 1)
      return emitOpError("an int8 tile reads 8-bit a and b (no alt rows, unit stride)");
  } else if (!isF32Buffer(getA()) || !isF32Buffer(getB()) || !isF32Buffer(getAcc()) ||
             (getAlt() && !isF32Buffer(getAlt()))) {
    return emitOpError("a, alt, b and acc must be float32 memrefs (or 8-bit a and b with an "
                       "int32 acc)");
  }
  if (getWidth() <= 0 || getTileRows() <= 0 || getVectors() <= 0 || getTaps() <= 0 ||
      getAStride() <= 0)
    return emitOpError("width, tile_rows, vectors, taps and a_stride must be positive");
  int64_t count = getTileRows() * getTaps();
  if (!isFlatBuffer(getRows(), count, [](Type t) { return t.isIndex(); }))
    return emitOpError("rows must hold tile_rows * taps = ") << count << " indices";
  if (bool(getAlt()) != bool(getAltRows()))
    return emitOpError("alt and alt_rows go together");
  if (getAltRows() && !isFlatBuffer(getAltRows(), count, [](Type t) { return t.isInteger(1); }))
    return emitOpError("alt_rows must hold tile_rows * taps = ") << count << " booleans";
  int64_t n = getWidth() * getVectors();
  if (!isFlatBuffer(getAcc(), getTileRows() * n, [](Type) { return true; }))
    return emitOpError("acc must hold tile_rows * width * vectors = ")
           << getTileRows() * n << " floats";
  return success();
}

LogicalResult MmaBlockOp::verify() {
  if (!isF32Buffer(getA()) || !isF32Buffer(getB()))
    return emitOpError("a and b must be float32 memrefs");
  if (getM() <= 0 || getN() <= 0 || getK() <= 0)
    return emitOpError("m, n and k must be positive");
  // The GPU expansion gives each warp a 32 x 32 tile.
  if (getBlockM() <= 0 || getBlockN() <= 0 || getBlockM() % 32 || getBlockN() % 32)
    return emitOpError("block_m and block_n must be positive multiples of 32");
  if (!isFlatBuffer(getAcc(), getBlockM() * getBlockN(), [](Type t) { return t.isF32(); }))
    return emitOpError("acc must hold block_m * block_n = ")
           << getBlockM() * getBlockN() << " floats";
  StringRef precision = getPrecision();
  if (precision != "tf32" && precision != "fp16" && precision != "bf16")
    return emitOpError("precision must be tf32, fp16 or bf16");
  for (Region *r : {&getAElement(), &getBElement()}) {
    Block &body = r->front();
    if (body.getNumArguments() != 2 || !body.getArgument(0).getType().isIndex() ||
        !body.getArgument(1).getType().isIndex())
      return emitOpError("a_element and b_element take (row, column) indices");
    if (body.empty() || !isa<ElementAtOp>(body.back()))
      return emitOpError("a_element and b_element end in kiln.element_at");
  }
  return success();
}

LogicalResult DepthwiseTileOp::verify() {
  if (!isF32Buffer(getX()) || !isF32Buffer(getW()) || !isF32Buffer(getAcc()) ||
      (getBias() && !isF32Buffer(getBias())))
    return emitOpError("x, w, acc and bias must be float32 memrefs");
  if (bool(getBias()) != bool(getBiasBase()))
    return emitOpError("bias and bias_base go together");
  if (getWidth() <= 0 || getPixels() <= 0 || getVectors() <= 0 || getKernelH() <= 0 ||
      getKernelW() <= 0 || getStride() <= 0 || getDilation() <= 0 ||
      getChannels() < getWidth() * getVectors())
    return emitOpError("width, pixels, vectors, the kernel, stride and dilation must be "
                       "positive, and channels at least width * vectors");
  int64_t kw0 = getKwBeginAttr().getInt(), kw1 = getKwEndAttr().getInt();
  if (kw0 < 0 || kw0 > kw1 || kw1 > getKernelWAttr().getInt())
    return emitOpError("needs 0 <= kw_begin <= kw_end <= kernel_w");
  if (getGroupSize() < 1 || getWidth() % getGroupSize())
    return emitOpError("group_size must be positive and divide width");
  if (!isFlatBuffer(getRows(), getKernelH(), [](Type t) { return t.isIndex(); }))
    return emitOpError("rows must hold kernel_h = ") << getKernelH() << " indices";
  int64_t n = getPixels() * getWidth() * getVectors();
  if (!isFlatBuffer(getAcc(), n, [](Type) { return true; }))
    return emitOpError("acc must hold pixels * width * vectors = ") << n << " floats";
  return success();
}

LogicalResult TopIndicesOp::verify() {
  auto order = cast<MemRefType>(getOrder().getType());
  if (!order.getElementType().isIndex() || !order.hasStaticShape() || order.getRank() != 1)
    return emitOpError("order must be a static one-dimensional memref of index");
  if (getK() < 0 || getK() > getN() || order.getNumElements() < getN())
    return emitOpError("needs 0 <= k <= n <= the order's size, got k = ")
           << getK() << ", n = " << getN() << ", size " << order.getNumElements();
  return success();
}
