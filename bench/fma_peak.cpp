// fma_peak: this machine's float32 multiply-add peak, measured with a loop
// that keeps everything in registers (no memory traffic), on 1..T threads.
//
//   c++ -O3 -march=native -std=c++17 -pthread bench/fma_peak.cpp -o fma_peak
//   ./fma_peak [THREADS]        (default: all hardware threads)
//
// Prints one JSON object per thread count:
//   {"threads": T, "gflops": G, "seconds": S}
// GFLOP/s count 2 per multiply-add, as the compile report's `flops` does, so
// report flops / time / peak is the fraction of peak a model reaches.
//
// The accumulators are 16 independent vectors of 16 floats (GCC/Clang vector
// extension; the compiler picks AVX-512, AVX2 or SSE for -march) so that the
// FMA latency is hidden: each vector depends only on itself.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

typedef float vec __attribute__((vector_size(64)));
constexpr int kChains = 16;
constexpr int kLanes = 16;

/// Runs `iterations` rounds of kChains vector FMAs; returns a value that
/// depends on all of them so the loop is not optimised away.
float spin(long iterations, float seed) {
  vec acc[kChains];
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l)
      acc[c][l] = seed + c + l * 0.001f;
  vec mul, add;
  for (int l = 0; l < kLanes; ++l) {
    mul[l] = 0.9999999f;
    add[l] = 1e-7f;
  }
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      acc[c] = acc[c] * mul + add;
  float sum = 0;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l)
      sum += acc[c][l];
  return sum;
}

double measure(int threads, long iterations) {
  std::vector<std::thread> pool;
  std::vector<float> sink(threads);
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { sink[t] = spin(iterations, float(t)); });
  for (auto &th : pool)
    th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float keep = 0;
  for (float s : sink)
    keep = keep + s;
  (void)keep;
  return seconds;
}

} // namespace

int main(int argc, char **argv) {
  int maxThreads = argc > 1 ? std::atoi(argv[1]) : int(std::thread::hardware_concurrency());
  if (maxThreads < 1) {
    std::fprintf(stderr, "fma_peak: THREADS must be a positive number\n");
    return 2;
  }
  const long iterations = 2000000000 / kChains;
  measure(1, iterations / 20); // warm up (clock ramp-up)
  for (int t = 1; t <= maxThreads; ++t) {
    // Best of three: other processes only ever make a run slower.
    double best = 1e30;
    for (int r = 0; r < 3; ++r)
      best = std::min(best, measure(t, iterations));
    double flops = 2.0 * kChains * kLanes * double(iterations) * t;
    std::printf("{\"threads\": %d, \"gflops\": %.1f, \"seconds\": %.3f}\n", t, flops / best / 1e9,
                best);
  }
  return 0;
}
