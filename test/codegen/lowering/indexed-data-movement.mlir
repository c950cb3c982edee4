// expand walks the output and reads the input through broadcast strides;
// gather_nd and scatter_elements check every index they read at run time
// (negative indices count from the end) before they use it.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// CPP-LABEL: void k0_expand(
// CPP: for (int64_t i0 = 0; i0 < 4; ++i0) {
// CPP: out0[i0 * 6 + i1] = in0[i1];

// MLIR-LABEL: func.func private @k1_gather_nd
// MLIR-COUNT-2: kiln.check
// CPP-LABEL: bool k1_gather_nd(
// CPP: const int64_t v3 = v2 < 0 ? v2 + 2 : v2;
// CPP: error = std::string("index ") + std::to_string(v1) + " is out of range for a dimension of size 2";
// CPP: const int64_t v6 = v5 < 0 ? v5 + 3 : v5;
// CPP: std::memcpy(out0 + i0, in0 + v3 * 3 + v6, 1 * sizeof(float));

// MLIR-LABEL: func.func private @k2_scatter_elements
// MLIR: memref.copy
// MLIR: kiln.check
// MLIR: arith.addf
// CPP-LABEL: bool k2_scatter_elements(
// CPP: std::memcpy(out0, in0, 6 * sizeof(float));
// CPP: error = std::string("index ") + std::to_string(v1) + " is out of range for a dimension of size 3";
// CPP: const int64_t v4 = i0 * 3 + v3;
// CPP-NEXT: out0[v4] = out0[v4] + in2[v0];

func.func @main(%x: tensor<2x3xf32>, %g: tensor<2x2xi64>, %ei: tensor<2x2xi64>, %u: tensor<2x2xf32>) -> (tensor<4x2x3xf32>, tensor<2xf32>, tensor<2x3xf32>) {
  %0 = kiln.expand %x : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
  %1 = kiln.gather_nd %x, %g {batch_dims = 0 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2xf32>
  %2 = kiln.scatter_elements %x, %ei, %u {axis = 1 : i64, reduction = "add"} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  return %0, %1, %2 : tensor<4x2x3xf32>, tensor<2xf32>, tensor<2x3xf32>
}
