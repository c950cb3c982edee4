//===- Cuda.h - The CUDA driver, loaded at run time -------------*- C++ -*-===//
//
// What the CUDA backend's generated host code runs on. Nothing of CUDA is
// needed to build it: the driver (libcuda.so.1, or $KILN_CUDA_DRIVER) is
// opened with dlopen when a model is created, its entry points resolved
// through cuGetProcAddress. Without a driver or a device, Device::open
// returns an error saying so; nothing crashes.
//
// One Device per model instance: the device's primary context, the model's
// PTX module and one stream; kernels are launched in order on the stream.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_H
#define KILN_RUNTIME_CUDA_H

#include "kiln/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace kiln {
namespace cuda {

/// A device address (CUdeviceptr).
using DevicePtr = uint64_t;

class Device {
public:
  /// Loads the driver, and initialises device `ordinal` (its primary
  /// context) and a stream.
  static Status open(int ordinal, std::unique_ptr<Device> &device);
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// Loads `ptx` (NUL-terminated) and looks up `entries`; kernel i of
  /// launch() is entries[i].
  Status loadKernels(const char *ptx, const char *const *entries, size_t count);

  /// Device memory that lives as long as the Device.
  Status allocate(size_t bytes, DevicePtr &ptr);

  /// Copies on the stream; download waits for the copy to finish.
  Status upload(DevicePtr dst, const void *src, size_t bytes);
  Status download(void *dst, DevicePtr src, size_t bytes);
  Status copy(DevicePtr dst, DevicePtr src, size_t bytes);

  /// Launches kernel `kernel` with `blocks` x `threads` (x only) and one
  /// pointer parameter per buffer.
  Status launch(size_t kernel, unsigned blocks, unsigned threads,
                std::initializer_list<DevicePtr> params);

  /// Waits for the stream; a kernel that failed (a trap from a kernel check,
  /// a fault) is reported here.
  Status synchronize();

  /// Records everything launched between beginCapture and endCapture as one
  /// CUDA graph, and replays it.
  Status beginCapture();
  Status endCapture();
  Status replay();
  bool captured() const { return graphExec_ != nullptr; }

  /// The device's name and compute capability, e.g. "NVIDIA H100 (sm_90)".
  const std::string &description() const { return description_; }

private:
  Device() = default;
  struct Driver;
  Status check(int result, const char *what);

  std::unique_ptr<Driver> driver_;
  void *context_ = nullptr, *module_ = nullptr, *stream_ = nullptr;
  void *graph_ = nullptr, *graphExec_ = nullptr;
  int ordinal_ = 0;
  std::vector<void *> kernels_;
  std::vector<DevicePtr> allocations_;
  std::string description_;
};

} // namespace cuda
} // namespace kiln

#endif // KILN_RUNTIME_CUDA_H
