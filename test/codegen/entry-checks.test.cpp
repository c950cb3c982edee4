// Drives a compiled `mlp` model (x: float[1,64] -> y: float[1,10]) through every
// kind of bad call its entry points must reject, printing each message.
// usage: driver WEIGHTS OTHER_MODEL_WEIGHTS DIRECTORY FIFO
#include "mlp.h"

#include <climits>
#include <cstdio>
#include <cstring>

static void show(const char *what, const kiln::Status &st) {
  std::printf("%s: %s\n", what, st.ok() ? "ok" : st.message().c_str());
}

int main(int argc, char **argv) {
  if (argc != 5)
    return 2;
  std::unique_ptr<mlp::Model> model;
  show("missing weights", mlp::Model::create("/nonexistent/mlp.weights", 1, model));
  show("wrong weights", mlp::Model::create(argv[2], 1, model));
  show("directory weights", mlp::Model::create(argv[3], 1, model));
  show("fifo weights", mlp::Model::create(argv[4], 1, model));
  show("zero threads", mlp::Model::create(argv[1], 0, model));
  show("too many threads", mlp::Model::create(argv[1], INT_MAX, model));
  show("create", mlp::Model::create(argv[1], 2, model));
  if (!model)
    return 1;

  float x[64], y[10];
  for (int i = 0; i < 64; ++i)
    x[i] = 0.01f * i;
  kiln::TensorView good(kiln::DType::Float32, {1, 64}, x);
  kiln::TensorView out(kiln::DType::Float32, {1, 10}, y);
  show("good call", model->run(&good, 1, &out, 1));

  kiln::TensorView wrongType(kiln::DType::Int64, {1, 64}, x);
  show("wrong dtype", model->run(&wrongType, 1, &out, 1));
  kiln::TensorView wrongDims(kiln::DType::Float32, {1, 65}, x);
  show("wrong dims", model->run(&wrongDims, 1, &out, 1));
  kiln::TensorView wrongRank(kiln::DType::Float32, {64}, x);
  show("wrong rank", model->run(&wrongRank, 1, &out, 1));
  kiln::TensorView nullData(kiln::DType::Float32, {1, 64}, nullptr);
  show("null data", model->run(&nullData, 1, &out, 1));
  show("wrong count", model->run(&good, 2, &out, 1));
  kiln::TensorView badOut(kiln::DType::Float32, {10}, y);
  show("wrong output", model->run(&good, 1, &badOut, 1));

  mlp::Inputs in;
  mlp::Outputs o;
  o.y = y;
  show("typed null input", model->run(in, o));
  in.x = x;
  show("typed call", model->run(in, o));

  // The C ABI reports through its error buffer.
  char error[256] = {};
  std::printf("abi null handle: %d %s\n",
              mlp_run(nullptr, nullptr, 0, nullptr, 0, error, sizeof error), error);
  void *handle = mlp_create("/nonexistent/mlp.weights", 1, error, sizeof error);
  std::printf("abi bad create: %s %s\n", handle ? "handle" : "null", error);
  handle = mlp_create(argv[3], 1, error, sizeof error);
  std::printf("abi directory: %s %s\n", handle ? "handle" : "null", error);
  handle = mlp_create(argv[1], INT_MAX, error, sizeof error);
  std::printf("abi threads: %s %s\n", handle ? "handle" : "null", error);
  kiln_tensor_info info;
  std::printf("abi info out of range: %d\n", mlp_input_info(5, &info));
  int rc = mlp_input_info(0, &info);
  std::printf("abi info: %d %s rank %d\n", rc, info.name, info.rank);
  return 0;
}
