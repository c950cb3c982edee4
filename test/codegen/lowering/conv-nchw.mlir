// NCHW 2-D convolution (when channels-last was not applied) lowered to the
// kernel form: one parallel task per output plane, each kernel tap
// accumulated over the output columns whose input column is inside the
// image (bounds from index arithmetic), rows outside the image skipped.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_conv
// MLIR-SAME: kiln.fallback = "NCHW convolution (the channels-last layout was not applied)"
// MLIR-SAME: kiln.flops = 972
// CPP-LABEL: void k0_conv(kiln::ThreadPool &pool,
// CPP: const int64_t v9 = v8 < 0 ? (1 - v8) / 2 : 0;
// CPP: const int64_t v11 = v10 < 0 ? 0 : std::min<int64_t>(v10 / 2 + 1, 3);
// CPP: for (int64_t i5 = v9; i5 < v11; ++i5) {
// CPP: w0[v15] = w0[v15] + v7 * r0[v13 + i5 * 2];
func.func @main(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x3x3x3xf32> {
  %0 = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x3x3xf32>
  return %0 : tensor<1x3x3x3xf32>
}
