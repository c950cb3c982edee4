//===- StructureLowering.cpp - Sequences, optionals and control flow ------===//
//
// The graph is rebuilt node by node. An environment maps each ONNX value name
// to what it now is: a tensor (the name of a tensor in the new graph), a list
// of values (sequence) or zero or one value (optional). Ops on sequences and
// optionals only edit the environment; control flow inlines its subgraphs
// with fresh names. Small constants are tracked and folded on the way, so
// loop counters, positions and conditions computed in a body are known when
// the next op needs them.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/StructureLowering.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/ShapeFolding.h"
#include "lib/Import/TensorData.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <algorithm>
#include <optional>
#include <set>

namespace kiln {
namespace {

using onnx::GraphProto;
using onnx::NodeProto;
using onnx::TensorProto;
using onnx::TypeProto;
using Kind = ValueShape::Kind;

/// Unrolling stops here: a loop this long is not compile-time structure.
constexpr int64_t kMaxUnrolledIterations = 4096;
/// Initializers up to this size are tracked as constants while lowering.
constexpr int64_t kMaxTrackedConstantElements = 1 << 16;

struct LowerError {
  std::string message;
};

[[noreturn]] void fail(const std::string &message) { throw LowerError{message}; }

/// What an ONNX value has become: a tensor of the new graph, or a structure.
struct SValue {
  Kind kind = Kind::Tensor;
  std::string tensor;
  std::vector<SValue> elements;

  static SValue tensorNamed(std::string name) {
    SValue v;
    v.tensor = std::move(name);
    return v;
  }
  static SValue structure(Kind kind, std::vector<SValue> elements = {}) {
    SValue v;
    v.kind = kind;
    v.elements = std::move(elements);
    return v;
  }
};

using Env = std::map<std::string, SValue>;

const char *kindName(Kind k) {
  return k == Kind::Tensor ? "a tensor" : k == Kind::Sequence ? "a sequence" : "an optional";
}

const onnx::AttributeProto *findAttr(const NodeProto &n, const std::string &name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const NodeProto &n, const std::string &name, int64_t dflt) {
  const auto *a = findAttr(n, name);
  return a && a->type() == onnx::AttributeProto::INT ? a->i() : dflt;
}

std::vector<int64_t> intsAttr(const NodeProto &n, const std::string &name) {
  const auto *a = findAttr(n, name);
  if (!a || a->type() != onnx::AttributeProto::INTS)
    return {};
  return {a->ints().begin(), a->ints().end()};
}

const GraphProto &graphAttr(const NodeProto &n, const std::string &name) {
  const auto *a = findAttr(n, name);
  if (!a || a->type() != onnx::AttributeProto::GRAPH)
    fail("missing graph attribute '" + name + "'");
  return a->g();
}

/// The integer values of a constant tensor.
std::vector<int64_t> intValues(const TensorProto &t) {
  auto bytes = tensorBytes(t);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    fail("cannot read constant '" + t.name() + "'");
  }
  std::vector<int64_t> out;
  size_t elt = onnxElementSize(t.data_type());
  for (size_t off = 0; elt && off + elt <= bytes->size(); off += elt) {
    const char *p = bytes->data() + off;
    switch (t.data_type()) {
    case TensorProto::INT64: { int64_t v; std::memcpy(&v, p, 8); out.push_back(v); break; }
    case TensorProto::INT32: { int32_t v; std::memcpy(&v, p, 4); out.push_back(v); break; }
    case TensorProto::BOOL:
    case TensorProto::UINT8: out.push_back((uint8_t)*p); break;
    default: fail("constant '" + t.name() + "' must be an integer or bool tensor");
    }
  }
  return out;
}

TensorProto scalarTensor(int32_t dtype, int64_t value) {
  TensorProto t;
  t.set_data_type(dtype);
  if (dtype == TensorProto::BOOL)
    t.add_int32_data(value != 0);
  else
    t.add_int64_data(value);
  return t;
}

TensorProto int64Vector(const std::vector<int64_t> &values) {
  TensorProto t;
  t.set_data_type(TensorProto::INT64);
  t.add_dims(values.size());
  for (int64_t v : values)
    t.add_int64_data(v);
  return t;
}

class Lowerer {
public:
  Lowerer(const onnx::ModelProto &model, const ConstantBudget &budget)
      : model(model), budget(budget) {}

  Signature run(GraphProto &graph, const std::map<std::string, ValueShape> &inputShapes,
                const std::set<std::string> &specialized);

private:
  const onnx::ModelProto &model;
  const ConstantBudget &budget;
  /// Bytes of the constants folded so far, against the model budget.
  int64_t foldedBytes = 0;
  GraphProto out;
  std::map<std::string, TensorProto> consts;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::set<std::string> used;
  int counter = 0;

  //===--- Names, constants and shapes -------------------------------------===//

