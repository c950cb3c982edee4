//===- ThreadPool.cpp - Persistent worker threads -------------------------===//

#include "kiln/runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_CPU_RELAX() _mm_pause()
#else
#define KILN_CPU_RELAX() std::this_thread::yield()
#endif

namespace kiln {

namespace {
/// How long an idle worker polls for the next task before it sleeps: longer
/// than the gap between two kernels of an inference, short enough not to
/// burn a core for long once inferences stop.
constexpr std::chrono::microseconds kSpin(300);
} // namespace

ThreadPool::ThreadPool(int threads) {
  int workers = std::max(threads, 1) - 1;
  workers_.reserve(workers);
  for (int i = 0; i < workers; ++i)
    workers_.emplace_back([this, i] { workerLoop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

static void runChunk(const std::function<void(int64_t, int64_t)> &fn, int64_t n,
                     int chunks, int index) {
  int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
  if (begin < end)
    fn(begin, end);
}

void ThreadPool::parallelFor(int64_t n,
                             const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  int chunks = static_cast<int>(std::min<int64_t>(threads(), n));
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  task_ = &fn;
  taskSize_ = n;
  chunks_ = chunks;
  // Every worker reports back, even one without a chunk, so none can still be
  // reading this task's fields when the next call writes them.
  pending_.store(static_cast<int>(workers_.size()));
  generation_.fetch_add(1); // publishes the task (sequentially consistent)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  runChunk(fn, n, chunks, 0);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4096)
      KILN_CPU_RELAX();
    else
      std::this_thread::yield(); // more threads than cores: let the workers run
  }
  task_ = nullptr;
}

void ThreadPool::workerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    for (int spins = 0; generation_.load(std::memory_order_acquire) == seen; ++spins) {
      KILN_CPU_RELAX();
      if ((spins & 255) == 255 && std::chrono::steady_clock::now() - start > kSpin) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
        break;
      }
    }
    if (stopping_.load())
      return;
    seen = generation_.load(std::memory_order_acquire);
    if (index < chunks_)
      runChunk(*task_, taskSize_, chunks_, index);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

} // namespace kiln
