//===- ThreadPool.h - Persistent worker threads -----------------*- C++ -*-===//
//
// Threads are created once, when the model is created; each kernel splits its
// outer loop into contiguous chunks with parallelFor. The calling thread works
// too, so a pool of N threads has N-1 workers. A model launches dozens of
// kernels per inference, some of them a few microseconds long, so idle workers
// spin briefly on the next task before they sleep: waking a sleeping thread
// costs more than most of those kernels.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_THREADPOOL_H
#define KILN_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln {

/// The most threads a compiled model accepts (`create`'s `threads`).
inline constexpr int kMaxThreads = 1024;

class ThreadPool {
public:
  explicit ThreadPool(int threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  /// Calls fn(begin, end) over a partition of [0, n) into at most threads()
  /// contiguous, nearly equal chunks, and returns when all are done.
  void parallelFor(int64_t n, const std::function<void(int64_t, int64_t)> &fn);

private:
  void workerLoop(int index);

  std::vector<std::thread> workers_;
  // The task is published by bumping generation_; workers that gave up
  // spinning wait on wake_ (sleepers_ tells the caller to notify).
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  const std::function<void(int64_t, int64_t)> *task_ = nullptr;
  int64_t taskSize_ = 0;
  int chunks_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
};

/// The first failed check of a kernel's parallelFor (generated code): the
/// failing chunk records it and stops, and the kernel reports it once the
/// loop has returned.
class TaskError {
public:
  void set(std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failed_) {
      failed_ = true;
      message_ = std::move(message);
    }
  }
  /// Only after parallelFor has returned.
  bool failed() const { return failed_; }
  const std::string &message() const { return message_; }

private:
  std::mutex mutex_;
  bool failed_ = false;
  std::string message_;
};

} // namespace kiln

#endif // KILN_RUNTIME_THREADPOOL_H
