//===- ModelIOTests.cpp - Tests of model loading and tensor files ---------===//
//
// Path confinement for external data and weights files, JSON error paths,
// the comparison `kiln run` uses, and which inputs decide shapes.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/TensorFile.h"
#include "lib/Import/JsonModel.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/ShapeOperands.h"
#include "lib/Import/TensorData.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace kiln;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char buf[] = "/tmp/kiln-unit-XXXXXX";
    path = mkdtemp(buf);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string &name, const std::string &text) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};


template <typename T> std::string errorOf(llvm::Expected<T> &v) {
  REQUIRE_FALSE(static_cast<bool>(v));
  return llvm::toString(v.takeError());
}

HostTensor floats(std::vector<float> v, std::vector<int64_t> dims) {
  HostTensor t;
  t.dtype = 1;
  t.dims = dims;
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

} // namespace

TEST_CASE("paths must stay inside the model directory", "[loader]") {
  TempDir dir;
  dir.file("w.bin", "1234");
  CHECK(static_cast<bool>(resolveInside(dir.path, "w.bin")));
  for (const char *bad : {"../w.bin", "/etc/passwd", "a/../../x", ""}) {
    auto r = resolveInside(dir.path, bad);
    INFO(bad);
    CHECK_FALSE(static_cast<bool>(r));
    if (!r)
      llvm::consumeError(r.takeError());
  }
  // A symlink that points outside is refused after resolution.
  REQUIRE(symlink("/etc/hostname", (dir.path + "/link").c_str()) == 0);
  auto r = resolveInside(dir.path, "link");
  CHECK(errorOf(r).find("outside the model directory") != std::string::npos);
}

TEST_CASE("truncated and non-ONNX files are rejected with the file name", "[loader]") {
  TempDir dir;
  std::string path = dir.file("bad.onnx", "this is not a protobuf \xff\xff\xff");
  auto m = loadModel(path);
  std::string msg = errorOf(m);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("not a valid ONNX protobuf") != std::string::npos);

  auto missing = loadModel(dir.path + "/missing.onnx");
  CHECK(errorOf(missing).find("cannot open") != std::string::npos);
}

TEST_CASE("JSON models report the path of a wrong entry", "[json]") {
  TempDir dir;
  auto load = [&](const std::string &text) {
    auto m = loadJsonModel(dir.file("m.json", text));
    return errorOf(m);
  };
  CHECK(load("{") .find("invalid JSON") != std::string::npos);
  CHECK(load(R"({"format": "other", "version": 1})").find("kiln-graph") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "inputs": 3, "outputs": [], "nodes": []})")
            .find("inputs: expected an array") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "inputs": [{"name": "x", "dtype": "float99", "shape": [1]}], "outputs": [], "nodes": []})")
            .find("inputs[0].dtype: unknown dtype 'float99'") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "inputs": [], "outputs": [],
                 "initializers": [{"name": "w", "dtype": "float32", "shape": [3], "data": [1.0, 2.0]}],
                 "nodes": []})")
            .find("initializers[0].data: has 2 values, shape needs 3") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "inputs": [], "outputs": [],
                 "nodes": [{"op_type": "Relu", "inputs": ["x"], "outputs": [7]}]})")
            .find("nodes[0].outputs[0]: expected a string") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "inputs": [], "outputs": [],
                 "initializers": [{"name": "w", "dtype": "float32", "shape": [4], "offset": 0, "length": 16}],
                 "nodes": []})")
            .find("outside the weights file") != std::string::npos);
  CHECK(load(R"({"format": "kiln-graph", "version": 1, "weights_file": "../x.bin", "inputs": [], "outputs": [], "nodes": []})")
            .find("leaves the model directory") != std::string::npos);
  std::string deep(200, '[');
  CHECK(load(deep).find("nesting deeper than 64") != std::string::npos);
}

TEST_CASE("tensor data must agree with the dims", "[tensor-data]") {
  onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.add_dims(2);
  t.add_dims(2);
  t.set_raw_data(std::string(12, '\0'));
  auto bytes = tensorBytes(t);
  CHECK(errorOf(bytes).find("holds 12 bytes of data, its dims need 16") != std::string::npos);

  t.clear_raw_data();
  for (float f : {1.0f, 2.0f, 3.0f, 4.0f})
    t.add_float_data(f);
  auto ok = tensorBytes(t);
  REQUIRE(static_cast<bool>(ok));
  CHECK(ok->size() == 16);

  t.set_dims(0, -1);
  auto neg = tensorBytes(t);
  CHECK(errorOf(neg).find("negative dimension") != std::string::npos);
}

