//===- main.cpp - Example: run a model compiled at build time -------------===//
//
//   cnn_classifier [INPUT.raw EXPECTED.raw]
//
// Runs the compiled `cnn` model (weights embedded in the binary). With two
// raw little-endian float32 files it checks the result against the expected
// output (rtol 1e-3, atol 1e-4) and exits non-zero on a mismatch; without
// them it runs on a fixed input and prints the scores.
//
//===----------------------------------------------------------------------===//

#include "cnn.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <vector>

static bool readRaw(const char *path, std::vector<float> &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char *>(out.data()), out.size() * sizeof(float)))
    return false;
  return in.peek() == EOF;
}

int main(int argc, char **argv) {
  std::vector<float> x(1 * 3 * 32 * 32), y(10), expected(10);
  if (argc == 3) {
    if (!readRaw(argv[1], x) || !readRaw(argv[2], expected)) {
      std::fprintf(stderr, "cannot read %s / %s as %zu / %zu floats\n", argv[1],
                   argv[2], x.size(), expected.size());
      return 1;
    }
  } else {
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = std::sin(0.1f * static_cast<float>(i));
  }

  std::unique_ptr<cnn::Model> model;
  if (kiln::Status st = cnn::Model::createEmbedded(/*threads=*/2, model); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  cnn::Inputs inputs;
  inputs.x = x.data();
  cnn::Outputs outputs;
  outputs.y = y.data();
  if (kiln::Status st = model->run(inputs, outputs); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }

  size_t best = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    std::printf("score[%zu] = %.6f\n", i, y[i]);
    if (y[i] > y[best])
      best = i;
  }
  std::printf("class %zu\n", best);
  if (argc == 3) {
    for (size_t i = 0; i < y.size(); ++i)
      if (!(std::fabs(y[i] - expected[i]) <= 1e-4 + 1e-3 * std::fabs(expected[i]))) {
        std::fprintf(stderr, "mismatch at %zu: got %.9g, expected %.9g\n", i, y[i],
                     expected[i]);
        return 1;
      }
    std::printf("matches expected output\n");
  }
  return 0;
}
