//===- ShapeOperands.cpp - Graph inputs that decide shapes -----------------===//

#include "ShapeOperands.h"

#include <map>
#include <vector>

namespace kiln {

const std::set<int> &shapeOperandPositions(const std::string &opType) {
  // By role in the newest opset; older opsets have fewer inputs, and a
  // position past the node's inputs is simply absent. Resize's roi is listed
  // with scales and sizes: together they fix the sampling geometry (the tap
  // tables), not the values sampled. Loop's trip count and condition, If's
  // condition and Dropout's training_mode choose what the node computes (how
  // many iterations, which branch's outputs, a random mask or none; in
  // training mode the ratio decides whether the mask is random, and Kiln
  // supports only ratio 0 there). Without
  // specialisation an If computes both branches and selects at run time,
  // which works when the branches' outputs have the same form.
  static const std::map<std::string, std::set<int>> table = {
      {"Reshape", {1}},
      {"Expand", {1}},
      {"Slice", {1, 2, 3, 4}},
      {"Pad", {1, 3}},
      {"TopK", {1}},
      {"Tile", {1}},
      {"Resize", {1, 2, 3}},
      {"Upsample", {1}},
      {"Range", {0, 1, 2}},
      {"ConstantOfShape", {0}},
      {"OneHot", {1}},
      {"Split", {1}},
      {"SplitToSequence", {1}},
      {"Squeeze", {1}},
      {"Unsqueeze", {1}},
      {"ReduceSum", {1}},
      {"ReduceMean", {1}},
      {"ReduceMax", {1}},
      {"ReduceMin", {1}},
      {"ReduceProd", {1}},
      {"ReduceL1", {1}},
      {"ReduceL2", {1}},
      {"ReduceLogSum", {1}},
      {"ReduceLogSumExp", {1}},
      {"ReduceSumSquare", {1}},
      {"Trilu", {1}},
      {"CumSum", {1}},
      {"CenterCropPad", {1}},
      {"Col2Im", {1, 2}},
      {"DFT", {1, 2}},
      {"STFT", {1, 3}},
      {"MaxUnpool", {2}},
      {"Compress", {1}},
      {"Loop", {0, 1}},
      {"If", {0}},
      {"Dropout", {1, 2}},
      {"SequenceAt", {1}},
      {"SequenceErase", {1}},
      {"SequenceInsert", {2}},
      {"HannWindow", {0}},
      {"HammingWindow", {0}},
      {"BlackmanWindow", {0}},
      {"MelWeightMatrix", {0, 1, 2, 3, 4}},
  };
  static const std::set<int> none;
  auto it = table.find(opType);
  return it == table.end() ? none : it->second;
}

namespace {

void collectNodes(const onnx::GraphProto &graph, std::vector<const onnx::NodeProto *> &nodes) {
  for (const auto &node : graph.node()) {
    nodes.push_back(&node);
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        collectNodes(attr.g(), nodes);
      for (const auto &g : attr.graphs())
        collectNodes(g, nodes);
    }
  }
}

} // namespace

std::set<std::string> inputsReachingShapeOperands(const onnx::GraphProto &graph) {
  std::vector<const onnx::NodeProto *> nodes;
  collectNodes(graph, nodes);
  std::map<std::string, const onnx::NodeProto *> producer;
  for (const onnx::NodeProto *node : nodes)
    for (const auto &out : node->output())
      if (!out.empty())
        producer[out] = node;

  // Walk back from every shape operand to the values it is computed from.
  std::vector<std::string> work;
  for (const onnx::NodeProto *node : nodes)
    for (int pos : shapeOperandPositions(node->op_type()))
      if (pos < node->input_size() && !node->input(pos).empty())
        work.push_back(node->input(pos));
  std::set<std::string> reached;
  while (!work.empty()) {
    std::string name = work.back();
    work.pop_back();
    if (!reached.insert(name).second)
      continue;
    auto it = producer.find(name);
    if (it == producer.end())
      continue;
    const std::string &op = it->second->op_type();
    if (op == "Shape" || op == "Size")
      continue;
    for (const auto &in : it->second->input())
      if (!in.empty())
        work.push_back(in);
  }

  std::set<std::string> inits;
  for (const auto &t : graph.initializer())
    inits.insert(t.name());
  std::set<std::string> chosen;
  for (const auto &v : graph.input())
    if (!inits.count(v.name()) && reached.count(v.name()))
      chosen.insert(v.name());
  return chosen;
}

} // namespace kiln