  std::string fresh(const std::string &hint) {
    std::string name = hint;
    while (used.count(name))
      name = hint + "_" + std::to_string(++counter);
    used.insert(name);
    return name;
  }
  std::string emit(NodeProto node) {
    for (const auto &o : node.output())
      used.insert(o);
    std::string first = node.output_size() ? node.output(0) : "";
    *out.add_node() = std::move(node);
    return first;
  }
  /// Emits a Constant node producing `value` as `output`, and records it.
  std::string emitConstantAs(const std::string &nodeName, const std::string &output,
                             TensorProto value) {
    value.set_name(output);
    consts[output] = value;
    return emit(constantNode(nodeName, std::move(value)));
  }
  std::string emitConstant(TensorProto value, const std::string &hint) {
    std::string name = fresh(hint);
    return emitConstantAs(name, name, std::move(value));
  }
  std::string emitOp(const std::string &op, std::vector<std::string> inputs,
                     const std::string &hint, std::vector<onnx::AttributeProto> attrs = {}) {
    NodeProto n;
    n.set_op_type(op);
    std::string name = fresh(hint);
    n.set_name(name);
    for (auto &i : inputs)
      n.add_input(i);
    n.add_output(name);
    for (auto &a : attrs)
      *n.add_attribute() = std::move(a);
    return emit(std::move(n));
  }
  static onnx::AttributeProto intAttribute(const char *name, int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  const TensorProto *constant(const std::string &tensor) {
    auto it = consts.find(tensor);
    return it == consts.end() ? nullptr : &it->second;
  }
  /// The static shape of a tensor of the new graph; runs shape inference on
  /// the graph built so far when it is not yet known.
  std::vector<int64_t> shapeOf(const std::string &tensor) {
    if (const TensorProto *c = constant(tensor))
      return {c->dims().begin(), c->dims().end()};
    auto it = shapes.find(tensor);
    if (it == shapes.end()) {
      onnx::ModelProto snapshot;
      snapshot.set_ir_version(model.ir_version());
      *snapshot.mutable_opset_import() = model.opset_import();
      *snapshot.mutable_graph() = out;
      try {
        onnx::ShapeInferenceOptions options(false, 0, true);
        onnx::shape_inference::InferShapes(snapshot, onnx::OpSchemaRegistry::Instance(),
                                           options);
      } catch (const std::exception &) {
      }
      for (const auto &v : snapshot.graph().value_info())
        recordShape(v);
      it = shapes.find(tensor);
      if (it == shapes.end())
        fail("the shape of '" + tensor + "' is not known at compile time");
    }
    return it->second;
  }
  void recordShape(const onnx::ValueInfoProto &v) {
    if (auto dims = staticDims(v.type()))
      shapes[v.name()] = *dims;
  }

  //===--- Environment -----------------------------------------------------===//

  static const SValue &lookup(const Env &env, const std::string &name) {
    auto it = env.find(name);
    if (it == env.end())
      fail("value '" + name + "' is not defined");
    return it->second;
  }
  static const SValue &expect(const Env &env, const std::string &name, Kind kind) {
    const SValue &v = lookup(env, name);
    if (v.kind != kind)
      fail("value '" + name + "' is " + kindName(v.kind) + ", expected " + kindName(kind));
    return v;
  }
  /// A compile-time integer scalar operand (positions, trip counts, conditions).
  int64_t constantInt(const Env &env, const std::string &name, const char *what) {
    const SValue &v = expect(env, name, Kind::Tensor);
    const TensorProto *c = constant(v.tensor);
    if (!c)
      fail(std::string(what) + " '" + name + "' must be known at compile time "
           "(a constant, or a graph input specialised with --specialize)");
    auto values = intValues(*c);
    if (values.size() != 1)
      fail(std::string(what) + " '" + name + "' must be a scalar");
    return values[0];
  }

  //===--- Lowering --------------------------------------------------------===//

  void lowerNodes(const GraphProto &g, Env &env, const std::string &prefix) {
    for (int i = 0; i < g.node_size(); ++i) {
      const NodeProto &n = g.node(i);
      std::string label = n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
      try {
        lowerNode(n, env, prefix);
      } catch (const LowerError &e) {
        fail("node '" + prefix + label + "' (" + n.op_type() + "): " + e.message);
      }
    }
  }

  std::vector<SValue> inlineGraph(const GraphProto &body, const Env &outer,
                                  const std::vector<SValue> &inputs,
                                  const std::string &prefix) {
    if (body.input_size() != (int)inputs.size())
      fail("the subgraph takes " + std::to_string(body.input_size()) +
           " inputs, the node provides " + std::to_string(inputs.size()));
    Env env = outer;
    for (int i = 0; i < body.input_size(); ++i)
      env[body.input(i).name()] = inputs[i];
    for (const auto &t : body.initializer()) {
      TensorProto copy = t;
      copy.set_name(fresh(prefix + t.name()));
      env[t.name()] = SValue::tensorNamed(copy.name());
      consts[copy.name()] = copy;
      *out.add_initializer() = std::move(copy);
    }
    lowerNodes(body, env, prefix);
    std::vector<SValue> results;
    for (const auto &o : body.output())
      results.push_back(lookup(env, o.name()));
    return results;
  }

  void lowerNode(const NodeProto &n, Env &env, const std::string &prefix) {
    const std::string &op = n.op_type();
    bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
    auto has = [&](int i) { return i < n.input_size() && !n.input(i).empty(); };
    auto in = [&](int i) -> const SValue & {
      if (!has(i))
        fail("missing input " + std::to_string(i));
      return lookup(env, n.input(i));
    };
    auto seqIn = [&](int i) -> const SValue & { return expect(env, n.input(i), Kind::Sequence); };
    auto tensorIn = [&](int i) -> const std::string & {
      return expect(env, n.input(i), Kind::Tensor).tensor;
    };
    auto bind = [&](int i, SValue v) {
      if (i < n.output_size() && !n.output(i).empty())
        env[n.output(i)] = std::move(v);
    };
    auto outHint = [&](int i) {
      return prefix + (i < n.output_size() && !n.output(i).empty() ? n.output(i) : op);
    };
    auto position = [&](int64_t pos, int64_t size, bool allowEnd) {
      int64_t hi = allowEnd ? size : size - 1;
      if (pos < -size || pos > hi)
        fail("position " + std::to_string(pos) + " is out of range for a sequence of " +
             std::to_string(size));
      return pos < 0 ? pos + size : pos;
    };

    if (!defaultDomain)
      return copyNode(n, env, prefix);

    if (op == "SequenceConstruct") {
      std::vector<SValue> elements;
      for (int i = 0; i < n.input_size(); ++i)
        elements.push_back(SValue::tensorNamed(tensorIn(i)));
      return bind(0, SValue::structure(Kind::Sequence, elements));
    }
    if (op == "SequenceEmpty")
      return bind(0, SValue::structure(Kind::Sequence));
    if (op == "SequenceInsert") {
      SValue seq = seqIn(0);
      int64_t size = seq.elements.size();
      int64_t pos = has(2) ? position(constantInt(env, n.input(2), "position"), size, true) : size;
      seq.elements.insert(seq.elements.begin() + pos, SValue::tensorNamed(tensorIn(1)));
      return bind(0, seq);
    }
    if (op == "SequenceErase") {
      SValue seq = seqIn(0);
      int64_t size = seq.elements.size();
      if (size == 0)
        fail("cannot erase from an empty sequence");
      int64_t pos = has(1) ? position(constantInt(env, n.input(1), "position"), size, false)
                           : size - 1;
      seq.elements.erase(seq.elements.begin() + pos);
      return bind(0, seq);
    }
    if (op == "SequenceAt") {
      const SValue &seq = seqIn(0);
      int64_t pos = position(constantInt(env, n.input(1), "position"), seq.elements.size(), false);
      return bind(0, seq.elements[pos]);
    }
    if (op == "SequenceLength") {
      int64_t size = seqIn(0).elements.size();
      return bind(0, SValue::tensorNamed(
                         emitConstant(scalarTensor(TensorProto::INT64, size), outHint(0))));
    }
    if (op == "ConcatFromSequence")
      return bind(0, SValue::tensorNamed(concatFromSequence(n, seqIn(0), outHint(0))));
    if (op == "SplitToSequence")
      return bind(0, splitToSequence(n, env, tensorIn(0), outHint(0)));
    if (op == "Optional") {
      if (!has(0))
        return bind(0, SValue::structure(Kind::Optional));
      return bind(0, SValue::structure(Kind::Optional, {in(0)}));
    }
    if (op == "OptionalHasElement") {
      bool present = has(0) && (in(0).kind != Kind::Optional || !in(0).elements.empty());
      return bind(0, SValue::tensorNamed(
                         emitConstant(scalarTensor(TensorProto::BOOL, present), outHint(0))));
    }
    if (op == "OptionalGetElement") {
      const SValue &v = in(0);
      if (v.kind != Kind::Optional)
        return bind(0, v);
      if (v.elements.empty())
        fail("the optional '" + n.input(0) + "' is empty");
      return bind(0, v.elements[0]);
    }
    if (op == "Identity" && n.input_size() == 1)
      return bind(0, in(0));
    if (op == "If")
      return lowerIf(n, env, prefix);
    if (op == "Loop")
      return lowerLoop(n, env, prefix);
    if (op == "Scan")
      return lowerScan(n, env, prefix);
    if (op == "SequenceMap")
      return lowerSequenceMap(n, env, prefix);
    copyNode(n, env, prefix);
  }

  /// A plain tensor op: renamed into the new graph, or folded if its inputs
  /// are all constants.
  void copyNode(const NodeProto &n, Env &env, const std::string &prefix) {
    for (const auto &a : n.attribute())
      if (a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS)
        fail("operator with subgraphs is not supported");
    NodeProto copy = n;
    std::vector<const TensorProto *> constInputs;
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i).empty()) {
        constInputs.push_back(nullptr);
        continue;
      }
      const SValue &v = lookup(env, n.input(i));
      if (v.kind != Kind::Tensor)
        fail("input '" + n.input(i) + "' is " + kindName(v.kind) + "; " + n.op_type() +
             " takes tensors");
      copy.set_input(i, v.tensor);
      constInputs.push_back(constant(v.tensor));
    }
    if (!prefix.empty())
      copy.set_name(prefix + (n.name().empty() ? n.op_type() : n.name()));
    for (int o = 0; o < n.output_size(); ++o) {
      if (n.output(o).empty())
        continue;
      std::string name = prefix.empty() ? n.output(o) : fresh(prefix + n.output(o));
      copy.set_output(o, name);
      env[n.output(o)] = SValue::tensorNamed(name);
    }
    bool isDefault = n.domain().empty() || n.domain() == "ai.onnx";
    if (isDefault && n.op_type() == "Constant") {
      if (const auto *a = findAttr(n, "value"); a && a->type() == onnx::AttributeProto::TENSOR &&
                                                n.output_size() == 1) {
        TensorProto t = a->t();
        t.set_name(copy.output(0));
        consts[copy.output(0)] = t;
      }
    } else if (isDefault && n.output_size() == 1 && n.input_size() > 0 &&
               std::all_of(constInputs.begin(), constInputs.end(),
                           [](const TensorProto *t) { return t != nullptr; })) {
      if (auto folded = foldConstantNode(
              copy, constInputs, std::min(budget.valueBytes(), budget.modelBytes - foldedBytes))) {
        foldedBytes += folded->raw_data().size();
        emitConstantAs(copy.name(), copy.output(0), std::move(*folded));
        return;
      }
    }
    emit(std::move(copy));
  }

  std::string stack(const std::vector<std::string> &tensors, int64_t axis,
                    const std::string &hint) {
    if (tensors.empty())
      fail("cannot stack zero values");
    int64_t rank = shapeOf(tensors[0]).size() + 1;
    if (axis < -rank || axis >= rank)
      fail("axis " + std::to_string(axis) + " is out of range");
    if (axis < 0)
      axis += rank;
    std::string axes = emitConstant(int64Vector({axis}), hint + "_axes");
    std::vector<std::string> parts;
    for (const auto &t : tensors)
      parts.push_back(emitOp("Unsqueeze", {t, axes}, hint + "_unsqueezed"));
    if (parts.size() == 1)
      return emitOp("Identity", {parts[0]}, hint);
    return emitOp("Concat", parts, hint, {intAttribute("axis", axis)});
  }

  std::string concatFromSequence(const NodeProto &n, const SValue &seq,
                                 const std::string &hint) {
    std::vector<std::string> tensors;
    for (const SValue &e : seq.elements)
      tensors.push_back(e.tensor);
    if (tensors.empty())
      fail("cannot concatenate an empty sequence");
    int64_t axis = intAttr(n, "axis", 0);
    if (intAttr(n, "new_axis", 0) != 0)
      return stack(tensors, axis, hint);
    if (tensors.size() == 1)
      return emitOp("Identity", {tensors[0]}, hint);
    return emitOp("Concat", tensors, hint, {intAttribute("axis", axis)});
  }

  SValue splitToSequence(const NodeProto &n, const Env &env, const std::string &x,
                         const std::string &hint) {
    std::vector<int64_t> shape = shapeOf(x);
    int64_t rank = shape.size();
    int64_t axis = intAttr(n, "axis", 0);
    if (axis < -rank || axis >= rank)
      fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    if (axis < 0)
      axis += rank;
    int64_t length = shape[axis];
    std::vector<int64_t> sizes;
    bool squeeze = false;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      const SValue &s = expect(env, n.input(1), Kind::Tensor);
      const TensorProto *c = constant(s.tensor);
      if (!c)
        fail("split must be known at compile time");
      std::vector<int64_t> values = intValues(*c);
      if (c->dims_size() == 0) {
        if (values[0] <= 0)
          fail("split must be positive");
        for (int64_t left = length; left > 0; left -= values[0])
          sizes.push_back(std::min(left, values[0]));
      } else {
        sizes = values;
        int64_t total = 0;
        for (int64_t v : sizes)
          total += v;
        if (total != length)
          fail("split sizes add up to " + std::to_string(total) + ", the axis has " +
               std::to_string(length));
      }
    } else {
      sizes.assign(length, 1);
      squeeze = intAttr(n, "keepdims", 1) == 0;
    }
    SValue seq = SValue::structure(Kind::Sequence);
    if (sizes.empty())
      return seq;
    NodeProto split;
    split.set_op_type("Split");
    split.set_name(fresh(hint + "_split"));
    split.add_input(x);
    split.add_input(emitConstant(int64Vector(sizes), hint + "_sizes"));
    *split.add_attribute() = intAttribute("axis", axis);
    std::vector<std::string> parts;
    for (size_t i = 0; i < sizes.size(); ++i) {
      parts.push_back(fresh(hint + "_" + std::to_string(i)));
      split.add_output(parts.back());
    }
    emit(std::move(split));
    std::string axes = squeeze ? emitConstant(int64Vector({axis}), hint + "_axes") : "";
    for (auto &p : parts)
      seq.elements.push_back(
          SValue::tensorNamed(squeeze ? emitOp("Squeeze", {p, axes}, p + "_squeezed") : p));
    return seq;
  }

  void lowerIf(const NodeProto &n, Env &env, const std::string &prefix) {
    const std::string &cond = expect(env, n.input(0), Kind::Tensor).tensor;
    std::string label = prefix + (n.name().empty() ? "If" : n.name());
    std::vector<SValue> results;
    if (const TensorProto *c = constant(cond)) {
      auto values = intValues(*c);
      if (values.size() != 1)
        fail("the condition must be a scalar");
      const char *branch = values[0] ? "then_branch" : "else_branch";
      results = inlineGraph(graphAttr(n, branch), env, {}, label + "/" + branch + "/");
    } else {
      // Known only at run time: compute both branches and select.
      auto thenOut = inlineGraph(graphAttr(n, "then_branch"), env, {}, label + "/then/");
      auto elseOut = inlineGraph(graphAttr(n, "else_branch"), env, {}, label + "/else/");
      if (thenOut.size() != elseOut.size())
        fail("the branches have different numbers of outputs");
      for (size_t i = 0; i < thenOut.size(); ++i) {
        if (thenOut[i].kind != Kind::Tensor || elseOut[i].kind != Kind::Tensor)
          fail("branches that return sequences or optionals need a condition known at "
               "compile time (specialise it with --specialize)");
        if (shapeOf(thenOut[i].tensor) != shapeOf(elseOut[i].tensor))
          fail("output " + std::to_string(i) + " has different shapes in the two "
               "branches; the condition must be known at compile time");
        results.push_back(SValue::tensorNamed(
            emitOp("Where", {cond, thenOut[i].tensor, elseOut[i].tensor},
                   label + "_" + std::to_string(i))));
      }
    }
    if ((int)results.size() != n.output_size())
      fail("the branch has " + std::to_string(results.size()) + " outputs, the node " +
           std::to_string(n.output_size()));
    for (int i = 0; i < n.output_size(); ++i)
      if (!n.output(i).empty())
        env[n.output(i)] = results[i];
  }

  void lowerLoop(const NodeProto &n, Env &env, const std::string &prefix) {
    const GraphProto &body = graphAttr(n, "body");
    auto has = [&](int i) { return i < n.input_size() && !n.input(i).empty(); };
    std::optional<int64_t> trips;
    if (has(0))
      trips = constantInt(env, n.input(0), "trip count M");
    bool cond = has(1) ? constantInt(env, n.input(1), "condition") != 0 : true;
    if (!trips && !has(1))
      fail("a loop with neither trip count nor condition never ends");
    std::vector<SValue> carried;
    for (int i = 2; i < n.input_size(); ++i)
      carried.push_back(lookup(env, n.input(i)));
    size_t numCarried = carried.size();
    if (body.output_size() < (int)numCarried + 1)
      fail("the body has too few outputs");
    size_t numScans = body.output_size() - 1 - numCarried;
    std::vector<std::vector<std::string>> scans(numScans);
    std::string label = prefix + (n.name().empty() ? "Loop" : n.name());
    int64_t it = 0;
    for (; (!trips || it < *trips) && cond; ++it) {
      if (it >= kMaxUnrolledIterations)
        fail("the loop runs more than " + std::to_string(kMaxUnrolledIterations) +
             " iterations; Kiln unrolls loops at compile time");
      std::string iterPrefix = label + "/" + std::to_string(it) + "/";
      std::vector<SValue> inputs = {
          SValue::tensorNamed(emitConstant(scalarTensor(TensorProto::INT64, it), iterPrefix + "iter")),
          SValue::tensorNamed(emitConstant(scalarTensor(TensorProto::BOOL, 1), iterPrefix + "cond"))};
      inputs.insert(inputs.end(), carried.begin(), carried.end());
      std::vector<SValue> outs = inlineGraph(body, env, inputs, iterPrefix);
      const SValue &condOut = outs[0];
      const TensorProto *c = condOut.kind == Kind::Tensor ? constant(condOut.tensor) : nullptr;
      if (!c)
        fail("the loop condition computed by the body depends on run-time data; "
             "Kiln unrolls loops at compile time");
      cond = intValues(*c).at(0) != 0;
      for (size_t k = 0; k < numCarried; ++k)
        carried[k] = outs[1 + k];
      for (size_t k = 0; k < numScans; ++k) {
        const SValue &s = outs[1 + numCarried + k];
        if (s.kind != Kind::Tensor)
          fail("scan outputs must be tensors");
        scans[k].push_back(s.tensor);
      }
    }
    for (size_t k = 0; k < numCarried && (int)k < n.output_size(); ++k)
      if (!n.output(k).empty())
        env[n.output(k)] = carried[k];
    for (size_t k = 0; k < numScans; ++k) {
      int o = numCarried + k;
      if (o >= n.output_size() || n.output(o).empty())
        continue;
      if (scans[k].empty())
        fail("the loop runs zero times, so scan output '" + n.output(o) + "' has no shape");
      env[n.output(o)] = SValue::tensorNamed(stack(scans[k], 0, prefix + n.output(o)));
    }
  }

  void lowerScan(const NodeProto &n, Env &env, const std::string &prefix) {
    const GraphProto &body = graphAttr(n, "body");
    int64_t numScanInputs = intAttr(n, "num_scan_inputs", -1);
    if (numScanInputs < 1 || numScanInputs > n.input_size())
      fail("num_scan_inputs must be between 1 and the number of inputs");
    int64_t numStates = n.input_size() - numScanInputs;
    size_t numScanOutputs = n.output_size() - numStates;
    auto axesOr0 = [&](const char *name, size_t count) {
      std::vector<int64_t> v = intsAttr(n, name);
      if (v.empty())
        v.assign(count, 0);
      if (v.size() != count)
        fail(std::string(name) + " must have " + std::to_string(count) + " entries");
      return v;
    };
    auto inAxes = axesOr0("scan_input_axes", numScanInputs);
    auto inDirs = axesOr0("scan_input_directions", numScanInputs);
    auto outAxes = axesOr0("scan_output_axes", numScanOutputs);
    auto outDirs = axesOr0("scan_output_directions", numScanOutputs);

    std::vector<SValue> states;
    for (int64_t i = 0; i < numStates; ++i)
      states.push_back(lookup(env, n.input(i)));
    std::vector<std::string> xs;
    int64_t length = -1;
    for (int64_t j = 0; j < numScanInputs; ++j) {
      xs.push_back(expect(env, n.input(numStates + j), Kind::Tensor).tensor);
      auto shape = shapeOf(xs.back());
      int64_t rank = shape.size();
      if (inAxes[j] < -rank || inAxes[j] >= rank)
        fail("scan input axis out of range");
      if (inAxes[j] < 0)
        inAxes[j] += rank;
      if (length >= 0 && shape[inAxes[j]] != length)
        fail("scan inputs have different lengths");
      length = shape[inAxes[j]];
    }
    if (length > kMaxUnrolledIterations)
      fail("the scan runs more than " + std::to_string(kMaxUnrolledIterations) +
           " iterations; Kiln unrolls scans at compile time");
    std::string label = prefix + (n.name().empty() ? "Scan" : n.name());
    std::vector<std::vector<std::string>> scans(numScanOutputs);
    for (int64_t t = 0; t < length; ++t) {
      std::string iterPrefix = label + "/" + std::to_string(t) + "/";
      std::vector<SValue> inputs = states;
      for (int64_t j = 0; j < numScanInputs; ++j) {
        int64_t idx = inDirs[j] ? length - 1 - t : t;
        std::string index = emitConstant(scalarTensor(TensorProto::INT64, idx), iterPrefix + "index");
        inputs.push_back(SValue::tensorNamed(emitOp("Gather", {xs[j], index},
                                                    iterPrefix + "slice",
                                                    {intAttribute("axis", inAxes[j])})));
      }
      auto outs = inlineGraph(body, env, inputs, iterPrefix);
      for (int64_t i = 0; i < numStates; ++i)
        states[i] = outs[i];
      for (size_t k = 0; k < numScanOutputs; ++k) {
        if (outs[numStates + k].kind != Kind::Tensor)
          fail("scan outputs must be tensors");
        scans[k].push_back(outs[numStates + k].tensor);
      }
    }
    for (int64_t i = 0; i < numStates; ++i)
      if (!n.output(i).empty())
        env[n.output(i)] = states[i];
    for (size_t k = 0; k < numScanOutputs; ++k) {
      const std::string &name = n.output(numStates + k);
      if (name.empty())
        continue;
      if (scans[k].empty())
        fail("the scan has zero iterations, so its outputs have no shape");
      if (outDirs[k])
        std::reverse(scans[k].begin(), scans[k].end());
      env[name] = SValue::tensorNamed(stack(scans[k], outAxes[k], prefix + name));
    }
  }

  void lowerSequenceMap(const NodeProto &n, Env &env, const std::string &prefix) {
    const GraphProto &body = graphAttr(n, "body");
    const SValue &first = expect(env, n.input(0), Kind::Sequence);
    size_t length = first.elements.size();
    std::vector<SValue> args;
    for (int i = 0; i < n.input_size(); ++i) {
      args.push_back(lookup(env, n.input(i)));
      if (args.back().kind == Kind::Sequence && args.back().elements.size() != length)
        fail("input sequences have different lengths");
      if (args.back().kind == Kind::Optional)
        fail("optional inputs are not supported");
    }
    std::vector<SValue> results(n.output_size(), SValue::structure(Kind::Sequence));
    std::string label = prefix + (n.name().empty() ? "SequenceMap" : n.name());
    for (size_t i = 0; i < length; ++i) {
      std::vector<SValue> inputs;
      for (const SValue &a : args)
        inputs.push_back(a.kind == Kind::Sequence ? a.elements[i] : a);
      auto outs = inlineGraph(body, env, inputs, label + "/" + std::to_string(i) + "/");
      if (outs.size() != results.size())
        fail("the body has " + std::to_string(outs.size()) + " outputs, the node " +
             std::to_string(results.size()));
      for (size_t k = 0; k < outs.size(); ++k)
        results[k].elements.push_back(outs[k]);
    }
    for (int k = 0; k < n.output_size(); ++k)
      if (!n.output(k).empty())
        env[n.output(k)] = results[k];
  }

  //===--- Graph inputs and outputs ----------------------------------------===//

  /// Adds the flat graph inputs for a declared input of `type` and `shape`.
  SValue addInput(const std::string &name, const TypeProto &type, const ValueShape &shape,
                  SignatureEntry &entry) {
    if (type.has_tensor_type()) {
      if (shape.kind != Kind::Tensor)
        fail("input '" + name + "' is a tensor, the given shape is not");
      const auto &tt = type.tensor_type();
      onnx::ValueInfoProto v;
      v.set_name(name);
      auto *t = v.mutable_type()->mutable_tensor_type();
      t->set_elem_type(tt.elem_type());
      auto *s = t->mutable_shape();
      if (tt.has_shape() && tt.shape().dim_size() != (int)shape.dims.size())
        fail("input '" + name + "' has rank " + std::to_string(tt.shape().dim_size()) +
             ", the given shape has rank " + std::to_string(shape.dims.size()));
      for (size_t d = 0; d < shape.dims.size(); ++d) {
        if (tt.has_shape() && tt.shape().dim(d).has_dim_value() &&
            tt.shape().dim(d).dim_value() != shape.dims[d])
          fail("input '" + name + "' has dimension " + std::to_string(d) + " of size " +
               std::to_string(tt.shape().dim(d).dim_value()) + ", the given shape has " +
               std::to_string(shape.dims[d]));
        s->add_dim()->set_dim_value(shape.dims[d]);
      }
      shapes[name] = shape.dims;
      used.insert(name);
      *out.add_input() = v;
      entry.tensors.push_back(name);
      return SValue::tensorNamed(name);
    }
    if (type.has_sequence_type()) {
      if (shape.kind != Kind::Sequence)
        fail("input '" + name + "' is a sequence, the given shape is not");
      SValue seq = SValue::structure(Kind::Sequence);
      for (size_t i = 0; i < shape.elements.size(); ++i)
        seq.elements.push_back(addInput(name + "[" + std::to_string(i) + "]",
                                        type.sequence_type().elem_type(),
                                        shape.elements[i], entry));
      return seq;
    }
    if (type.has_optional_type()) {
      if (shape.kind != Kind::Optional)
        fail("input '" + name + "' is an optional, the given shape is not");
      SValue opt = SValue::structure(Kind::Optional);
      if (!shape.elements.empty())
        opt.elements.push_back(
            addInput(name, type.optional_type().elem_type(), shape.elements[0], entry));
      return opt;
    }
    fail("input '" + name + "' has an unsupported type (maps are not supported)");
  }

  /// Binds the flat graph outputs for `value`, returning its structure.
  ValueShape addOutput(const std::string &name, const SValue &value, const TypeProto &type,
                       SignatureEntry &entry, bool topLevel = true) {
    ValueShape shape;
    shape.kind = value.kind;
    if (value.kind == Kind::Tensor) {
      std::string target = name;
      if (value.tensor != name) {
        NodeProto id;
        id.set_op_type("Identity");
        id.set_name(name);
        id.add_input(value.tensor);
        id.add_output(name);
        emit(std::move(id));
      }
      onnx::ValueInfoProto v;
      v.set_name(target);
      // Elements of a sequence may differ in shape: keep only the element type.
      if (type.has_tensor_type() && topLevel)
        *v.mutable_type() = type;
      else if (type.has_tensor_type())
        v.mutable_type()->mutable_tensor_type()->set_elem_type(type.tensor_type().elem_type());
      *out.add_output() = v;
      entry.tensors.push_back(target);
      return shape;
    }
    const TypeProto *inner = &type;
    if (type.has_sequence_type())
      inner = &type.sequence_type().elem_type();
    else if (type.has_optional_type())
      inner = &type.optional_type().elem_type();
    for (size_t i = 0; i < value.elements.size(); ++i) {
      std::string elementName =
          value.kind == Kind::Sequence ? name + "[" + std::to_string(i) + "]" : name;
      shape.elements.push_back(
          addOutput(elementName, value.elements[i], *inner, entry, /*topLevel=*/false));
    }
    return shape;
  }
};

