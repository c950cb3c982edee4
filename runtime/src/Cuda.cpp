//===- Cuda.cpp - The CUDA driver, loaded at run time ---------------------===//
//
// The driver API is declared here by hand, as far as Kiln uses it: the
// types are opaque handles and the entry points are resolved by name through
// cuGetProcAddress (CUDA 12 ABI), falling back to dlsym of the versioned
// symbol for drivers that predate it.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Cuda.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <type_traits>

namespace kiln {
namespace cuda {
namespace {

using CUresult = int;
using CUdevice = int;
using Handle = void *;

// cuDeviceGetAttribute attributes, cuModuleLoadDataEx options and capture
// modes (values from the CUDA driver API).
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSize = 6;
constexpr int kCaptureModeThreadLocal = 1;
constexpr unsigned kStreamNonBlocking = 1;

} // namespace

struct Device::Driver {
  void *library = nullptr;
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int *);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DeviceGetName)(char *, int, CUdevice);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*DevicePrimaryCtxRetain)(Handle *, CUdevice);
  CUresult (*DevicePrimaryCtxRelease)(CUdevice);
  CUresult (*CtxSetCurrent)(Handle);
  CUresult (*StreamCreate)(Handle *, unsigned);
  CUresult (*StreamDestroy)(Handle);
  CUresult (*StreamSynchronize)(Handle);
  CUresult (*ModuleLoadDataEx)(Handle *, const void *, unsigned, int *, void **);
  CUresult (*ModuleUnload)(Handle);
  CUresult (*ModuleGetFunction)(Handle *, Handle, const char *);
  CUresult (*MemAlloc)(DevicePtr *, size_t);
  CUresult (*MemFree)(DevicePtr);
  CUresult (*MemcpyHtoDAsync)(DevicePtr, const void *, size_t, Handle);
  CUresult (*MemcpyDtoHAsync)(void *, DevicePtr, size_t, Handle);
  CUresult (*MemcpyDtoDAsync)(DevicePtr, DevicePtr, size_t, Handle);
  CUresult (*LaunchKernel)(Handle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                           unsigned, Handle, void **, void **);
  CUresult (*StreamBeginCapture)(Handle, int);
  CUresult (*StreamEndCapture)(Handle, Handle *);
  CUresult (*GraphInstantiate)(Handle *, Handle, unsigned long long);
  CUresult (*GraphLaunch)(Handle, Handle);
  CUresult (*GraphExecDestroy)(Handle);
  CUresult (*GraphDestroy)(Handle);
  CUresult (*GetErrorString)(CUresult, const char **);

  ~Driver() {
    if (library)
      dlclose(library);
  }

  /// Opens the driver library and resolves every entry point.
  Status load() {
    const char *path = std::getenv("KILN_CUDA_DRIVER");
    if (!path || !*path)
      path = "libcuda.so.1";
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = dlerror();
      return Status::error(std::string("no CUDA driver: cannot load ") + path + " (" +
                           (why ? why : "unknown reason") +
                           "); is the NVIDIA driver installed?");
    }
    using GetProcAddress = CUresult (*)(const char *, void **, int, unsigned long long, int *);
    auto getProc = reinterpret_cast<GetProcAddress>(dlsym(library, "cuGetProcAddress_v2"));
    std::string missing;
    auto resolve = [&](const char *name, const char *versioned, auto &slot) {
      void *fn = nullptr;
      int found = 0;
      if (!getProc || getProc(name, &fn, 12000, 0, &found) != 0 || !fn)
        fn = dlsym(library, versioned);
      if (!fn)
        missing += std::string(missing.empty() ? "" : ", ") + name;
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(fn);
    };
    resolve("cuInit", "cuInit", Init);
    resolve("cuDeviceGetCount", "cuDeviceGetCount", DeviceGetCount);
    resolve("cuDeviceGet", "cuDeviceGet", DeviceGet);
    resolve("cuDeviceGetName", "cuDeviceGetName", DeviceGetName);
    resolve("cuDeviceGetAttribute", "cuDeviceGetAttribute", DeviceGetAttribute);
    resolve("cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", DevicePrimaryCtxRetain);
    resolve("cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2", DevicePrimaryCtxRelease);
    resolve("cuCtxSetCurrent", "cuCtxSetCurrent", CtxSetCurrent);
    resolve("cuStreamCreate", "cuStreamCreate", StreamCreate);
    resolve("cuStreamDestroy", "cuStreamDestroy_v2", StreamDestroy);
    resolve("cuStreamSynchronize", "cuStreamSynchronize", StreamSynchronize);
    resolve("cuModuleLoadDataEx", "cuModuleLoadDataEx", ModuleLoadDataEx);
    resolve("cuModuleUnload", "cuModuleUnload", ModuleUnload);
    resolve("cuModuleGetFunction", "cuModuleGetFunction", ModuleGetFunction);
    resolve("cuMemAlloc", "cuMemAlloc_v2", MemAlloc);
    resolve("cuMemFree", "cuMemFree_v2", MemFree);
    resolve("cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", MemcpyHtoDAsync);
    resolve("cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", MemcpyDtoHAsync);
    resolve("cuMemcpyDtoDAsync", "cuMemcpyDtoDAsync_v2", MemcpyDtoDAsync);
    resolve("cuLaunchKernel", "cuLaunchKernel", LaunchKernel);
    resolve("cuStreamBeginCapture", "cuStreamBeginCapture_v2", StreamBeginCapture);
    resolve("cuStreamEndCapture", "cuStreamEndCapture", StreamEndCapture);
    resolve("cuGraphInstantiate", "cuGraphInstantiateWithFlags", GraphInstantiate);
    resolve("cuGraphLaunch", "cuGraphLaunch", GraphLaunch);
    resolve("cuGraphExecDestroy", "cuGraphExecDestroy", GraphExecDestroy);
    resolve("cuGraphDestroy", "cuGraphDestroy", GraphDestroy);
    resolve("cuGetErrorString", "cuGetErrorString", GetErrorString);
    if (!missing.empty())
      return Status::error(std::string("the CUDA driver ") + path +
                           " lacks entry points Kiln needs (" + missing +
                           "); a driver for CUDA 12 or newer is required");
    return Status::success();
  }
};

