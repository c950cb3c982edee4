//===- Weights.h - The compiled model's weights file ------------*- C++ -*-===//
//
// Weights live in a binary file beside the generated code (or are embedded by
// the build). The file starts with a header the loader checks before any byte is
// used, so a truncated file or one that belongs to another model is an error.
//
// Layout (little-endian):
//   char     magic[8]  = "KILNWTS1"
//   uint64_t payload_bytes
//   uint64_t payload_hash   (FNV-1a 64 of the payload)
//   uint64_t reserved       (0)
//   payload: tensors at 64-byte aligned offsets
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_WEIGHTS_H
#define KILN_RUNTIME_WEIGHTS_H

#include "kiln/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

constexpr size_t kWeightsHeaderBytes = 32;
constexpr size_t kWeightsAlignment = 64;

uint64_t fnv1a64(const void *data, size_t bytes);

/// Builds the header for `payload`, for writers of weights files.
std::vector<uint8_t> makeWeightsHeader(const void *payload, size_t bytes);

class Weights {
public:
  /// Reads and checks a weights file whose payload must be `expectedBytes` long
  /// with hash `expectedHash`.
  Status load(const std::string &path, uint64_t expectedBytes,
              uint64_t expectedHash);
  /// Checks and uses weights already in memory (header included), e.g. embedded
  /// in the binary. The memory must outlive this object.
  Status attach(const void *data, size_t bytes, uint64_t expectedBytes,
                uint64_t expectedHash);

  const uint8_t *payload() const { return payload_; }
  template <typename T> const T *at(size_t offset) const {
    return reinterpret_cast<const T *>(payload_ + offset);
  }

private:
  Status check(const uint8_t *file, size_t bytes, uint64_t expectedBytes,
               uint64_t expectedHash, const std::string &what);
  /// The checks that need only the header and the file's size.
  static Status checkHeader(const uint8_t *header, uint64_t bytes, uint64_t expectedBytes,
                            uint64_t expectedHash, const std::string &what);
  std::vector<uint8_t> storage_;
  const uint8_t *payload_ = nullptr;
};

} // namespace kiln

#endif // KILN_RUNTIME_WEIGHTS_H