Signature Lowerer::run(GraphProto &graph,
                       const std::map<std::string, ValueShape> &inputShapes,
                       const std::set<std::string> &specialized) {
  out.set_name(graph.name());
  out.set_doc_string(graph.doc_string());
  for (const auto &n : graph.node())
    for (const auto &o : n.output())
      used.insert(o);
  Env env;
  std::set<std::string> inits;
  for (const auto &t : graph.initializer()) {
    inits.insert(t.name());
    used.insert(t.name());
    env[t.name()] = SValue::tensorNamed(t.name());
    int64_t count = 1;
    for (int64_t d : t.dims())
      count *= d;
    // Control flow reads small constants (trip counts, conditions, shapes);
    // copying big weights here would only cost memory.
    if (count <= kMaxTrackedConstantElements)
      consts[t.name()] = t;
    *out.add_initializer() = t;
  }
  Signature sig;
  for (const auto &v : graph.input()) {
    if (inits.count(v.name())) {
      *out.add_input() = v;
      if (specialized.count(v.name()))
        sig.inputs.push_back({v.name(), ValueShape{}, {v.name()}});
      continue;
    }
    SignatureEntry entry;
    entry.name = v.name();
    auto given = inputShapes.find(v.name());
    const TypeProto &type = v.type();
    if (given == inputShapes.end()) {
      if (!type.has_tensor_type())
        fail("graph input '" + v.name() + "' is " +
             (type.has_sequence_type() ? "a sequence" : "an optional") +
             "; its length and element shapes must be given (`kiln run` takes them "
             "from the data, `kiln compile --input-shape`)");
      *out.add_input() = v;
      recordShape(v);
      used.insert(v.name());
      env[v.name()] = SValue::tensorNamed(v.name());
      entry.tensors.push_back(v.name());
    } else {
      entry.shape = given->second;
      env[v.name()] = addInput(v.name(), type, given->second, entry);
    }
    sig.inputs.push_back(entry);
  }
  for (const auto &[name, shape] : inputShapes) {
    bool found = false;
    for (const auto &v : graph.input())
      found |= v.name() == name;
    if (!found)
      fail("the model has no input '" + name + "' (given a shape)");
  }
  for (const auto &v : graph.value_info())
    if (v.type().has_tensor_type())
      *out.add_value_info() = v;

  lowerNodes(graph, env, "");

  for (const auto &o : graph.output()) {
    SignatureEntry entry;
    entry.name = o.name();
    entry.shape = addOutput(o.name(), lookup(env, o.name()), o.type(), entry);
    sig.outputs.push_back(entry);
  }
  graph = std::move(out);
  return sig;
}

