//===- Weights.cpp - The compiled model's weights file --------------------===//

#include "kiln/runtime/Weights.h"

#include <cstring>
#include <fstream>

namespace kiln {

static const char kMagic[8] = {'K', 'I', 'L', 'N', 'W', 'T', 'S', '1'};

uint64_t fnv1a64(const void *data, size_t bytes) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static void putU64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}

static uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

std::vector<uint8_t> makeWeightsHeader(const void *payload, size_t bytes) {
  std::vector<uint8_t> header(kWeightsHeaderBytes, 0);
  std::memcpy(header.data(), kMagic, sizeof(kMagic));
  putU64(header.data() + 8, bytes);
  putU64(header.data() + 16, fnv1a64(payload, bytes));
  return header;
}

Status Weights::check(const uint8_t *file, size_t bytes, uint64_t expectedBytes,
                      uint64_t expectedHash, const std::string &what) {
  if (bytes < kWeightsHeaderBytes || std::memcmp(file, kMagic, 8) != 0)
    return Status::error(what + " is not a Kiln weights file");
  uint64_t payloadBytes = getU64(file + 8);
  if (payloadBytes != bytes - kWeightsHeaderBytes)
    return Status::error(what + " is truncated or padded: header says " +
                         std::to_string(payloadBytes) + " bytes, file has " +
                         std::to_string(bytes - kWeightsHeaderBytes));
  if (payloadBytes != expectedBytes)
    return Status::error(what + " holds " + std::to_string(payloadBytes) +
                         " bytes of weights, the model expects " +
                         std::to_string(expectedBytes));
  uint64_t hash = getU64(file + 16);
  if (hash != expectedHash)
    return Status::error(what + " belongs to a different model (hash mismatch)");
  if (fnv1a64(file + kWeightsHeaderBytes, payloadBytes) != hash)
    return Status::error(what + " is corrupted (payload hash mismatch)");
  return Status::success();
}

Status Weights::load(const std::string &path, uint64_t expectedBytes,
                     uint64_t expectedHash) {
  payload_ = nullptr;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return Status::error("cannot open weights file '" + path + "'");
  std::streamoff size = in.tellg();
  if (size < 0)
    return Status::error("cannot read weights file '" + path + "'");
  // Over-allocate so the payload can start on an aligned address.
  storage_.assign(static_cast<size_t>(size) + kWeightsAlignment, 0);
  uintptr_t base = reinterpret_cast<uintptr_t>(storage_.data());
  size_t shift = (kWeightsAlignment - (base + kWeightsHeaderBytes) %
                                          kWeightsAlignment) %
                 kWeightsAlignment;
  uint8_t *file = storage_.data() + shift;
  in.seekg(0);
  if (!in.read(reinterpret_cast<char *>(file), size))
    return Status::error("cannot read weights file '" + path + "'");
  if (Status s = check(file, static_cast<size_t>(size), expectedBytes,
                       expectedHash, "weights file '" + path + "'");
      !s.ok())
    return s;
  payload_ = file + kWeightsHeaderBytes;
  return Status::success();
}

Status Weights::attach(const void *data, size_t bytes, uint64_t expectedBytes,
                       uint64_t expectedHash) {
  payload_ = nullptr;
  storage_.clear();
  if (!data)
    return Status::error("embedded weights pointer is null");
  const uint8_t *file = static_cast<const uint8_t *>(data);
  if (Status s = check(file, bytes, expectedBytes, expectedHash,
                       "embedded weights");
      !s.ok())
    return s;
  if (reinterpret_cast<uintptr_t>(file + kWeightsHeaderBytes) %
      kWeightsAlignment) {
    // Copy to keep the alignment the generated kernels rely on.
    size_t payloadBytes = bytes - kWeightsHeaderBytes;
    storage_.assign(payloadBytes + kWeightsAlignment, 0);
    uintptr_t base = reinterpret_cast<uintptr_t>(storage_.data());
    uint8_t *aligned =
        storage_.data() + (kWeightsAlignment - base % kWeightsAlignment) %
                              kWeightsAlignment;
    std::memcpy(aligned, file + kWeightsHeaderBytes, payloadBytes);
    payload_ = aligned;
    return Status::success();
  }
  payload_ = file + kWeightsHeaderBytes;
  return Status::success();
}

} // namespace kiln
