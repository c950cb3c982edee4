// Copies through run-time indices lowered to the kernel form: each index is
// normalised (negative ones count from the end) and checked with kiln.check
// before it addresses anything; the CPU backend returns the error from the
// kernel (which then takes `std::string &error` and returns bool).
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_gather
// MLIR: %[[RAW:.*]] = memref.load %{{.*}} : memref<3xi64>
// MLIR: %[[I:.*]] = arith.index_cast %[[RAW]] : i64 to index
// MLIR: %[[NEG:.*]] = arith.cmpi slt, %[[I]]
// MLIR: %[[FIXED:.*]] = arith.select %[[NEG]]
// MLIR: kiln.check %[[OK:.*]], "index {0} at position {1} is out of range [-4, 4)"(%[[RAW]], %{{.*}} : i64, index)
// MLIR: memref.copy
// CPP-LABEL: bool k0_gather(const float *__restrict in0, const int64_t *__restrict in1, float *__restrict out0, std::string &error) {
// CPP: if (!(v2 >= 0 && v2 < 4)) {
// CPP-NEXT: error = std::string("index ") + std::to_string(v0) + " at position " + std::to_string(i0) + " is out of range [-4, 4)";
// CPP-NEXT: return false;
// CPP: std::memcpy(out0 + i0 * 2, in0 + v2 * 2, 2 * sizeof(float));
// CPP: return true;

// Scatter copies the data, then combines each update into its slice.
// CPP-LABEL: bool k1_scatter_nd(
// CPP: std::memcpy(out0, in0, 12 * sizeof(float));
// CPP: error = std::string("index ") + std::to_string(v0) + " is out of range for a dimension of size 4";
// CPP: out0[v4] = out0[v4] + in2[i0 * 3 + i1];
func.func @main(%t: tensor<4x2xf32>, %i: tensor<3xi64>, %d: tensor<4x3xf32>, %n: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<4x3xf32>) {
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<4x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
  %1 = kiln.scatter_nd %d, %n, %u {reduction = "add"} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<4x3xf32>
}