TEST_CASE("comparisons use ONNX tolerances and name the worst element", "[compare]") {
  HostTensor expected = floats({1.0f, 2.0f, NAN, 4.0f}, {2, 2});
  HostTensor same = floats({1.0f, 2.0005f, NAN, 4.0f}, {2, 2});
  CHECK(compareTensors(same, expected, 1e-3, 1e-7).match);

  HostTensor off = floats({1.0f, 2.1f, NAN, 4.0f}, {2, 2});
  Comparison c = compareTensors(off, expected, 1e-3, 1e-7);
  CHECK_FALSE(c.match);
  CHECK(c.mismatches == 1);
  CHECK(c.message.find("worst at [0,1]") != std::string::npos);
  CHECK(c.message.find("expected 2") != std::string::npos);

  HostTensor nanMismatch = floats({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2});
  CHECK_FALSE(compareTensors(nanMismatch, expected, 1e-3, 1e-7).match);

  HostTensor reshaped = floats({1.0f, 2.0f, NAN, 4.0f}, {4});
  CHECK(compareTensors(reshaped, expected, 1e-3, 1e-7).message.find("shape") !=
        std::string::npos);

  HostTensor ints;
  ints.dtype = 7;
  ints.dims = {1};
  ints.data.assign(8, 0);
  HostTensor ints2 = ints;
  ints2.data[0] = 1;
  CHECK_FALSE(compareTensors(ints, ints2, 1.0, 1.0).match); // integers are exact
}

TEST_CASE("the default absolute tolerance scales with the output's magnitude", "[compare]") {
  // Reassociation noise on a near-zero element of an O(10) output.
  HostTensor expected = floats({10.0f, -4.0f, 1e-6f, 0.5f}, {4});
  HostTensor noisy = floats({10.0f, -4.0f, 3e-4f, 0.5f}, {4});
  CHECK(magnitudeAtol(expected) == Approx(1e-2));
  CHECK(compareTensors(noisy, expected, 1e-3, -1).match);
  CHECK_FALSE(compareTensors(noisy, expected, 1e-3, 1e-7).match);
  // An error of 1% of the magnitude is not noise.
  HostTensor wrong = floats({10.0f, -4.0f, 0.1f, 0.5f}, {4});
  Comparison c = compareTensors(wrong, expected, 1e-3, -1);
  CHECK_FALSE(c.match);
  CHECK(c.message.find("worst at [2]") != std::string::npos);
  // All-zero outputs fall back to the floor.
  CHECK(magnitudeAtol(floats({0.0f, 0.0f}, {2})) == Approx(kMagnitudeAtolFloor));
}

TEST_CASE("tensor files round-trip", "[tensor-file]") {
  TempDir dir;
  HostTensor t = floats({1.5f, -2.0f}, {2});
  t.name = "y";
  REQUIRE_FALSE(static_cast<bool>(writeTensorFile(t, dir.path + "/t.pb")));
  auto back = readTensorFile(dir.path + "/t.pb");
  REQUIRE(static_cast<bool>(back));
  CHECK(back->name == "y");
  CHECK(back->dims == std::vector<int64_t>{2});
  CHECK(compareTensors(*back, t, 0, 0).match);
}

namespace {
onnx::NodeProto *addNode(onnx::GraphProto &g, const std::string &op,
                         std::vector<std::string> ins, std::vector<std::string> outs) {
  onnx::NodeProto *n = g.add_node();
  n->set_op_type(op);
  for (const auto &i : ins)
    n->add_input(i);
  for (const auto &o : outs)
    n->add_output(o);
  return n;
}
} // namespace

TEST_CASE("shape operands are found by role, through the nodes computing them",
          "[shape-operands]") {
  onnx::GraphProto g;
  for (const char *name : {"x", "target", "lo", "k", "limit", "w"})
    g.add_input()->set_name(name);
  g.add_initializer()->set_name("w"); // an initializer is never a choice
  // Reshape's target reaches it through a Cast and a Concat with a Shape of x:
  // target decides a shape, x (read only through Shape) does not.
  addNode(g, "Shape", {"x"}, {"xs"});
  addNode(g, "Cast", {"target"}, {"t64"});
  addNode(g, "Concat", {"xs", "t64"}, {"shape"});
  addNode(g, "Reshape", {"x", "shape"}, {"y"});
  // Clip's limit and MatMul's operands are data.
  addNode(g, "Clip", {"y", "lo"}, {"z"});
  addNode(g, "MatMul", {"z", "w"}, {"m"});
  // TopK's k decides the output shape; an optional input left empty is skipped.
  addNode(g, "TopK", {"m", "k"}, {"values", "indices"});
  addNode(g, "Slice", {"m", "", ""}, {"s"});
  // A subgraph's shape operands count too (a Loop body reading an outer input).
  onnx::NodeProto *loop = addNode(g, "Loop", {"", ""}, {"out"});
  onnx::AttributeProto *body = loop->add_attribute();
  body->set_name("body");
  addNode(*body->mutable_g(), "Range", {"zero", "limit", "one"}, {"r"});

  std::set<std::string> chosen = inputsReachingShapeOperands(g);
  CHECK(chosen == std::set<std::string>{"target", "k", "limit"});
  CHECK(shapeOperandPositions("Clip").empty());
  CHECK(shapeOperandPositions("Slice") == std::set<int>{1, 2, 3, 4});
}
