// 3-D pooling and convolution lowered to the generic N-D window loop: per
// output element, nested scf.for loops over the input channels (conv) and
// the kernel positions carry the accumulator (and, for averages, the count),
// reading clamped positions and keeping those inside the input.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_avg_pool
// MLIR: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, index)
// CPP-LABEL: void k0_avg_pool(
// CPP: float a0 = 0.0f;
// CPP-NEXT: int64_t a1 = 0;
// CPP: const int64_t v11 = v9 ? a5 + 1 : a5;
// CPP: out0[i0 * 8 + (i1 * 4 + i2 * 2 + i3)] = a1 != 0 ? a0 / static_cast<float>(static_cast<int64_t>(a1)) : 0.0f;

// MLIR-LABEL: func.func private @k1_conv
// MLIR-SAME: kiln.fallback = "3-D convolution"
// MLIR: scf.parallel
// CPP-LABEL: void k1_conv(kiln::ThreadPool &pool,
// CPP: a5 = v6 >= 0 && v6 < 4 && (v7 >= 0 && v7 < 4) && (v8 >= 0 && v8 < 4) ? a5 + r0[
func.func @main(%x: tensor<1x2x4x4x4xf32>, %w: tensor<3x2x2x2x2xf32>) -> (tensor<1x2x2x2x2xf32>, tensor<1x3x3x3x3xf32>) {
  %0 = kiln.avg_pool %x {count_include_pad = false, kernel_shape = array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 2, 2>} : (tensor<1x2x4x4x4xf32>) -> tensor<1x2x2x2x2xf32>
  %1 = kiln.conv %x, %w {dilations = array<i64: 1, 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<1x2x4x4x4xf32>, tensor<3x2x2x2x2xf32>) -> tensor<1x3x3x3x3xf32>
  return %0, %1 : tensor<1x2x2x2x2xf32>, tensor<1x3x3x3x3xf32>
}
