//===- ShapeFolding.cpp - Fold compile-time-known subgraphs ---------------===//
//
// Each round runs ONNX shape inference, then walks the nodes in order and
// replaces every node the evaluator can compute by Constant nodes; a fold
// late in the walk may give static shapes that earlier Shape nodes wait for,
// so rounds repeat until one folds nothing.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/ShapeFolding.h"
#include "lib/Import/AttributeChecks.h"
#include "lib/Import/EinsumEquation.h"
#include "lib/Import/TensorData.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <unordered_map>
#include <unordered_set>

namespace kiln {

onnx::NodeProto constantNode(const std::string &nodeName, onnx::TensorProto value) {
  onnx::NodeProto n;
  n.set_op_type("Constant");
  n.set_name(nodeName);
  n.add_output(value.name());
  auto *attr = n.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  *attr->mutable_t() = std::move(value);
  return n;
}

std::optional<onnx::TensorProto>
foldConstantNode(const onnx::NodeProto &node,
                 const std::vector<const onnx::TensorProto *> &inputs, int64_t maxBytes) {
  if (node.output_size() != 1)
    return std::nullopt;
  std::vector<std::optional<EvalTensor>> values;
  for (const auto *t : inputs)
    values.push_back(t ? evalTensorFromProto(*t, maxBytes) : std::nullopt);
  EvalInputs in{[&](size_t i) { return i < values.size() && values[i] ? &*values[i] : nullptr; },
                [&](size_t i) -> std::optional<std::vector<int64_t>> {
                  if (i < values.size() && values[i])
                    return values[i]->dims;
                  return std::nullopt;
                }};
  EvalResult r = evaluateNode(node, in, maxBytes);
  if (r.outputs.empty())
    return std::nullopt;
  return evalTensorToProto(r.outputs[0], node.output(0));
}

namespace {


/// The node as the importer's errors name it (unnamed nodes by op and index).
std::string describe(const onnx::NodeProto &n, int index) {
  std::string label = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
  return "node '" + label + "' (" + n.op_type() + ")";
}

/// The compile-time values of a graph: initializers and Constant nodes,
/// decoded on first use (most are weights no foldable node reads).
class ConstantTable {
public:
  void addProto(const onnx::TensorProto *t, const std::string &name) { protos[name] = t; }
  void addValue(const std::string &name, EvalTensor v) { decoded[name] = std::move(v); }
  bool contains(const std::string &name) const {
    return decoded.count(name) || protos.count(name);
  }
  const EvalTensor *get(const std::string &name) {
    if (auto it = decoded.find(name); it != decoded.end())
      return &it->second;
    auto p = protos.find(name);
    if (p == protos.end())
      return nullptr;
    auto v = evalTensorFromProto(*p->second);
    protos.erase(p);
    if (!v)
      return nullptr;
    return &(decoded[name] = std::move(*v));
  }

private:
  std::unordered_map<std::string, const onnx::TensorProto *> protos;
  std::unordered_map<std::string, EvalTensor> decoded;
};

/// Output shapes ONNX shape inference leaves incomplete although the
/// inputs' shapes are static (it gives Einsum only a rank), recorded in
/// value_info so that the next round propagates them. Returns whether any
/// was added.
bool completeShapes(onnx::GraphProto &graph,
                    std::unordered_map<std::string, std::vector<int64_t>> &shapes) {
  bool added = false;
  for (const auto &node : graph.node()) {
    if (!isDefaultDomain(node.domain()) || node.op_type() != "Einsum" ||
        node.output_size() != 1 || shapes.count(node.output(0)))
      continue;
    std::vector<std::vector<int64_t>> in;
    std::vector<int64_t> ranks;
    for (const std::string &name : node.input()) {
      auto it = shapes.find(name);
      if (it == shapes.end())
        break;
      in.push_back(it->second);
      ranks.push_back(it->second.size());
    }
    const auto *eq = node.attribute_size() == 1 ? &node.attribute(0) : nullptr;
    if (in.size() != (size_t)node.input_size() || !eq || eq->name() != "equation")
      continue;
    auto terms = parseEinsum(eq->s(), ranks);
    auto shape = terms ? einsumShape(*terms, in)
                       : llvm::Expected<std::vector<int64_t>>(terms.takeError());
    if (!shape) {
      llvm::consumeError(shape.takeError()); // the importer reports it
      continue;
    }
    onnx::ValueInfoProto *info = nullptr;
    for (auto &v : *graph.mutable_value_info())
      if (v.name() == node.output(0))
        info = &v;
    if (!info) {
      info = graph.add_value_info();
      info->set_name(node.output(0));
    }
    int32_t elt = 0;
    for (const auto *list : {&graph.input(), &graph.value_info()})
      for (const auto &v : *list)
        if (v.name() == node.input(0) && v.type().has_tensor_type())
          elt = v.type().tensor_type().elem_type();
    for (const auto &t : graph.initializer())
      if (t.name() == node.input(0))
        elt = t.data_type();
    auto *tensor = info->mutable_type()->mutable_tensor_type();
    if (elt)
      tensor->set_elem_type(elt);
    tensor->mutable_shape()->clear_dim();
    for (int64_t d : *shape)
      tensor->mutable_shape()->add_dim()->set_dim_value(d);
    shapes[node.output(0)] = *shape;
    added = true;
  }
  return added;
}

/// Outputs of DequantizeLinear nodes read only as Conv weights or MatMul and
/// Gemm B: they stay unfolded so that the importer sees the int8 weights and
/// their scales (QuantizedOps.h), and folds them itself otherwise.
std::unordered_set<std::string> dequantizedConvWeights(const onnx::GraphProto &graph) {
  std::unordered_map<std::string, int> uses, weightUses;
  for (const auto &node : graph.node())
    for (int i = 0; i < node.input_size(); ++i) {
      ++uses[node.input(i)];
      if (i == 1 && isDefaultDomain(node.domain()) &&
          (node.op_type() == "Conv" || node.op_type() == "MatMul" || node.op_type() == "Gemm"))
        ++weightUses[node.input(i)];
    }
  for (const auto &out : graph.output())
    ++uses[out.name()];
  std::unordered_set<std::string> kept;
  for (const auto &node : graph.node())
    if (node.op_type() == "DequantizeLinear" && isDefaultDomain(node.domain()) &&
        node.output_size() == 1 && weightUses[node.output(0)] > 0 &&
        weightUses[node.output(0)] == uses[node.output(0)])
      kept.insert(node.output(0));
  return kept;
}

} // namespace

FoldReport foldConstants(onnx::ModelProto &model, const ConstantBudget &budget) {
  FoldReport report;
  int64_t totalBytes = 0;
  auto *graph = model.mutable_graph();
  for (bool changed = true; changed;) {
    changed = false;
    try {
      onnx::ShapeInferenceOptions options(/*check_type=*/false, /*strict_mode=*/0,
                                          /*data_prop=*/true);
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
    } catch (const std::exception &) {
      // The strict pass after folding reports shape errors with context.
    }
    ConstantTable consts;
    for (const auto &t : graph->initializer())
      consts.addProto(&t, t.name());
    std::unordered_map<std::string, std::vector<int64_t>> shapes;
    auto addShape = [&](const onnx::ValueInfoProto &info) {
      if (auto dims = staticDims(info.type()))
        shapes[info.name()] = *dims;
    };
    for (const auto *list : {&graph->input(), &graph->value_info(), &graph->output()})
      for (const auto &v : *list)
        addShape(v);

    changed |= completeShapes(*graph, shapes);
    // A folded node becomes its first output's Constant in place; the
    // Constants of further outputs are inserted after it once the walk ends
    // (so pointers into the node list stay valid while it runs).
    std::vector<std::pair<int, onnx::NodeProto>> extra;
    std::unordered_set<std::string> quantizedWeights = dequantizedConvWeights(*graph);
    for (int index = 0; index < graph->node_size(); ++index) {
      onnx::NodeProto &node = *graph->mutable_node(index);
      if (!isDefaultDomain(node.domain()) || node.output_size() == 0 ||
          quantizedWeights.count(node.output(0)))
        continue;
      if (node.op_type() == "Constant") {
        if (node.attribute_size() == 1 && node.attribute(0).has_t())
          consts.addProto(&node.attribute(0).t(), node.output(0));
        continue;
      }
      // Shape and Size read only shapes; every other op needs all its
      // inputs constant, which is checked before anything is decoded.
      bool shapeOnly = node.op_type() == "Shape" || node.op_type() == "Size";
      bool ready = isEvaluable(node.op_type());
      for (int i = 0; ready && !shapeOnly && i < node.input_size(); ++i)
        ready = node.input(i).empty() || consts.contains(node.input(i));
      if (!ready) {
        // What an over-budget value leaves unknown downstream, it explains.
        for (const std::string &in : node.input())
          if (auto it = report.overBudget.find(in); it != report.overBudget.end()) {
            std::string why = it->second;
            for (const std::string &out : node.output())
              report.overBudget.emplace(out, why);
            break;
          }
        continue;
      }
      EvalInputs inputs{
          [&](size_t i) { return consts.get(node.input(i)); },
          [&](size_t i) -> std::optional<std::vector<int64_t>> {
            auto it = shapes.find(node.input(i));
            if (it == shapes.end())
              return std::nullopt;
            return it->second;
          }};
      EvalResult r = evaluateNode(node, inputs,
                                  std::min(budget.valueBytes(), budget.modelBytes - totalBytes));
      if (r.overBudgetElements) {
        std::string why = describe(node, index) + " was not folded: its result would have " +
                          (r.overBudgetElements == INT64_MAX
                               ? std::string("more than 2^63")
                               : std::to_string(r.overBudgetElements)) +
                          " elements, over the constant budget of " + budget.describe();
        for (const std::string &out : node.output())
          report.overBudget.emplace(out, why);
      }
      if (r.outputs.empty())
        continue;
      std::vector<onnx::NodeProto> constants;
      for (int o = 0; o < node.output_size(); ++o) {
        const std::string &out = node.output(o);
        if (out.empty())
          continue;
        totalBytes += constantBytes(r.outputs[o].dtype, r.outputs[o].numElements());
        std::string name = node.output_size() == 1 ? node.name()
                                                   : node.name() + "/" + std::to_string(o);
        constants.push_back(constantNode(name, evalTensorToProto(r.outputs[o], out)));
        consts.addValue(out, std::move(r.outputs[o]));
      }
      if (constants.empty())
        continue;
      ++report.folded;
      changed = true;
      node = std::move(constants[0]);
      for (size_t c = 1; c < constants.size(); ++c)
        extra.push_back({index, std::move(constants[c])});
    }
    if (!extra.empty()) {
      google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
      size_t next = 0;
      for (int index = 0; index < graph->node_size(); ++index) {
        *nodes.Add() = std::move(*graph->mutable_node(index));
        for (; next < extra.size() && extra[next].first == index; ++next)
          *nodes.Add() = std::move(extra[next].second);
      }
      graph->mutable_node()->Swap(&nodes);
    }
  }
  return report;
}

} // namespace kiln
