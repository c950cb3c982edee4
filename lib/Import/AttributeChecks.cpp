//===- AttributeChecks.cpp - Kiln's checks before ONNX shape inference ---===//
//
// The checks that need shapes walk the graph node by node, keeping the types
// ONNX's inference gives each value so far; a node's checks run before its
// own inference does. The walk is a guard, not the inference Kiln relies on:
// a node whose inputs are unknown (after a custom-domain or control-flow op)
// leaves its outputs unknown, and the full ONNX inference after the walk
// gives the types Kiln imports. A node whose inference fails, all its inputs
// known, is an error here already.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/AttributeChecks.h"
#include "lib/Import/ConstantEvaluator.h"
#include "lib/Import/EinsumEquation.h"
#include "lib/Import/ModelLoader.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace kiln {
using llvm::Error;

bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

Error checkWindowAttributes(const onnx::GraphProto &graph, const std::string &path) {
  static const std::set<std::string> windowed = {
      "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "MaxPool",
      "AveragePool", "LpPool", "MaxUnpool", "Col2Im"};
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute())
      if (attr.type() == onnx::AttributeProto::GRAPH) {
        if (Error e = checkWindowAttributes(attr.g(), path))
          return e;
      } else if (attr.type() == onnx::AttributeProto::GRAPHS) {
        for (const auto &g : attr.graphs())
          if (Error e = checkWindowAttributes(g, path))
            return e;
      }
    if (!isDefaultDomain(node.domain()) || !windowed.count(node.op_type()))
      continue;
    for (const auto &attr : node.attribute()) {
      const std::string &name = attr.name();
      bool positive = name == "strides" || name == "dilations" || name == "kernel_shape";
      bool nonNegative = name == "pads" || name == "output_padding";
      auto bad = [&](int64_t v) {
        return makeError("model '" + path + "': node '" + node.name() + "' (" + node.op_type() +
                         "): attribute '" + name + "' has " + std::to_string(v) + "; it must be " +
                         (positive ? "positive" : "at least 0"));
      };
      if (positive || nonNegative)
        for (int64_t v : attr.ints())
          if (positive ? v < 1 : v < 0)
            return bad(v);
      if (name == "group" && attr.i() < 1) {
        positive = true;
        return bad(attr.i());
      }
    }
  }
  return Error::success();
}

std::string nodeContext(const std::string &path, const onnx::NodeProto &node, int index) {
  std::string name = node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
  return "model '" + path + "': node '" + name + "' (" + node.op_type() + "): ";
}


// Says which value is missing, where the ONNX checker only says the graph is
// not topologically sorted (and ONNX's version converter crashes on an output
// nothing defines).
Error checkNodeInputs(const onnx::GraphProto &graph, std::set<std::string> visible,
                      const std::string &path) {
  for (const auto &v : graph.input())
    visible.insert(v.name());
  for (const auto &t : graph.initializer())
    visible.insert(t.name());
  for (const auto &t : graph.sparse_initializer())
    visible.insert(t.values().name());
  // A node by name, or by its position when it has none.
  auto label = [&](int i) {
    const std::string &name = graph.node(i).name();
    return name.empty() ? "#" + std::to_string(i) : "'" + name + "'";
  };
  std::map<std::string, int> producer; // value -> node, for all nodes
  for (int i = 0; i < graph.node_size(); ++i)
    for (const auto &out : graph.node(i).output())
      producer.emplace(out, i);
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &node = graph.node(i);
    for (const auto &in : node.input()) {
      if (in.empty() || visible.count(in))
        continue;
      std::string where = "model '" + path + "': node " + label(i) + " (" + node.op_type() +
                          "): input '" + in + "' ";
      auto it = producer.find(in);
      if (it != producer.end())
        return makeError(where + "is produced by node " + label(it->second) +
                         ", which comes later: the graph must be topologically sorted");
      return makeError(where + "names no value of the graph (no input, initializer or node "
                               "output has that name)");
    }
    for (const auto &attr : node.attribute()) {
      if (attr.type() == onnx::AttributeProto::GRAPH)
        if (Error e = checkNodeInputs(attr.g(), visible, path))
          return e;
      if (attr.type() == onnx::AttributeProto::GRAPHS)
        for (const auto &g : attr.graphs())
          if (Error e = checkNodeInputs(g, visible, path))
            return e;
    }
    for (const auto &out : node.output())
      visible.insert(out);
  }
  for (const auto &out : graph.output())
    if (!visible.count(out.name()))
      return makeError("model '" + path + "': graph " +
                       (graph.name().empty() ? std::string() : "'" + graph.name() + "' ") +
                       "output '" + out.name() +
                       "' names no value of the graph (no input, initializer or node output "
                       "has that name)");
  return Error::success();
}


