//===- Arena.cpp - One aligned buffer for all activations -----------------===//

#include "kiln/runtime/Arena.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace kiln {

Arena::~Arena() { std::free(data_); }

Arena::Arena(Arena &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

Arena &Arena::operator=(Arena &&other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Status Arena::allocate(size_t bytes) {
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
  if (bytes > SIZE_MAX - kArenaAlignment)
    return Status::error("arena of " + std::to_string(bytes) +
                         " bytes is too large");
  size_t rounded = (bytes + kArenaAlignment - 1) / kArenaAlignment *
                   kArenaAlignment;
  if (rounded == 0)
    return Status::success();
  void *p = std::aligned_alloc(kArenaAlignment, rounded);
  if (!p)
    return Status::error("cannot allocate an arena of " +
                         std::to_string(rounded) + " bytes");
  std::memset(p, 0, rounded);
  data_ = static_cast<uint8_t *>(p);
  size_ = rounded;
  return Status::success();
}

} // namespace kiln
