// The data-movement family lowered to the kernel form (MLIR prefix) and as
// the CPU backend prints it (CPP prefix): index maps are arith index
// arithmetic over flat buffers; concat and split copy contiguous blocks with
// memref.copy between subviews (memcpy in C++); pads clamp or reflect the
// source index so every load stays in bounds.
// RUN: kiln-opt %s --kiln-lower-to-kernels -split-input-file | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -split-input-file -o /dev/null | FileCheck %s --check-prefix=CPP

// Transpose: the result is walked in order, the input through permuted
// strides (loops merged where both walk contiguously).
// MLIR-LABEL: func.func private @k0_transpose(%{{.*}}: memref<24xf32>, %{{.*}}: memref<24xf32>)
// MLIR-SAME: kiln.kernel = "transpose"
// CPP-LABEL: void k0_transpose(
// CPP: out0[i0 * 6 + i1] = in0[i0 + i1 * 4];
func.func @main(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// Slice: a base offset (starts) and strides scaled by the steps.
// CPP-LABEL: void k0_slice(
// CPP: out0[i0 * 3 + i1] = in0[i0 * 16 + i1 * 2 + 10];
func.func @main(%x: tensor<4x8xf32>) -> tensor<2x3xf32> {
  %0 = kiln.slice %x {starts = array<i64: 1, 2>, steps = array<i64: 2, 2>} : (tensor<4x8xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Concat: one block copy per outer row and input.
// MLIR-LABEL: func.func private @k0_concat
// MLIR: %[[SRC:.*]] = memref.subview %{{.*}}[%{{.*}}] [3] [1] : memref<6xf32> to memref<3xf32, strided<[1], offset: ?>>
// MLIR: %[[DST:.*]] = memref.subview %{{.*}}[%{{.*}}] [3] [1] : memref<16xf32> to memref<3xf32, strided<[1], offset: ?>>
// MLIR: memref.copy %[[SRC]], %[[DST]]
// CPP-LABEL: void k0_concat(
// CPP: std::memcpy(out0 + i0 * 8, in0 + i0 * 3, 3 * sizeof(float));
// CPP: std::memcpy(out0 + i0 * 8 + 3, in1 + i0 * 5, 5 * sizeof(float));
func.func @main(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Large concats split their outer rows across the pool.
// MLIR-LABEL: func.func private @k0_concat
// MLIR: scf.parallel
// MLIR: memref.copy
// CPP-LABEL: void k0_concat(kiln::ThreadPool &pool,
// CPP: pool.parallelFor(1024, [&](int64_t begin, int64_t end) {
// CPP: std::memcpy(w0 + p0 * 128, r0 + p0 * 64, 64 * sizeof(float));
func.func @main(%a: tensor<1024x64xf32>, %b: tensor<1024x64xf32>) -> tensor<1024x128xf32> {
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1024x64xf32>, tensor<1024x64xf32>) -> tensor<1024x128xf32>
  return %0 : tensor<1024x128xf32>
}

// -----

// Split: the blocks copied out of the input.
// CPP-LABEL: void k0_split(
// CPP: std::memcpy(out0 + i0 * 2, in0 + i0 * 6, 2 * sizeof(float));
// CPP: std::memcpy(out1 + i0 * 4, in0 + i0 * 6 + 2, 4 * sizeof(float));
func.func @main(%x: tensor<3x6xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>) {
  %0:2 = kiln.split %x {axis = 1 : i64} : (tensor<3x6xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>)
  return %0#0, %0#1 : tensor<3x2xf32>, tensor<3x4xf32>
}

// -----

// Constant pad: the source index is clamped so the load stays in bounds,
// then the pad value is selected outside the input.
// MLIR-LABEL: func.func private @k0_pad
// MLIR: %[[BELOW:.*]] = arith.cmpi slt
// MLIR: %[[ABOVE:.*]] = arith.cmpi sge
// MLIR: arith.select %[[BELOW]]
// MLIR: arith.ori %[[BELOW]], %[[ABOVE]] : i1
// MLIR: %[[V:.*]] = memref.load
// MLIR: arith.select %{{.*}}, %{{.*}}, %[[V]] : i64
// CPP-LABEL: void k0_pad(const int64_t *__restrict in0, int64_t *__restrict out0) {
// CPP: out0[i0 * 8 + i1] = v1 || v2 || (v4 || v5) ? 7 : in0[(v1 ? 0 : v2 ? 2 : v0) * 4 + (v4 ? 0 : v5 ? 3 : v3)];
func.func @main(%x: tensor<3x4xi64>) -> tensor<5x8xi64> {
  %0 = kiln.pad %x {pads = array<i64: 1, 2, 1, 2>, mode = "constant", value = 7.0 : f64} : (tensor<3x4xi64>) -> tensor<5x8xi64>
  return %0 : tensor<5x8xi64>
}

// -----

// Reflect pad mirrors the index at both edges.
// CPP-LABEL: void k0_pad(
// CPP: out0[i0 * 8 + i1] = in0[i0 * 4 + (v0 < 0 ? 0 - v0 : v0 >= 4 ? 6 - v0 : v0)];
func.func @main(%x: tensor<3x4xf32>) -> tensor<3x8xf32> {
  %0 = kiln.pad %x {pads = array<i64: 0, 2, 0, 2>, mode = "reflect", value = 0.0 : f64} : (tensor<3x4xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// Tile indexes the input modulo its own extent; trilu keeps j - i >= k.
// CPP-LABEL: void k0_tile(
// CPP: out0[i0 * 6 + i1] = in0[i0 * 3 + i1 % 3];
// CPP-LABEL: void k1_trilu(
// CPP: const int64_t v0 = i0 * 16 + i1 * 4 + i2;
// CPP-NEXT: out0[v0] = i2 - i1 >= 1 ? in0[v0] : 0.0f;
func.func @main(%x: tensor<2x3xf32>, %m: tensor<2x4x4xf32>) -> (tensor<2x6xf32>, tensor<2x4x4xf32>) {
  %0 = kiln.tile %x {repeats = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  %1 = kiln.trilu %m {k = 1 : i64, upper = true} : tensor<2x4x4xf32>
  return %0, %1 : tensor<2x6xf32>, tensor<2x4x4xf32>
}
