//===- Arena.h - One aligned buffer for all activations ---------*- C++ -*-===//
//
// The compiler plans every intermediate tensor at a static offset; the arena is
// the one allocation those offsets index.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_ARENA_H
#define KILN_RUNTIME_ARENA_H

#include "kiln/runtime/Status.h"

#include <cstddef>
#include <cstdint>

namespace kiln {

constexpr size_t kArenaAlignment = 64;

class Arena {
public:
  Arena() = default;
  ~Arena();
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;
  Arena(Arena &&other) noexcept;
  Arena &operator=(Arena &&other) noexcept;

  /// Allocates `bytes` (rounded up to the alignment), zero-filled. Replaces any
  /// previous allocation.
  Status allocate(size_t bytes);

  uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  /// Pointer at `offset`; the generated code only uses planned offsets.
  template <typename T> T *at(size_t offset) const {
    return reinterpret_cast<T *>(data_ + offset);
  }

private:
  uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

} // namespace kiln

#endif // KILN_RUNTIME_ARENA_H
