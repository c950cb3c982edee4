//===- Weights.cpp - The compiled model's weights file --------------------===//

#include "kiln/runtime/Weights.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
  if (Status s = checkHeader(file, bytes, expectedBytes, expectedHash, what); !s.ok())
    return s;
  if (fnv1a64(file + kWeightsHeaderBytes, bytes - kWeightsHeaderBytes) != expectedHash)
    return Status::error(what + " is corrupted (payload hash mismatch)");
  return Status::success();
}

Status Weights::checkHeader(const uint8_t *file, uint64_t bytes, uint64_t expectedBytes,
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
  return Status::success();
}

Status Weights::load(const std::string &path, uint64_t expectedBytes,
                     uint64_t expectedHash) {
  payload_ = nullptr;
  std::string what = "weights file '" + path + "'";
  // Opened without blocking (a FIFO), then checked to be a regular file of
  // the model's size before anything is allocated or read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return Status::error("cannot open " + what + ": " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Status::error("cannot read " + what + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return Status::error(what + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  auto readAll = [&](uint8_t *to, uint64_t bytes) -> Status {
    for (uint64_t done = 0; done < bytes;) {
      ssize_t n = ::read(fd, to + done, static_cast<size_t>(bytes - done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return Status::error("cannot read " + what +
                             (n < 0 ? ": " + std::string(std::strerror(errno)) : ": it ended early"));
      done += static_cast<uint64_t>(n);
    }
    return Status::success();
  };
  // The header first: nothing is allocated for a file that is not the
  // model's (so its size is bounded by what the model declares).
  uint8_t header[kWeightsHeaderBytes] = {};
  if (size >= kWeightsHeaderBytes)
    if (Status s = readAll(header, kWeightsHeaderBytes); !s.ok())
      return s;
  if (Status s = checkHeader(header, size, expectedBytes, expectedHash, what); !s.ok())
    return s;
  if (::lseek(fd, 0, SEEK_SET) != 0)
    return Status::error("cannot read " + what + ": " + std::strerror(errno));
  // Over-allocate so the payload can start on an aligned address.
  storage_.assign(static_cast<size_t>(size) + kWeightsAlignment, 0);
  uintptr_t base = reinterpret_cast<uintptr_t>(storage_.data());
  size_t shift = (kWeightsAlignment - (base + kWeightsHeaderBytes) %
                                          kWeightsAlignment) %
                 kWeightsAlignment;
  uint8_t *file = storage_.data() + shift;
  if (Status s = readAll(file, size); !s.ok())
    return s;
  if (Status s = check(file, static_cast<size_t>(size), expectedBytes, expectedHash, what);
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
