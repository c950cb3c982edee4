// Pooling lowered to the kernel form. Channels-last windows reduce along the
// contiguous channels into a local block (a vectorisable loop), one parallel
// task per output row, skipping pixels outside the input with scf.if. NCHW
// max reads clamped positions and keeps them only inside the input; NCHW
// average sums the window clipped to the input, in double, and divides by
// the pixels counted. NaN wins a max (arith.maximumf).
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_max_pool
// MLIR-SAME: kiln.flops = 4608
// MLIR: scf.parallel
// MLIR: %[[ACC:.*]] = memref.alloca() : memref<32xf32>
// MLIR: scf.if
// MLIR: scf.if
// MLIR: %[[V:.*]] = memref.load %{{.*}} : memref<2048xf32>
// MLIR: %[[A:.*]] = memref.load %[[ACC]]
// MLIR: arith.maximumf %[[V]], %[[A]] : f32
// CPP-LABEL: void k0_max_pool(kiln::ThreadPool &pool,
// CPP: const int64_t v2 = v1 * 2 + i3 - 1;
// CPP-NEXT: if (v2 >= 0 && v2 < 8) {
// CPP: t0[i5] = (v5 > v6 || v5 != v5) ? v5 : v6;

// MLIR-LABEL: func.func private @k1_max_pool
// MLIR: scf.for {{.*}} iter_args
// MLIR: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)
// MLIR: %[[M:.*]] = arith.maximumf %{{.*}}, %[[ACC]] : f32
// MLIR: arith.select %{{.*}}, %[[M]], %[[ACC]] : f32
// CPP-LABEL: void k1_max_pool(const float *__restrict in0, float *__restrict out0) {
// CPP: float a1 = -std::numeric_limits<float>::infinity();

// CPP-LABEL: void k2_avg_pool(
// CPP: double a4 = 0.0;
// CPP: for (int64_t i3 = std::max<int64_t>(v1, 0); i3 < std::min<int64_t>(std::min<int64_t>(v1 + 3, 9), 8); ++i3) {
// CPP: out0[i0 * 16 + i1 * 4 + i2] = static_cast<float>(v6 != 0 ? a4 / static_cast<double>(static_cast<int64_t>(v6)) : 0.0);

// CPP-LABEL: void k3_global_average_pool(
// CPP: double t0[32];
// CPP: t0[i2] = t0[i2] + static_cast<double>(in0[v0 + i2]);
// CPP: out0[i0 + i1] = static_cast<float>(t0[i1] / 64.0);
func.func @main(%x: tensor<1x8x8x32xf32>, %y: tensor<1x4x8x8xf32>) -> (tensor<1x4x4x32xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x1x1x32xf32>) {
  %0 = kiln.max_pool %x {channels_last, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x8x32xf32>) -> tensor<1x4x4x32xf32>
  %1 = kiln.max_pool %y {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = kiln.avg_pool %y {count_include_pad = false, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %3 = kiln.global_average_pool %x {channels_last} : (tensor<1x8x8x32xf32>) -> tensor<1x1x1x32xf32>
  return %0, %1, %2, %3 : tensor<1x4x4x32xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x1x1x32xf32>
}
