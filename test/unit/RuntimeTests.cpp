//===- RuntimeTests.cpp - Tests of the Kiln runtime -----------------------===//
//
// Tensor views and their checks, the arena, the weights file loader and its
// errors, the thread pool's partitioning, and the CUDA driver loader without a driver.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Cuda.h"
#include "kiln/runtime/Runtime.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <unistd.h>

using namespace kiln;

TEST_CASE("dtype sizes and names follow ONNX codes", "[tensor]") {
  CHECK(dtypeSize(DType::Float32) == 4);
  CHECK(dtypeSize(DType::Int64) == 8);
  CHECK(dtypeSize(DType::Bool) == 1);
  CHECK(dtypeSize(DType::Float16) == 2);
  CHECK(dtypeSize(static_cast<DType>(99)) == 0);
  CHECK(dtypeName(DType::Float32) == "float32");
  CHECK(dtypeName(static_cast<DType>(99)) == "unknown(99)");
  CHECK(static_cast<int>(DType::Int64) == 7); // TensorProto.INT64
}

TEST_CASE("tensor views count elements with checks", "[tensor]") {
  float data[6] = {};
  TensorView v(DType::Float32, {2, 3}, data);
  int64_t n = 0;
  REQUIRE(v.numElements(n).ok());
  CHECK(n == 6);
  CHECK(v.shapeString() == "[2,3]");

  TensorView negative(DType::Float32, {2, -3}, data);
  CHECK_FALSE(negative.numElements(n).ok());

  TensorView huge(DType::Float32, {int64_t(1) << 40, int64_t(1) << 40}, data);
  Status s = huge.numElements(n);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("overflow") != std::string::npos);

  TensorView badRank;
  badRank.rank = 12;
  CHECK_FALSE(badRank.numElements(n).ok());
}

TEST_CASE("checkTensor names the tensor and the difference", "[tensor]") {
  float data[6] = {};
  TensorView v(DType::Float32, {2, 3}, data);
  CHECK(checkTensor(v, DType::Float32, {2, 3}, "input 0 'x'").ok());

  Status wrongType = checkTensor(v, DType::Int64, {2, 3}, "input 0 'x'");
  REQUIRE_FALSE(wrongType.ok());
  CHECK(wrongType.message() ==
        "input 0 'x': expected element type int64, got float32");

  Status wrongShape = checkTensor(v, DType::Float32, {3, 2}, "input 0 'x'");
  REQUIRE_FALSE(wrongShape.ok());
  CHECK(wrongShape.message() == "input 0 'x': expected shape [3,2], got [2,3]");

  Status wrongRank = checkTensor(v, DType::Float32, {6}, "input 0 'x'");
  CHECK_FALSE(wrongRank.ok());

  TensorView null(DType::Float32, {2, 3}, nullptr);
  Status nullData = checkTensor(null, DType::Float32, {2, 3}, "input 0 'x'");
  REQUIRE_FALSE(nullData.ok());
  CHECK(nullData.message().find("null") != std::string::npos);

  // A zero-size tensor may have a null pointer.
  TensorView empty(DType::Float32, {0, 3}, nullptr);
  CHECK(checkTensor(empty, DType::Float32, {0, 3}, "input 0 'x'").ok());
}

TEST_CASE("arena memory is aligned, zeroed and movable", "[arena]") {
  Arena arena;
  REQUIRE(arena.allocate(100).ok());
  CHECK(arena.size() == 128);
  CHECK(reinterpret_cast<uintptr_t>(arena.data()) % kArenaAlignment == 0);
  for (size_t i = 0; i < arena.size(); ++i)
    REQUIRE(arena.data()[i] == 0);
  arena.at<float>(64)[0] = 1.5f;

  Arena moved(std::move(arena));
  CHECK(arena.data() == nullptr);
  CHECK(moved.at<float>(64)[0] == 1.5f);

  Arena empty;
  CHECK(empty.allocate(0).ok());
  CHECK(empty.data() == nullptr);

  Arena tooBig;
  Status s = tooBig.allocate(SIZE_MAX - 8);
  CHECK_FALSE(s.ok());
}

namespace {

std::string tempPath(const char *tag) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/tmp/kiln-unit-%d-%s", getpid(), tag);
  return buf;
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

std::vector<uint8_t> weightsFile(const std::vector<uint8_t> &payload) {
  std::vector<uint8_t> file = makeWeightsHeader(payload.data(), payload.size());
  file.insert(file.end(), payload.begin(), payload.end());
  return file;
}

} // namespace

