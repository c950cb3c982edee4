// The kernel-level ops verify what their printers rely on.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func private @k(%ok: i1, %v: i64) attributes {kiln.kernel = "gather", kiln.num_inputs = 0 : i64} {
  // expected-error @+1 {{message refers to value {1} but has 1 values}}
  kiln.check %ok, "index {0} at position {1}"(%v : i64)
  return
}

// -----

func.func private @k(%x: memref<8xf32>, %order: memref<4xindex>) attributes {kiln.kernel = "topk", kiln.num_inputs = 1 : i64} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{needs 0 <= k <= n <= the order's size, got k = 2, n = 8, size 4}}
  kiln.top_indices %x[%c0], %order {k = 2 : i64, n = 8 : i64, stride = 1 : i64, largest = true} : memref<8xf32>, memref<4xindex>
  return
}
