// Channels-last convolutions off the GEMM micro-kernel, lowered to the
// kernel form. (Numbers: test/codegen/kernel-variants-numeric.test.)
// RUN: kiln-opt %s -split-input-file '--kiln-lower-to-kernels=cpu=x86-64-v3' | FileCheck %s --check-prefix=TILE
// RUN: kiln-opt %s -split-input-file '--kiln-lower-to-kernels=cpu=x86-64-v3' --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=TILECPP
// RUN: kiln-opt %s -split-input-file '--kiln-lower-to-kernels=cpu=scalar' | FileCheck %s --check-prefix=LOOPS

// Depthwise on a vector target: kiln.depthwise_tile per register tile of
// pixels over the interior columns (all taps inside the row), then each edge
// column alone over the taps that read inside the row (kw_begin, kw_end);
// tap rows in the padding have offset -1 (a null row pointer).
// TILE-LABEL: func.func private @k0_conv
// TILE-SAME: kiln.summary = "NHWC depthwise convolution: 16 channels, kernel 3x3, stride 1x1; tiles of 6 pixels x 16 channels over columns [1, 6), the 2 edge columns one pixel at a time."
// TILE: kiln.depthwise_tile %arg0[%{{.*}}], %arg1[%{{.*}}], %{{.*}} bias %arg2[%{{.*}}] {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 0 : i64, kw_end = 3 : i64, pixels = 5 : i64, stride = 1 : i64, vectors = 2 : i64, width = 8 : i64}
// TILE: kiln.depthwise_tile {{.*}} {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 1 : i64, kw_end = 3 : i64, pixels = 1 : i64,
// TILE: kiln.depthwise_tile {{.*}} {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 0 : i64, kw_end = 2 : i64, pixels = 1 : i64,
// TILECPP-LABEL: void k0_conv(
// TILECPP: [[ROWS:t[0-9]+]][i1] = [[IH:v[0-9]+]] >= 0 && [[IH]] < 5 ? ({{v[0-9]+}} * 5 + [[IH]]) * 112 : -1;
// TILECPP: = [[ROWS]][q] < 0 ? nullptr : r0 + [[ROWS]][q];
// TILECPP-NEXT: kiln::mk::depthwiseTile<8, 5, 2, 3, 3, 1, 1, 16>({{p[0-9]+}}, r1, r2, [[ACC:t[0-9]+]]);
// TILECPP: w0[{{v[0-9]+}} * 16 + i2] = [[ACC]][i1 * 16 + i2];
// TILECPP: kiln::mk::depthwiseTile<8, 1, 2, 3, 3, 1, 1, 16, 1, 3>(
// TILECPP: t{{[0-9]+}}[i1] = {{v[0-9]+}} < 0 ? {{v[0-9]+}} : {{v[0-9]+}} + 80;
// TILECPP: kiln::mk::depthwiseTile<8, 1, 2, 3, 3, 1, 1, 16, 0, 2>(

// Depthwise with no vector target: plain loops along a block of channels.
// LOOPS-LABEL: func.func private @k0_conv
// LOOPS-SAME: kiln.summary = "NHWC depthwise convolution: 16 channels, kernel 3x3, stride 1x1, blocks of 16 channels."
// LOOPS-NOT: kiln.depthwise_tile
// LOOPS: scf.parallel
// LOOPS: scf.if
// LOOPS: arith.mulf
// LOOPS: arith.addf
func.func @main(%x: tensor<1x5x7x16xf32>) -> tensor<1x5x7x16xf32> {
  %w = kiln.constant dense<0.5> : tensor<3x3x1x16xf32>
  %b = kiln.constant dense<0.25> : tensor<16xf32>
  %0 = kiln.conv %x, %w, %b {channels_last, dilations = array<i64: 1, 1>, group = 16 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x5x7x16xf32>, tensor<3x3x1x16xf32>, tensor<16xf32>) -> tensor<1x5x7x16xf32>
  return %0 : tensor<1x5x7x16xf32>
}

// -----

// A grouped convolution: on the micro-kernel as an implicit GEMM per group
// (a tap per kernel position, 3 channels deep); with no vector target,
// direct loops over 8 pixels by a block of output channels, which the
// report lists as a fallback.
// TILE-LABEL: func.func private @k0_conv
// TILE-SAME: kiln.summary = "NHWC convolution as implicit GEMM: 6 -> 10 channels, kernel 3x3, stride 1x1, group 2; tiles of 12 rows x 8 outputs."
// TILE: kiln.gemm_tile %arg0[%{{.*}}], %arg1[%{{.*}}], %{{.*}} depth %{{.*}} {taps = 9 : i64, tile_rows = 12 : i64, vectors = 1 : i64, width = 8 : i64, zero_rows}
// TILECPP-LABEL: void k0_conv(
// TILECPP: t0[i2 * 36 + i3 * 12 + i1] = {{v[0-9]+}} && ({{v[0-9]+}} >= 0 && {{v[0-9]+}} < 7) ? {{v[0-9]+}} + {{v[0-9]+}} * 6 + {{v[0-9]+}} * 3 : -1;
// LOOPS-LABEL: func.func private @k0_conv
// LOOPS-SAME: kiln.fallback = "no vector target"
// LOOPS-SAME: kiln.summary = "NHWC direct convolution: 6 -> 10 channels, kernel 3x3, stride 1x1, group 2, 8 pixels by blocks of 5 channels."
// LOOPS: %[[SRC:.*]] = memref.alloca() : memref<8xindex>
// LOOPS: memref.store %{{.*}}, %[[SRC]]
// LOOPS: %[[AT:.*]] = memref.load %[[SRC]]
// LOOPS: %[[IN:.*]] = arith.cmpi sge, %[[AT]]
// LOOPS: scf.if %[[IN]]
func.func @main(%x: tensor<1x5x7x6xf32>) -> tensor<1x5x7x10xf32> {
  %w = kiln.constant dense<0.5> : tensor<3x3x3x10xf32>
  %0 = kiln.conv %x, %w {channels_last, dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x5x7x6xf32>, tensor<3x3x3x10xf32>) -> tensor<1x5x7x10xf32>
  return %0 : tensor<1x5x7x10xf32>
}
