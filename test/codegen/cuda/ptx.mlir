// Kernels in the GPU form compiled to PTX inside kiln-opt (LLVM's NVPTX
// backend; no CUDA toolkit): one .entry per launch with one .u64 parameter
// per buffer (bare pointers), the launch sizes the host code uses, and no
// call left to libdevice (maths were expanded; floor and friends became
// hardware instructions). Where ptxas exists, the PTX assembles for sm_80
// and sm_90 (ptx-assemble.test).
// RUN: kiln-opt %s --kiln-lower-to-kernels=gpu=sm_80 --kiln-gpu-form --kiln-print-ptx -o /dev/null | FileCheck %s

// CHECK-DAG: // launch k0_tanh: k0_tanh_kernel <<<2, 256>>> (%arg0, %arg1)
// CHECK-DAG: // launch k1_softmax: k1_softmax_kernel <<<1, 1>>> (%arg0, %arg1)
// CHECK: .target sm_80
// CHECK: .visible .entry k0_tanh_kernel(
// CHECK-NEXT: .param .u64 k0_tanh_kernel_param_0,
// CHECK-NEXT: .param .u64 k0_tanh_kernel_param_1
// CHECK: .maxntid 256, 1, 1
// CHECK: .visible .entry k1_softmax_kernel(
// CHECK-NOT: .extern .func
// CHECK-NOT: __nv_
func.func @main(%x: tensor<3x100xf32>, %y: tensor<1x10xf32>) -> (tensor<3x100xf32>, tensor<1x10xf32>) {
  %0 = kiln.tanh %x : tensor<3x100xf32>
  %1 = kiln.softmax %y {axis = 1 : i64} : tensor<1x10xf32>
  return %0, %1 : tensor<3x100xf32>, tensor<1x10xf32>
}