bool containsStructure(const GraphProto &g);

bool nodeHasStructure(const NodeProto &n) {
  if (isStructureOp(n.op_type()) && (n.domain().empty() || n.domain() == "ai.onnx"))
    return true;
  for (const auto &a : n.attribute())
    if (a.has_g() && containsStructure(a.g()))
      return true;
  return false;
}

bool containsStructure(const GraphProto &g) {
  for (const auto &n : g.node())
    if (nodeHasStructure(n))
      return true;
  for (const auto &list : {g.input(), g.output()})
    for (const auto &v : list)
      if (!v.type().has_tensor_type())
        return true;
  return false;
}

void parseDims(const std::string &text, ValueShape &shape) {
  shape.kind = Kind::Tensor;
  if (text == "scalar")
    return;
  size_t start = 0;
  while (true) {
    size_t x = text.find('x', start);
    std::string part = text.substr(start, x == std::string::npos ? std::string::npos : x - start);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos ||
        part.size() > 12)
      fail("'" + text + "' is not a shape such as 2x3x4 or scalar");
    shape.dims.push_back(std::stoll(part));
    if (x == std::string::npos)
      break;
    start = x + 1;
  }
}

ValueShape parseShape(const std::string &text, size_t &pos, int depth) {
  if (depth > 8)
    fail("shape '" + text + "' is nested too deeply");
  auto startsWith = [&](const char *p) { return text.compare(pos, strlen(p), p) == 0; };
  ValueShape shape;
  if (startsWith("none")) {
    pos += 4;
    shape.kind = Kind::Optional;
    return shape;
  }
  if (startsWith("seq(") || startsWith("opt(")) {
    shape.kind = startsWith("seq(") ? Kind::Sequence : Kind::Optional;
    pos += 4;
    while (pos < text.size() && text[pos] != ')') {
      shape.elements.push_back(parseShape(text, pos, depth + 1));
      if (pos < text.size() && text[pos] == ',')
        ++pos;
    }
    if (pos >= text.size())
      fail("shape '" + text + "' lacks a closing parenthesis");
    ++pos;
    if (shape.kind == Kind::Optional && shape.elements.size() != 1)
      fail("opt(...) holds exactly one value; write 'none' for an empty optional");
    return shape;
  }
  size_t end = text.find_first_of(",)", pos);
  if (end == std::string::npos)
    end = text.size();
  parseDims(text.substr(pos, end - pos), shape);
  pos = end;
  return shape;
}

} // namespace

