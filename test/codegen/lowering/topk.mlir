// TopK lowered to the kernel form: per (outer, inner) position, kiln.top_indices
// (a kernel-level op: a partial sort of the indices by their keys, ties in
// index order) into a heap array, then the k values and indices copied out.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_topk
// MLIR: %[[ORDER:.*]] = memref.alloc() : memref<4xindex>
// MLIR: kiln.top_indices %{{.*}}[%{{.*}}], %[[ORDER]] {k = 2 : i64, largest = true, n = 4 : i64, stride = 1 : i64}
// MLIR: memref.dealloc %[[ORDER]]
// CPP-LABEL: void k0_topk(const float *__restrict in0, float *__restrict out0, int64_t *__restrict out1) {
// CPP: std::partial_sort(t0, t0 + 2, t0 + 4, [&](int64_t a, int64_t b) {
// CPP-NEXT: const float va = in0[v0 + a], vb = in0[v0 + b];
// CPP-NEXT: return va > vb || (va == vb && a < b);
// CPP: out1[v2] = static_cast<int64_t>(v1);
func.func @main(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %v, %i = kiln.topk %x {axis = 1 : i64, largest = true} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
}