Status Device::check(int result, const char *what) {
  if (result == 0)
    return Status::success();
  const char *text = nullptr;
  if (!driver_->GetErrorString || driver_->GetErrorString(result, &text) != 0 || !text)
    text = "unknown error";
  return Status::error(std::string("CUDA ") + what + " failed: " + text + " (error " +
                       std::to_string(result) + ")");
}

Status Device::open(int ordinal, std::unique_ptr<Device> &device) {
  std::unique_ptr<Device> d(new Device());
  d->driver_ = std::make_unique<Driver>();
  if (Status st = d->driver_->load(); !st.ok())
    return st;
  Driver &cu = *d->driver_;
  if (Status st = d->check(cu.Init(0), "initialisation"); !st.ok())
    return st.prepend("no usable GPU: ");
  int count = 0;
  if (Status st = d->check(cu.DeviceGetCount(&count), "device count"); !st.ok())
    return st;
  if (ordinal < 0 || ordinal >= count)
    return Status::error("no CUDA device " + std::to_string(ordinal) + " (" +
                         std::to_string(count) + " present)");
  CUdevice dev = 0;
  if (Status st = d->check(cu.DeviceGet(&dev, ordinal), "device lookup"); !st.ok())
    return st;
  d->ordinal_ = dev;
  char name[256] = {};
  int major = 0, minor = 0;
  if (cu.DeviceGetName(name, sizeof name - 1, dev) == 0 &&
      cu.DeviceGetAttribute(&major, kComputeCapabilityMajor, dev) == 0 &&
      cu.DeviceGetAttribute(&minor, kComputeCapabilityMinor, dev) == 0)
    d->description_ = std::string(name) + " (sm_" + std::to_string(major * 10 + minor) + ")";
  if (Status st = d->check(cu.DevicePrimaryCtxRetain(&d->context_, dev), "context creation");
      !st.ok())
    return st;
  if (Status st = d->check(cu.CtxSetCurrent(d->context_), "context activation"); !st.ok())
    return st;
  if (Status st = d->check(cu.StreamCreate(&d->stream_, kStreamNonBlocking), "stream creation");
      !st.ok())
    return st;
  device = std::move(d);
  return Status::success();
}

