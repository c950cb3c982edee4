// Thread safety of a compiled `cnn` model (x: float[1,3,32,32] -> y:
// float[1,10]), as docs/cpp-api.md states it: separate instances run in
// parallel, and calls to one instance from several threads take turns. Each
// thread checks every result bitwise against the serial result for its input.
// usage: driver WEIGHTS
#include "cnn.h"

#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

constexpr int kThreads = 4, kRuns = 25;
constexpr size_t kIn = 3 * 32 * 32, kOut = 10;

static std::vector<float> inputFor(int seed) {
  std::vector<float> x(kIn);
  unsigned state = 12345u + 977u * seed;
  for (float &v : x) {
    state = state * 1664525u + 1013904223u;
    v = float(state >> 8) / float(1u << 24) - 0.5f;
  }
  return x;
}

static bool runOnce(cnn::Model &model, const std::vector<float> &x, float *y) {
  cnn::Inputs in;
  in.x = x.data();
  cnn::Outputs out;
  out.y = y;
  return model.run(in, out).ok();
}

// Every thread runs its own input kRuns times on the model `pick(t)` gives it;
// returns how many results differ from `expected[t]`.
template <typename Pick>
static int hammer(Pick pick, const std::vector<std::vector<float>> &inputs,
                  const std::vector<std::vector<float>> &expected) {
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      float y[kOut];
      for (int r = 0; r < kRuns; ++r)
        if (!runOnce(pick(t), inputs[t], y) ||
            std::memcmp(y, expected[t].data(), sizeof y) != 0)
          ++wrong[t];
    });
  for (auto &th : threads)
    th.join();
  int total = 0;
  for (int w : wrong)
    total += w;
  return total;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  std::vector<std::unique_ptr<cnn::Model>> models(kThreads);
  for (auto &m : models)
    if (kiln::Status st = cnn::Model::create(argv[1], 2, m); !st.ok()) {
      std::printf("create: %s\n", st.message().c_str());
      return 1;
    }
  std::vector<std::vector<float>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(inputFor(t));
    expected.emplace_back(kOut);
    if (!runOnce(*models[0], inputs[t], expected[t].data()))
      return 1;
  }
  // Distinct inputs must give distinct outputs, or the checks below prove nothing.
  if (std::memcmp(expected[0].data(), expected[1].data(), kOut * sizeof(float)) == 0)
    return 1;
  std::printf("parallel instances: %d wrong\n",
              hammer([&](int t) -> cnn::Model & { return *models[t]; }, inputs, expected));
  std::printf("one shared instance: %d wrong\n",
              hammer([&](int) -> cnn::Model & { return *models[0]; }, inputs, expected));
  return 0;
}