const std::map<std::string, std::string> &structureOps() {
  static const std::map<std::string, std::string> ops = {
      {"ConcatFromSequence", "sequence of tensors; resolved at compile time"},
      {"If", "constant (or specialised) condition picks the branch; otherwise both branches run and tensor results are selected"},
      {"Loop", "unrolled at compile time (up to 4096 iterations); trip count and condition must be known at compile time"},
      {"Optional", "resolved at compile time"},
      {"OptionalGetElement", "resolved at compile time"},
      {"OptionalHasElement", "evaluated at compile time"},
      {"Scan", "unrolled at compile time (up to 4096 iterations)"},
      {"SequenceAt", "position must be known at compile time"},
      {"SequenceConstruct", "resolved at compile time"},
      {"SequenceEmpty", "resolved at compile time"},
      {"SequenceErase", "position must be known at compile time"},
      {"SequenceInsert", "position must be known at compile time"},
      {"SequenceLength", "evaluated at compile time"},
      {"SequenceMap", "unrolled at compile time"},
      {"SplitToSequence", "split must be known at compile time"},
  };
  return ops;
}

bool isStructureOp(const std::string &op) { return structureOps().count(op) != 0; }

bool needsStructureLowering(const onnx::ModelProto &model,
                            const std::map<std::string, ValueShape> &inputShapes) {
  return containsStructure(model.graph()) || !inputShapes.empty();
}