Device::~Device() {
  if (!driver_ || !driver_->library || !context_)
    return;
  Driver &cu = *driver_;
  cu.CtxSetCurrent(context_);
  if (stream_)
    cu.StreamSynchronize(stream_);
  if (graphExec_)
    cu.GraphExecDestroy(graphExec_);
  if (graph_)
    cu.GraphDestroy(graph_);
  for (DevicePtr p : allocations_)
    cu.MemFree(p);
  if (module_)
    cu.ModuleUnload(module_);
  if (stream_)
    cu.StreamDestroy(stream_);
  cu.DevicePrimaryCtxRelease(ordinal_);
}

Status Device::loadKernels(const char *ptx, const char *const *entries, size_t count) {
  Driver &cu = *driver_;
  char log[4096] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSize};
  void *values[] = {log, reinterpret_cast<void *>(sizeof log - 1)};
  if (Status st = check(cu.ModuleLoadDataEx(&module_, ptx, 2, options, values),
                        "loading the model's PTX");
      !st.ok())
    return log[0] ? st.prepend(std::string(log) + ": ") : st;
  kernels_.resize(count);
  for (size_t i = 0; i < count; ++i)
    if (Status st = check(cu.ModuleGetFunction(&kernels_[i], module_, entries[i]),
                          "kernel lookup");
        !st.ok())
      return st.prepend(std::string("kernel '") + entries[i] + "': ");
  return Status::success();
}

Status Device::allocate(size_t bytes, DevicePtr &ptr) {
  ptr = 0;
  if (bytes == 0)
    return Status::success();
  if (Status st = check(driver_->MemAlloc(&ptr, bytes), "allocation"); !st.ok())
    return st.prepend(std::to_string(bytes) + " bytes of device memory: ");
  allocations_.push_back(ptr);
  return Status::success();
}

Status Device::upload(DevicePtr dst, const void *src, size_t bytes) {
  if (!bytes)
    return Status::success();
  return check(driver_->MemcpyHtoDAsync(dst, src, bytes, stream_), "copy to the device");
}

Status Device::download(void *dst, DevicePtr src, size_t bytes) {
  if (bytes)
    if (Status st = check(driver_->MemcpyDtoHAsync(dst, src, bytes, stream_),
                          "copy from the device");
        !st.ok())
      return st;
  return synchronize();
}

Status Device::copy(DevicePtr dst, DevicePtr src, size_t bytes) {
  if (!bytes)
    return Status::success();
  return check(driver_->MemcpyDtoDAsync(dst, src, bytes, stream_), "copy on the device");
}

Status Device::launch(size_t kernel, unsigned blocks, unsigned threads,
                      std::initializer_list<DevicePtr> params) {
  if (kernel >= kernels_.size())
    return Status::error("kernel " + std::to_string(kernel) + " was not loaded");
  // cuLaunchKernel reads each parameter through a pointer to it.
  std::vector<DevicePtr> values(params);
  std::vector<void *> args(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    args[i] = &values[i];
  return check(driver_->LaunchKernel(kernels_[kernel], blocks, 1, 1, threads, 1, 1, 0, stream_,
                                     args.data(), nullptr),
               "kernel launch");
}

Status Device::synchronize() {
  return check(driver_->StreamSynchronize(stream_), "execution");
}

Status Device::beginCapture() {
  return check(driver_->StreamBeginCapture(stream_, kCaptureModeThreadLocal), "graph capture");
}

Status Device::endCapture() {
  if (Status st = check(driver_->StreamEndCapture(stream_, &graph_), "graph capture"); !st.ok())
    return st;
  return check(driver_->GraphInstantiate(&graphExec_, graph_, 0), "graph instantiation");
}

Status Device::replay() {
  return check(driver_->GraphLaunch(graphExec_, stream_), "graph launch");
}

} // namespace cuda
} // namespace kiln
