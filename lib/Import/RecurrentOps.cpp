//===- RecurrentOps.cpp - RNN, GRU and LSTM as loops over time ------------===//
//
// A recurrent layer becomes one GEMM for the input projection of all time
// steps and, per direction, one kiln.recurrence: a kernel that loops over the
// steps, each a GEMM with the recurrent weights (on the micro-kernel) and the
// cell's gate maths, written here once as kiln elementwise ops in its body.
// `sequence_lens` is honoured at run time: past a batch entry's length its
// state is held and its Y rows are zero, which is also what the reverse
// direction needs (its state stays initial until the entry's last valid
// step).
//
// A GRU without linear_before_reset multiplies the reset gate into h before
// the candidate's recurrent product, a second GEMM inside the step that the
// loop kernel does not have; it is unrolled over time instead (a chain of
// kiln ops per step, masked with Where for sequence_lens), with the same
// gate maths.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/ImporterCore.h"
#include "lib/Import/RecurrentOps.h"
#include "lib/Import/TensorData.h"

namespace kiln::import {
namespace {

enum class Cell { Rnn, Gru, Lstm };

/// An activation named by the ONNX RNN attributes, with its alpha and beta.
struct Activation {
  std::string name;
  double alpha = 0, beta = 0;

  Value apply(ValueBuilder &u, Value x) const {
    Importer &im = u.im;
    if (name == "Sigmoid")
      return im.create<SigmoidOp>(x.getType(), x);
    if (name == "Tanh")
      return im.create<TanhOp>(x.getType(), x);
    if (name == "Relu")
      return im.create<ReluOp>(x.getType(), x);
    if (name == "Affine")
      return u.add(u.pointwise("scale", x, {alpha}), u.scalar(beta));
    if (name == "ScaledTanh")
      return u.pointwise("scale",
                         im.create<TanhOp>(x.getType(), u.pointwise("scale", x, {beta})),
                         {alpha});
    if (name == "LeakyRelu")
      return u.pointwise("leaky_relu", x, {alpha});
    if (name == "ThresholdedRelu")
      return u.pointwise("thresholded_relu", x, {alpha});
    if (name == "HardSigmoid")
      return u.pointwise("hard_sigmoid", x, {alpha, beta});
    if (name == "Elu")
      return u.pointwise("elu", x, {alpha});
    if (name == "Softsign")
      return u.pointwise("softsign", x, {});
    if (name == "Softplus")
      return u.pointwise("softplus", x, {});
    fail("unsupported activation '" + name + "'");
  }
};

/// The activations of all directions, with ONNX's defaults and parameters.
/// activation_alpha/beta are consumed in order by the activations that take
/// them, as ONNX Runtime reads them.
std::vector<Activation> activations(Importer &im, Cell cell, int64_t numDirections) {
  std::vector<std::string> defaults =
      cell == Cell::Rnn   ? std::vector<std::string>{"Tanh"}
      : cell == Cell::Gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                          : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  std::vector<std::string> names;
  if (auto *a = im.typedAttr("activations", onnx::AttributeProto::STRINGS)) {
    names.assign(a->strings().begin(), a->strings().end());
    if (names.size() != defaults.size() * numDirections)
      fail("expected " + std::to_string(defaults.size() * numDirections) +
           " activations, got " + std::to_string(names.size()));
  } else {
    for (int64_t d = 0; d < numDirections; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  std::vector<float> alphas, betas;
  if (auto *a = im.typedAttr("activation_alpha", onnx::AttributeProto::FLOATS))
    alphas.assign(a->floats().begin(), a->floats().end());
  if (auto *a = im.typedAttr("activation_beta", onnx::AttributeProto::FLOATS))
    betas.assign(a->floats().begin(), a->floats().end());
  size_t nextAlpha = 0, nextBeta = 0;
  std::vector<Activation> out;
  for (const std::string &n : names) {
    Activation act{n};
    bool usesAlpha = n == "Affine" || n == "ScaledTanh" || n == "LeakyRelu" ||
                     n == "ThresholdedRelu" || n == "HardSigmoid" || n == "Elu";
    bool usesBeta = n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid";
    double alphaDefault = n == "LeakyRelu" ? 0.01 : n == "HardSigmoid" ? 0.2 : 1.0;
    double betaDefault = n == "HardSigmoid" ? 0.5 : 0.0;
    act.alpha = usesAlpha && nextAlpha < alphas.size() ? alphas[nextAlpha++] : alphaDefault;
    act.beta = usesBeta && nextBeta < betas.size() ? betas[nextBeta++] : betaDefault;
    out.push_back(act);
  }
  return out;
}

/// What the gate maths of a cell reads besides the step's values.
struct CellSpec {
  Cell cell;
  const Activation *act; ///< this direction's activations
  float clipLimit;
  bool inputForget;
  Value pi, po, pf; ///< LSTM peepholes [hidden], if any
  Value rbh;        ///< GRU linear_before_reset: recurrent candidate bias
};

/// The new states of one step (h, and c for an LSTM) from each gate's input
/// projection `x[g]` and recurrent part `r[g]` ([batch, hidden] each). A GRU
/// without linear_before_reset has no r[2]: `resetCandidate(rg)` gives the
/// candidate's recurrent part (r ⊙ h)·R_hᵀ instead.
std::pair<Value, Value> cellStep(ValueBuilder &u, const CellSpec &p, ArrayRef<Value> x,
                                 ArrayRef<Value> r, Value h, Value c,
                                 llvm::function_ref<Value(Value)> resetCandidate) {
  auto f = [&](size_t k, Value v) { return p.act[k].apply(u, u.clip(v, p.clipLimit)); };
  if (p.cell == Cell::Rnn)
    return {f(0, u.add(x[0], r[0])), Value()};
  if (p.cell == Cell::Gru) {
    Value z = f(0, u.add(x[0], r[0]));
    Value rg = f(0, u.add(x[1], r[1]));
    Value cand = resetCandidate ? resetCandidate(rg)
                                : u.mul(rg, p.rbh ? u.add(r[2], p.rbh) : r[2]);
    Value hTilde = f(1, u.add(x[2], cand));
    return {u.add(hTilde, u.mul(z, u.sub(h, hTilde))), Value()};
  }
  Value iPre = u.add(x[0], r[0]), oPre = u.add(x[1], r[1]), fPre = u.add(x[2], r[2]);
  if (p.pi) {
    iPre = u.add(iPre, u.mul(p.pi, c));
    fPre = u.add(fPre, u.mul(p.pf, c));
  }
  Value ig = f(0, iPre);
  Value fg = p.inputForget ? u.sub(u.scalar(1.0), ig) : f(0, fPre);
  Value cand = f(1, u.add(x[3], r[3]));
  Value cNew = u.add(u.mul(fg, c), u.mul(ig, cand));
  if (p.po)
    oPre = u.add(oPre, u.mul(p.po, cNew));
  return {u.mul(f(0, oPre), p.act[2].apply(u, cNew)), cNew};
}

void importRecurrent(Importer &im, Cell cell) {
  Value x = im.input(0), w = im.input(1), r = im.input(2);
  Value bias = im.optionalInput(3), seqLens = im.optionalInput(4);
  Value initH = im.optionalInput(5);
  Value initC = cell == Cell::Lstm ? im.optionalInput(6) : Value();
  Value peep = cell == Cell::Lstm ? im.optionalInput(7) : Value();
  Type elt = ValueBuilder::elementOf(x);
  if (!isa<FloatType>(elt))
    fail("X must be floating point");
  if (shapeOf(x).size() != 3 || shapeOf(w).size() != 3 || shapeOf(r).size() != 3)
    fail("X, W and R must have rank 3");
  ValueBuilder u(im, elt);

  bool batchFirst = im.intAttr("layout", 0) != 0;
  if (batchFirst) {
    x = u.transpose(x, {1, 0, 2});
    if (initH)
      initH = u.transpose(initH, {1, 0, 2});
    if (initC)
      initC = u.transpose(initC, {1, 0, 2});
  }
  const int64_t steps = shapeOf(x)[0], batch = shapeOf(x)[1], inputSize = shapeOf(x)[2];
  const int64_t gates = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
  const int64_t hidden = im.intAttr("hidden_size", shapeOf(r)[2]);
  std::string direction = im.stringAttr("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    fail("unknown direction '" + direction + "'");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  auto expectShape = [&](Value v, ArrayRef<int64_t> shape, const char *what) {
    if (v && shapeOf(v) != shape)
      fail(std::string(what) + " has shape " + dimsText(shapeOf(v)) +
           ", expected " + dimsText(shape));
  };
  expectShape(w, {dirs, gates * hidden, inputSize}, "W");
  expectShape(r, {dirs, gates * hidden, hidden}, "R");
  expectShape(bias, {dirs, 2 * gates * hidden}, "B");
  expectShape(seqLens, {batch}, "sequence_lens");
  expectShape(initH, {dirs, batch, hidden}, "initial_h");
  expectShape(initC, {dirs, batch, hidden}, "initial_c");
  expectShape(peep, {dirs, 3 * hidden}, "P");
  const float clipLimit = im.floatAttr("clip", 0.0f);
  const bool linearBeforeReset = im.intAttr("linear_before_reset", 0) != 0;
  const bool inputForget = im.intAttr("input_forget", 0) != 0;
  std::vector<Activation> acts = activations(im, cell, dirs);
  const size_t actsPerDir = acts.size() / dirs;

  const bool unrolled = cell == Cell::Gru && !linearBeforeReset;
  // Step masks for sequence_lens in the unrolled form, shared by both
  // directions: [batch, 1].
  std::vector<Value> masks;
  if (seqLens && !ValueBuilder::elementOf(seqLens).isInteger(32))
    fail("sequence_lens must be int32");
  if (seqLens && unrolled) {
    Type lenType = ValueBuilder::elementOf(seqLens);
    Value lens = u.reshape(seqLens, {batch, 1});
    for (int64_t t = 0; t < steps; ++t) {
      auto st = u.type({}, lenType);
      Value tv = im.create<ConstantOp>(
          DenseElementsAttr::get(st, im.b().getIntegerAttr(lenType, t)));
      masks.push_back(im.create<LessOp>(u.type({batch, 1}, im.b().getI1Type()), tv, lens));
    }
  }
  auto select = [&](int64_t t, Value fresh, Value held) -> Value {
    if (masks.empty())
      return fresh;
    return im.create<WhereOp>(fresh.getType(), masks[t], fresh, held);
  };

  Value x2d = u.reshape(x, {steps * batch, inputSize});
  // Default states and masked-out Y rows; removed again if unused.
  Value zeroState = u.zeros({batch, hidden});
  SmallVector<Value> yDirs, hDirs, cDirs;
  for (int64_t d = 0; d < dirs; ++d) {
    const Activation *act = &acts[d * actsPerDir];
    Value wd = u.reshape(u.slice(w, 0, d, 1), {gates * hidden, inputSize});
    Value rd = u.reshape(u.slice(r, 0, d, 1), {gates * hidden, hidden});
    Value wb, rb;
    if (bias) {
      Value bd = u.reshape(u.slice(bias, 0, d, 1), {2 * gates * hidden});
      wb = u.slice(bd, 0, 0, gates * hidden);
      rb = u.slice(bd, 0, gates * hidden, gates * hidden);
    }
    // GRU's recurrent bias of the candidate gate sits inside the reset
    // product when linear_before_reset is set, so only its z/r parts fold
    // into the input projection.
    Value xBias;
    if (bias)
      xBias = cell == Cell::Gru && linearBeforeReset
                  ? u.add(wb, u.concat({u.slice(rb, 0, 0, 2 * hidden), u.zeros({hidden})}, 0))
                  : u.add(wb, rb);
    Value xw = u.linear(x2d, wd, xBias); // [steps*batch, gates*hidden]

    Value h = initH ? u.reshape(u.slice(initH, 0, d, 1), {batch, hidden})
                    : zeroState;
    Value c = initC ? u.reshape(u.slice(initC, 0, d, 1), {batch, hidden})
                    : zeroState;
    CellSpec spec{cell, act, clipLimit, inputForget, {}, {}, {}, {}};
    if (peep) {
      Value pd = u.reshape(u.slice(peep, 0, d, 1), {3 * hidden});
      spec.pi = u.slice(pd, 0, 0, hidden);
      spec.po = u.slice(pd, 0, hidden, hidden);
      spec.pf = u.slice(pd, 0, 2 * hidden, hidden);
    }
    if (cell == Cell::Gru && bias && linearBeforeReset)
      spec.rbh = u.slice(rb, 0, 2 * hidden, hidden);
    bool reverse = direction == "reverse" || d == 1;

    if (!unrolled) {
      // One kiln.recurrence: its body is the cell, on block arguments.
      SmallVector<Value> initial = {h}, extras;
      if (cell == Cell::Lstm)
        initial.push_back(c);
      for (Value e : {spec.pi, spec.po, spec.pf, spec.rbh})
        if (e)
          extras.push_back(e);
      auto state = u.type({batch, hidden});
      SmallVector<Type> stateTypes(initial.size(), state);
      auto loop = im.create<RecurrenceOp>(
          u.type({steps, batch, hidden}), stateTypes,
          u.reshape(xw, {steps, batch, gates * hidden}), rd, initial, extras, seqLens,
          (uint64_t)gates, reverse);
      Block *body = new Block();
      loop.getBody().push_back(body);
      SmallVector<Value> xs, rs;
      for (int64_t g = 0; g < gates; ++g)
        xs.push_back(body->addArgument(state, loop.getLoc()));
      for (int64_t g = 0; g < gates; ++g)
        rs.push_back(body->addArgument(state, loop.getLoc()));
      SmallVector<Value> states;
      for (size_t k = 0; k < initial.size(); ++k)
        states.push_back(body->addArgument(state, loop.getLoc()));
      CellSpec inner = spec;
      for (Value *e : {&inner.pi, &inner.po, &inner.pf, &inner.rbh})
        if (*e)
          *e = body->addArgument(u.type({hidden}), loop.getLoc());
      {
        OpBuilder::InsertionGuard guard(im.b());
        im.b().setInsertionPointToStart(body);
        auto [hNew, cNew] = cellStep(u, inner, xs, rs, states[0],
                                     cell == Cell::Lstm ? states[1] : Value(), nullptr);
        SmallVector<Value> yielded = {hNew};
        if (cNew)
          yielded.push_back(cNew);
        im.create<YieldOp>(yielded);
      }
      if (im.hasOutput(0))
        yDirs.push_back(u.reshape(loop.getY(), {steps, 1, batch, hidden}));
      h = loop.getStates()[0];
      if (cell == Cell::Lstm)
        c = loop.getStates()[1];
      hDirs.push_back(u.reshape(h, {1, batch, hidden}));
      cDirs.push_back(u.reshape(c, {1, batch, hidden}));
      continue;
    }

    // GRU without linear_before_reset: unrolled over time.
    Value rzr = u.slice(rd, 0, 0, 2 * hidden), rh = u.slice(rd, 0, 2 * hidden, hidden);
    std::vector<Value> ys(steps);
    for (int64_t i = 0; i < steps; ++i) {
      int64_t t = reverse ? steps - 1 - i : i;
      Value xt = u.slice(xw, 0, t * batch, batch);
      Value hzr = u.linear(h, rzr, Value()); // z/r biases are in xw
      auto gate = [&](Value v, int64_t g) { return u.slice(v, 1, g * hidden, hidden); };
      Value hCur = h;
      auto [hNew, cNew] = cellStep(
          u, spec, {gate(xt, 0), gate(xt, 1), gate(xt, 2)}, {gate(hzr, 0), gate(hzr, 1)}, h,
          Value(), [&](Value rg) { return u.linear(u.mul(rg, hCur), rh, Value()); });
      ys[t] = masks.empty() ? hNew : select(t, hNew, zeroState);
      h = select(t, hNew, h);
    }
    if (im.hasOutput(0)) {
      SmallVector<Value> rows;
      for (Value y : ys)
        rows.push_back(u.reshape(y, {1, 1, batch, hidden}));
      yDirs.push_back(u.concat(rows, 0)); // [steps, 1, batch, hidden]
    }
    hDirs.push_back(u.reshape(h, {1, batch, hidden}));
    cDirs.push_back(u.reshape(c, {1, batch, hidden}));
  }

  if (im.hasOutput(0)) {
    Value y = u.concat(yDirs, 1); // [steps, dirs, batch, hidden]
    im.bind(0, batchFirst ? u.transpose(y, {2, 0, 1, 3}) : y);
  }
  auto bindState = [&](size_t i, ArrayRef<Value> parts) {
    Value s = u.concat(parts, 0); // [dirs, batch, hidden]
    im.bind(i, batchFirst ? u.transpose(s, {1, 0, 2}) : s);
  };
  if (im.hasOutput(1))
    bindState(1, hDirs);
  if (cell == Cell::Lstm && im.hasOutput(2))
    bindState(2, cDirs);
}

} // namespace

void importRnn(Importer &im) { importRecurrent(im, Cell::Rnn); }
void importGru(Importer &im) { importRecurrent(im, Cell::Gru); }
void importLstm(Importer &im) { importRecurrent(im, Cell::Lstm); }

} // namespace kiln::import