llvm::Expected<ValueShape> parseValueShape(const std::string &text) {
  try {
    size_t pos = 0;
    ValueShape shape = parseShape(text, pos, 0);
    if (pos != text.size())
      fail("unexpected '" + text.substr(pos) + "' in shape '" + text + "'");
    return shape;
  } catch (const LowerError &e) {
    return makeError(e.message);
  }
}

std::string formatValueShape(const ValueShape &shape) {
  if (shape.kind == Kind::Tensor) {
    if (shape.dims.empty())
      return "scalar";
    std::string s;
    for (size_t i = 0; i < shape.dims.size(); ++i)
      s += (i ? "x" : "") + std::to_string(shape.dims[i]);
    return s;
  }
  if (shape.kind == Kind::Optional && shape.elements.empty())
    return "none";
  std::string s = shape.kind == Kind::Sequence ? "seq(" : "opt(";
  for (size_t i = 0; i < shape.elements.size(); ++i)
    s += (i ? "," : "") + formatValueShape(shape.elements[i]);
  return s + ")";
}

llvm::Expected<Signature>
lowerStructuredValues(onnx::ModelProto &model,
                      const std::map<std::string, ValueShape> &inputShapes,
                      const std::set<std::string> &specialized,
                      const std::string &modelPath, const ConstantBudget &budget) {
  try {
    if (!needsStructureLowering(model, inputShapes)) {
      // Plain tensor graph: the signature is the graph's own.
      Signature sig;
      std::set<std::string> inits;
      for (const auto &t : model.graph().initializer())
        inits.insert(t.name());
      for (const auto &v : model.graph().input())
        if (!inits.count(v.name()) || specialized.count(v.name()))
          sig.inputs.push_back({v.name(), ValueShape{}, {v.name()}});
      for (const auto &v : model.graph().output())
        sig.outputs.push_back({v.name(), ValueShape{}, {v.name()}});
      return sig;
    }
    Lowerer lowerer(model, budget);
    return lowerer.run(*model.mutable_graph(), inputShapes, specialized);
  } catch (const LowerError &e) {
    return makeError("model '" + modelPath + "': " + e.message);
  }
}

} // namespace kiln