namespace {

/// The values visible at a node of the walk: their types as the graph
/// declares them or ONNX's inference gives them, and the constants among them.
class KnownValues {
public:
  void addType(const std::string &name, const onnx::TypeProto &type) { types_[name] = type; }

  void addConstant(const std::string &name, const onnx::TensorProto &t) {
    constants_[name] = &t;
    onnx::TypeProto type;
    auto *tensor = type.mutable_tensor_type();
    tensor->set_elem_type(t.data_type());
    auto *shape = tensor->mutable_shape();
    for (int64_t d : t.dims())
      shape->add_dim()->set_dim_value(d);
    types_[name] = std::move(type);
  }

  /// The dims of a tensor of known rank, -1 for a dim not known.
  std::optional<std::vector<int64_t>> dims(const std::string &name) const {
    auto it = types_.find(name);
    if (it == types_.end() || !it->second.has_tensor_type() ||
        !it->second.tensor_type().has_shape())
      return std::nullopt;
    std::vector<int64_t> dims;
    for (const auto &d : it->second.tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return dims;
  }

  const onnx::TensorProto *constant(const std::string &name) const {
    auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : it->second;
  }

  /// Records the output types ONNX's inference gives a node of the default
  /// domain whose input types are all known; returns its error if it fails.
  /// Nodes with subgraphs are left to the full inference.
  std::optional<std::string> infer(onnx::NodeProto &node, int opset) {
    if (!isDefaultDomain(node.domain()) || opset <= 0)
      return std::nullopt;
    for (const auto &attr : node.attribute())
      if (attr.has_g() || attr.graphs_size())
        return std::nullopt;
    const auto *schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
    if (!schema || !schema->has_type_and_shape_inference_function())
      return std::nullopt;
    std::unordered_map<std::string, onnx::TypeProto *> types;
    std::unordered_map<std::string, const onnx::TensorProto *> data;
    for (const auto &in : node.input()) {
      if (in.empty())
        continue;
      auto it = types_.find(in);
      if (it == types_.end())
        return std::nullopt;
      types[in] = &it->second;
      if (const auto *c = constant(in))
        data[in] = c;
    }
    onnx::shape_inference::InferenceContextImpl context(node, types, data, {});
    try {
      schema->GetTypeAndShapeInferenceFunction()(context);
    } catch (const std::exception &e) {
      // With every input type known, more information cannot resolve the
      // conflict. Stop here: ONNX's full inference, which continues past a
      // failed node in its lenient passes, crashes on the untyped outputs
      // (Shape's data propagation reads them unchecked).
      return std::string(e.what());
    }
    for (int i = 0; i < node.output_size(); ++i) {
      const onnx::TypeProto *type = context.getOutputType(i);
      if (!node.output(i).empty() && type &&
          type->value_case() != onnx::TypeProto::VALUE_NOT_SET)
        types_[node.output(i)] = *type;
    }
    return std::nullopt;
  }

private:
  std::unordered_map<std::string, onnx::TypeProto> types_;
  std::unordered_map<std::string, const onnx::TensorProto *> constants_;
};

using NodeCheck =
    llvm::function_ref<Error(onnx::NodeProto &node, int index, const KnownValues &known)>;

/// Runs `check` on every node of `graph` and its subgraphs in order, each
/// with the values known before it (`known` holds the enclosing graphs'),
/// and fails at the first node whose inference fails.
Error walkGraph(onnx::GraphProto &graph, KnownValues known, int opset, const std::string &path,
                NodeCheck check) {
  // ONNX's inference reads a sparse tensor's type as a dense one without a
  // shape (a fuzzed sparse weight crashed ConvTranspose's); Kiln has no
  // sparse tensors.
  for (const auto *list : {&graph.input(), &graph.output(), &graph.value_info()})
    for (const auto &v : *list)
      if (v.type().has_sparse_tensor_type())
        return makeError("model '" + path + "': value '" + v.name() +
                         "' is a sparse tensor; Kiln supports dense tensors only");
  for (const auto &t : graph.sparse_initializer())
    return makeError("model '" + path + "': initializer '" + t.values().name() +
                     "' is a sparse tensor; Kiln supports dense tensors only");
  for (const auto *list : {&graph.input(), &graph.value_info()})
    for (const auto &v : *list)
      if (v.has_type())
        known.addType(v.name(), v.type());
  for (const auto &t : graph.initializer())
    known.addConstant(t.name(), t);
  for (int index = 0; index < graph.node_size(); ++index) {
    onnx::NodeProto &node = *graph.mutable_node(index);
    for (auto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        if (Error e = walkGraph(*attr.mutable_g(), known, opset, path, check))
          return e;
      for (auto &g : *attr.mutable_graphs())
        if (Error e = walkGraph(g, known, opset, path, check))
          return e;
    }
    if (Error e = check(node, index, known))
      return e;
    if (node.op_type() == "Constant" && node.output_size() == 1 && node.attribute_size() == 1 &&
        node.attribute(0).has_t())
      known.addConstant(node.output(0), node.attribute(0).t());
    else if (auto failure = known.infer(node, opset))
      return makeError(nodeContext(path, node, index) + "shape inference: " + *failure);
  }
  return Error::success();
}

/// Convolution weights: ONNX's inference reads the kernel's spatial dims
/// from the weight's shape and indexes them by the data's rank without
/// checking (a rank-2 weight for 2-D data crashes it). A known weight must
/// have rank >= 3 and the data's rank, and it gives an absent kernel_shape
/// attribute, which ONNX then checks against the data's rank.
Error checkConvOperands(onnx::NodeProto &node, int index, const KnownValues &known,
                        const std::string &path) {
  // Op -> (data input, weight input).
  static const std::map<std::string, std::pair<int, int>> convs = {
      {"Conv", {0, 1}}, {"ConvTranspose", {0, 1}}, {"ConvInteger", {0, 1}},
      {"QLinearConv", {0, 3}}, {"DeformConv", {0, 1}}};
  auto it = convs.find(node.op_type());
  if (!isDefaultDomain(node.domain()) || it == convs.end() ||
      node.input_size() <= it->second.second)
    return Error::success();
  const std::string &dataName = node.input(it->second.first);
  const std::string &weightName = node.input(it->second.second);
  auto weight = known.dims(weightName);
  std::string where = nodeContext(path, node, index);
  bool kernelShape = llvm::any_of(node.attribute(), [](const onnx::AttributeProto &a) {
    return a.name() == "kernel_shape";
  });
  // ONNX's ConvTranspose inference then indexes an empty kernel shape (a
  // fuzzed model with an unshaped weight input crashed it).
  if (!weight && !kernelShape && node.op_type() == "ConvTranspose")
    return makeError(where + "weight '" + weightName +
                     "' has no known shape and the node no kernel_shape attribute; give the "
                     "weight's shape (--input-shape) or kernel_shape");
  if (!weight)
    return Error::success();
  auto data = known.dims(dataName);
  size_t rank = weight->size();
  if (rank < 3)
    return makeError(where + "weight '" + weightName + "' has rank " + std::to_string(rank) +
                     "; it must be [out channels, in channels / group, kernel dims...]");
  if (data && data->size() != rank)
    return makeError(where + "weight '" + weightName + "' has rank " + std::to_string(rank) +
                     " but input '" + dataName + "' has rank " + std::to_string(data->size()) +
                     "; they must be equal");
  if (kernelShape)
    return Error::success();
  for (size_t d = 2; d < rank; ++d)
    if ((*weight)[d] < 0)
      return Error::success();
  auto *attr = node.add_attribute();
  attr->set_name("kernel_shape");
  attr->set_type(onnx::AttributeProto::INTS);
  for (size_t d = 2; d < rank; ++d)
    attr->add_ints((*weight)[d]);
  return Error::success();
}

/// Axis attributes against the rank of input 0: ONNX's inference of several
/// ops (LayerNormalization among them) indexes shapes by `axis` unchecked. An
/// axis addresses input 0, in [-rank, rank), except where it addresses a
/// position in the output (Flatten, OneHot, Unsqueeze).
Error checkAxisAttributes(const onnx::NodeProto &node, int index, const KnownValues &known,
                          int opset, const std::string &path) {
  if (!isDefaultDomain(node.domain()) || node.input_size() == 0)
    return Error::success();
  auto dims = known.dims(node.input(0));
  if (!dims)
    return Error::success();
  const int64_t rank = dims->size();
  // An absent axis is its default, which ONNX applies unchecked (a
  // LayerNormalization of a scalar, default axis -1, crashed it). Defaults
  // of 0 and -1 address input 0 for every op that has them; a default of 1
  // (QuantizeLinear's, pre-13 Softmax's) may address nothing, so it is left
  // to the op.
  std::vector<onnx::AttributeProto> attributes(node.attribute().begin(), node.attribute().end());
  bool hasAxis = llvm::any_of(attributes, [](const auto &a) { return a.name() == "axis"; });
  if (const auto *schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
      schema && !hasAxis) {
    auto it = schema->attributes().find("axis");
    if (it != schema->attributes().end() && it->second.default_value.has_i() &&
        (it->second.default_value.i() == 0 || it->second.default_value.i() == -1))
      attributes.push_back(it->second.default_value);
  }
  for (const auto &attr : attributes) {
    const std::string &name = attr.name();
    if (name != "axis" && name != "axes" && name != "perm")
      continue;
    int64_t r = rank, hi = rank;
    if (node.op_type() == "Unsqueeze")
      r = hi = rank + attr.ints_size();
    else if (node.op_type() == "OneHot")
      r = hi = rank + 1;
    else if (node.op_type() == "Flatten")
      hi = rank + 1;
    auto bad = [&](int64_t v) {
      return makeError(nodeContext(path, node, index) + "attribute '" + name + "' has " +
                       std::to_string(v) + ", out of range for input '" + node.input(0) +
                       "' of rank " + std::to_string(rank));
    };
    if (name == "perm") {
      for (int64_t v : attr.ints())
        if (v < 0 || v >= rank)
          return bad(v);
    } else if (attr.type() == onnx::AttributeProto::INT) {
      if (attr.i() < -r || attr.i() >= hi)
        return bad(attr.i());
    } else {
      for (int64_t v : attr.ints())
        if (v < -r || v >= hi)
          return bad(v);
    }
  }
  return Error::success();
}

/// The size arithmetic of ops whose output shape comes from constant
/// operands (Pad, Tile, Resize, Upsample), which ONNX's inference computes
/// with unchecked int64 arithmetic: an output dimension that overflows or
/// goes negative is an error naming the node, the axis and the operands.
Error checkSizeArithmetic(const onnx::NodeProto &node, int index, const KnownValues &known,
                          const std::string &path) {
  const std::string &op = node.op_type();
  if (!isDefaultDomain(node.domain()) || node.input_size() == 0 ||
      (op != "Pad" && op != "Tile" && op != "Resize" && op != "Upsample"))
    return Error::success();
  auto known0 = known.dims(node.input(0));
  if (!known0)
    return Error::success();
  const std::vector<int64_t> &dims = *known0;
  auto operand = [&](int i) -> std::optional<EvalTensor> {
    if (i >= node.input_size() || node.input(i).empty())
      return std::nullopt;
    const auto *t = known.constant(node.input(i));
    return t ? evalTensorFromProto(*t) : std::nullopt;
  };
  std::string where = nodeContext(path, node, index);
  auto bad = [&](size_t axis, const std::string &how) {
    return makeError(where + "dimension " + std::to_string(axis) + " of input '" +
                     node.input(0) + "' (" + std::to_string(dims[axis]) + ") " + how);
  };
  if (op == "Pad") {
    auto pads = operand(1);
    if (!pads || pads->isFloat() || pads->ints.size() % 2)
      return Error::success();
    size_t n = pads->ints.size() / 2;
    std::vector<int64_t> axes;
    if (auto a = operand(3); a && !a->isFloat())
      axes = a->ints;
    else
      for (size_t i = 0; i < n; ++i)
        axes.push_back(i);
    for (size_t i = 0; i < n && i < axes.size(); ++i) {
      int64_t axis = axes[i] < 0 ? axes[i] + int64_t(dims.size()) : axes[i];
      if (axis < 0 || axis >= int64_t(dims.size()) || dims[axis] < 0)
        continue; // shape inference names a bad axis
      int64_t before = pads->ints[i], after = pads->ints[n + i], size;
      std::string how = "padded by " + std::to_string(before) + " and " + std::to_string(after);
      if (__builtin_add_overflow(dims[axis], before, &size) ||
          __builtin_add_overflow(size, after, &size))
        return bad(axis, how + " overflows int64");
      if (size < 0)
        return bad(axis, how + " is negative (" + std::to_string(size) + ")");
    }
  } else if (op == "Tile") {
    auto repeats = operand(1);
    if (!repeats || repeats->isFloat() || repeats->ints.size() != dims.size())
      return Error::success();
    for (size_t axis = 0; axis < dims.size(); ++axis) {
      int64_t r = repeats->ints[axis], size;
      if (r < 0)
        return bad(axis, "repeated " + std::to_string(r) + " times: repeats must be >= 0");
      if (dims[axis] >= 0 && __builtin_mul_overflow(dims[axis], r, &size))
        return bad(axis, "repeated " + std::to_string(r) + " times overflows int64");
    }
  } else {
    // Resize (scales are input 2; sizes input 3) and Upsample (scales input 1).
    int scalesInput = op == "Resize" ? 2 : 1;
    if (auto scales = operand(scalesInput);
        scales && scales->isFloat() && scales->floats.size() == dims.size())
      for (size_t axis = 0; axis < dims.size(); ++axis) {
        double scale = scales->floats[axis], size = std::floor(double(dims[axis]) * scale);
        std::string text = llvm::formatv("{0}", scale).str();
        if (!std::isfinite(scale) || scale <= 0)
          return bad(axis, "has scale " + text + ": scales must be > 0");
        if (!(size < 0x1p62))
          return bad(axis, "scaled by " + text + " is too large");
      }
    if (auto sizes = operand(3); op == "Resize" && sizes && !sizes->isFloat())
      for (size_t axis = 0; axis < sizes->ints.size() && axis < dims.size(); ++axis)
        if (sizes->ints[axis] < 0)
          return bad(axis, "resized to " + std::to_string(sizes->ints[axis]) +
                               ": sizes must be >= 0");
  }
  return Error::success();
}

/// The Einsum equation, parsed as the importer will: ONNX's inference of an
/// equation without "->" counts letters in an array of 26, which an
/// upper-case letter or another character indexes out of bounds (a fuzzed
/// "i,U" corrupted the heap).
Error checkEinsumEquation(const onnx::NodeProto &node, int index, const KnownValues &known,
                          const std::string &path) {
  if (!isDefaultDomain(node.domain()) || node.op_type() != "Einsum")
    return Error::success();
  std::string equation;
  for (const auto &attr : node.attribute())
    if (attr.name() == "equation")
      equation = attr.s();
  std::vector<int64_t> ranks;
  for (const auto &input : node.input()) {
    auto dims = known.dims(input);
    ranks.push_back(dims ? int64_t(dims->size()) : -1);
  }
  auto bad = [&](const std::string &why) {
    return makeError(nodeContext(path, node, index) + "equation '" + equation + "': " + why);
  };
  if (auto terms = parseEinsum(equation, ranks); !terms)
    return bad(llvm::toString(terms.takeError()));
  if (equation.find("->") == std::string::npos)
    for (char ch : equation)
      if (ch >= 'A' && ch <= 'Z')
        return bad("upper-case indices need an explicit output (\"->\"); without one ONNX "
                   "infers shapes from lower-case letters only");
  return Error::success();
}

} // namespace

Error checkAgainstShapes(onnx::ModelProto &model, const std::string &path) {
  int opset = 0;
  for (const auto &o : model.opset_import())
    if (isDefaultDomain(o.domain()))
      opset = o.version();
  return walkGraph(*model.mutable_graph(), KnownValues(), opset, path,
                   [&](onnx::NodeProto &node, int index, const KnownValues &known) -> Error {
                     if (Error e = checkConvOperands(node, index, known, path))
                       return e;
                     if (Error e = checkAxisAttributes(node, index, known, opset, path))
                       return e;
                     if (Error e = checkEinsumEquation(node, index, known, path))
                       return e;
                     return checkSizeArithmetic(node, index, known, path);
                   });
}

} // namespace kiln