TEST_CASE("weights load, align and verify their header", "[weights]") {
  std::vector<uint8_t> payload(256);
  std::iota(payload.begin(), payload.end(), 0);
  uint64_t hash = fnv1a64(payload.data(), payload.size());
  std::string path = tempPath("weights");
  writeFile(path, weightsFile(payload));

  Weights w;
  REQUIRE(w.load(path, payload.size(), hash).ok());
  CHECK(reinterpret_cast<uintptr_t>(w.payload()) % kWeightsAlignment == 0);
  CHECK(std::memcmp(w.payload(), payload.data(), payload.size()) == 0);
  CHECK(w.at<uint8_t>(10)[0] == 10);

  SECTION("wrong expected size") {
    Status s = w.load(path, payload.size() + 4, hash);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("expects 260") != std::string::npos);
  }
  SECTION("weights of another model") {
    Status s = w.load(path, payload.size(), hash + 1);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("different model") != std::string::npos);
  }
  SECTION("truncated file") {
    std::vector<uint8_t> file = weightsFile(payload);
    file.resize(file.size() - 10);
    writeFile(path, file);
    Status s = w.load(path, payload.size(), hash);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("truncated") != std::string::npos);
  }
  SECTION("corrupted payload") {
    std::vector<uint8_t> file = weightsFile(payload);
    file.back() ^= 1;
    writeFile(path, file);
    Status s = w.load(path, payload.size(), hash);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("corrupted") != std::string::npos);
  }
  SECTION("not a weights file") {
    writeFile(path, std::vector<uint8_t>(64, 'x'));
    Status s = w.load(path, payload.size(), hash);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("not a Kiln weights file") != std::string::npos);
  }
  SECTION("missing file") {
    Status s = w.load(path + ".missing", payload.size(), hash);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("cannot open") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("weights attach to memory, copying only when misaligned", "[weights]") {
  std::vector<uint8_t> payload(128, 7);
  uint64_t hash = fnv1a64(payload.data(), payload.size());
  std::vector<uint8_t> file = weightsFile(payload);
  // Place the file so that its payload is misaligned.
  std::vector<uint8_t> buffer(file.size() + 128);
  uintptr_t base = reinterpret_cast<uintptr_t>(buffer.data());
  uint8_t *start = buffer.data() + (64 - base % 64) % 64 + 1;
  std::memcpy(start, file.data(), file.size());
  Weights w;
  REQUIRE(w.attach(start, file.size(), payload.size(), hash).ok());
  CHECK(reinterpret_cast<uintptr_t>(w.payload()) % kWeightsAlignment == 0);
  CHECK(w.payload()[127] == 7);
  CHECK_FALSE(w.attach(nullptr, 0, payload.size(), hash).ok());
}

TEST_CASE("thread pool covers every index exactly once", "[threads]") {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    CHECK(pool.threads() == threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> chunks{0};
      pool.parallelFor(n, [&](int64_t begin, int64_t end) {
        ++chunks;
        for (int64_t i = begin; i < end; ++i)
          ++hits[i];
      });
      for (int64_t i = 0; i < n; ++i)
        REQUIRE(hits[i] == 1);
      CHECK(chunks <= std::max<int64_t>(std::min<int64_t>(threads, n), 0));
    }
  }
}

TEST_CASE("thread pool survives many back-to-back tasks", "[threads]") {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 2000; ++round)
    pool.parallelFor(16, [&](int64_t begin, int64_t end) { total += end - begin; });
  CHECK(total == 2000 * 16);
}

TEST_CASE("the CUDA runtime reports a missing driver as an error", "[cuda]") {
  // A driver path that cannot load stands in for a machine without NVIDIA's
  // driver (where libcuda.so.1 exists, the real one would be found).
  ::setenv("KILN_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  std::unique_ptr<kiln::cuda::Device> device;
  kiln::Status st = kiln::cuda::Device::open(0, device);
  ::unsetenv("KILN_CUDA_DRIVER");
  REQUIRE_FALSE(st.ok());
  CHECK(device == nullptr);
  CHECK(st.message().find("no CUDA driver") != std::string::npos);
  CHECK(st.message().find("/nonexistent/libcuda.so.1") != std::string::npos);
}

TEST_CASE("tensorBytes multiplies the dims by the element size", "[tensor]") {
  kiln_tensor_info info{"x", 1, 3, {2, 3, 4}};
  CHECK(kiln::tensorBytes(info) == 2 * 3 * 4 * 4);
  info.dtype = 7; // int64
  info.rank = 0;
  CHECK(kiln::tensorBytes(info) == 8);
}
