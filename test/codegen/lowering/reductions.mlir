// Reductions lowered to the kernel form: reduce_* keep a heap array of
// accumulators (double for floats, the integer type itself for integers)
// filled by one walk of the input in memory order; arg_reduce and hardmax
// carry the best index through scf.for iter_args; cumsum carries the sum.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_reduce_sum(%{{.*}}: memref<24xf32>, %{{.*}}: memref<8xf32>)
// MLIR-SAME: kiln.flops = 24
// MLIR: %[[ACC:.*]] = memref.alloc() : memref<8xf64>
// MLIR: %[[X:.*]] = memref.load %{{.*}} : memref<24xf32>
// MLIR: %[[XD:.*]] = arith.extf %[[X]] : f32 to f64
// MLIR: %[[A:.*]] = memref.load %[[ACC]][%[[AT:.*]]] : memref<8xf64>
// MLIR: %[[S:.*]] = arith.addf %[[A]], %[[XD]] : f64
// MLIR: memref.store %[[S]], %[[ACC]][%[[AT]]]
// MLIR: arith.truncf %{{.*}} : f64 to f32
// MLIR: memref.dealloc %[[ACC]]
// CPP-LABEL: void k0_reduce_sum(
// CPP: double *t0 = new double[8];
// CPP: const int64_t v0 = i0 * 4 + i2;
// CPP-NEXT: t0[v0] = t0[v0] + static_cast<double>(in0[i0 * 12 + i1 * 4 + i2]);
// CPP: out0[i0] = static_cast<float>(t0[i0]);
// CPP: delete[] t0;

// MLIR-LABEL: func.func private @k1_arg_reduce
// MLIR: %[[BEST:.*]] = scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[CUR:.*]] = %{{.*}}) -> (index)
// MLIR: %[[GT:.*]] = arith.cmpf ogt
// MLIR: %[[SEL:.*]] = arith.select %[[GT]], %[[J]], %[[CUR]] : index
// MLIR: scf.yield %[[SEL]] : index
// MLIR: arith.index_cast %[[BEST]] : index to i64
// CPP-LABEL: void k1_arg_reduce(
// CPP: int64_t a1 = 0;
// CPP-NEXT: for (int64_t i1 = 1; i1 < 4; ++i1) {
// CPP-NEXT: a1 = in0[v0 + i1] > in0[v0 + a1] ? i1 : a1;
// CPP: out0[i0] = static_cast<int64_t>(a1);

// Reverse cumsum walks the axis backwards, summing in double.
// CPP-LABEL: void k2_cumsum(
// CPP: double a0 = 0.0;
// CPP: const int64_t v1 = i0 * 12 + (2 - i2) * 4 + i1;
// CPP-NEXT: const double v2 = a0 + static_cast<double>(in0[v1]);
// CPP-NEXT: out0[v1] = static_cast<float>(v2);
// CPP-NEXT: a0 = v2;

// CPP-LABEL: void k3_hardmax(
// CPP: out0[v0 + i1] = 0.0f;
// CPP: out0[v0 + a1] = 1.0f;

// Unsigned maxima start from 0 and compare unsigned.
// CPP-LABEL: void k4_reduce_max(const uint8_t *__restrict in0, uint8_t *__restrict out0) {
// CPP: t0[i0] = 0;
// CPP: std::max<uint8_t>(
func.func @main(%x: tensor<2x3x4xf32>, %i: tensor<2x3xui8>) -> (tensor<2x1x4xf32>, tensor<2x3xi64>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x1xui8>) {
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = kiln.arg_reduce %x {axis = 2 : i64, keepdims = false, max = true, select_last_index = false} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
  %2 = kiln.cumsum %x {axis = 1 : i64, exclusive = false, reverse = true} : tensor<2x3x4xf32>
  %3 = kiln.hardmax %x {axis = 2 : i64} : tensor<2x3x4xf32>
  %4 = kiln.reduce_max %i {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xui8>) -> tensor<2x1xui8>
  return %0, %1, %2, %3, %4 : tensor<2x1x4xf32>, tensor<2x3xi64>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x1xui8>
}
