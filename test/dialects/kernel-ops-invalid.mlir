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

// -----

func.func private @k(%a: memref<64xf32>, %rows: memref<3xindex>, %b: memref<1024xf32>, %acc: memref<64xf32>) attributes {kiln.kernel = "gemm", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  // expected-error @+1 {{rows must hold tile_rows * taps = 2 indices}}
  kiln.gemm_tile %a[%rows], %b[%c0], %acc depth %c32 {taps = 1 : i64, tile_rows = 2 : i64, vectors = 4 : i64, width = 8 : i64} : memref<64xf32>[memref<3xindex>], memref<1024xf32>, memref<64xf32>
  return
}

// -----

func.func private @k(%a: memref<64xf32>, %rows: memref<2xindex>, %b: memref<1024xf32>, %acc: memref<32xf32>) attributes {kiln.kernel = "gemm", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  // expected-error @+1 {{acc must hold tile_rows * width * vectors = 64 floats}}
  kiln.gemm_tile %a[%rows], %b[%c0], %acc depth %c32 {taps = 1 : i64, tile_rows = 2 : i64, vectors = 4 : i64, width = 8 : i64} : memref<64xf32>[memref<2xindex>], memref<1024xf32>, memref<32xf32>
  return
}

// -----

func.func private @k(%a: memref<64xf32>, %rows: memref<2xindex>, %alt: memref<64xf32>, %b: memref<1024xf32>, %acc: memref<64xf32>) attributes {kiln.kernel = "gemm", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  // expected-error @+1 {{alt_rows must hold tile_rows * taps = 2 booleans}}
  kiln.gemm_tile %a[%rows] or %alt[%rows], %b[%c0], %acc depth %c32 {taps = 1 : i64, tile_rows = 2 : i64, vectors = 4 : i64, width = 8 : i64} : memref<64xf32>[memref<2xindex>] or memref<64xf32>[memref<2xindex>], memref<1024xf32>, memref<64xf32>
  return
}

// -----

func.func private @k(%x: memref<256xf32>, %rows: memref<3xindex>, %w: memref<144xf32>, %acc: memref<32xf32>) attributes {kiln.kernel = "conv", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{needs 0 <= kw_begin <= kw_end <= kernel_w}}
  kiln.depthwise_tile %x[%rows], %w[%c0], %acc {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 2 : i64, kw_end = 1 : i64, pixels = 2 : i64, stride = 1 : i64, vectors = 2 : i64, width = 8 : i64} : memref<256xf32>, memref<3xindex>, memref<144xf32>, memref<32xf32>
  return
}

// -----

func.func private @k(%x: memref<256xf32>, %rows: memref<3xindex>, %w: memref<144xf32>, %acc: memref<16xf32>) attributes {kiln.kernel = "conv", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{acc must hold pixels * width * vectors = 32 floats}}
  kiln.depthwise_tile %x[%rows], %w[%c0], %acc {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 0 : i64, kw_end = 3 : i64, pixels = 2 : i64, stride = 1 : i64, vectors = 2 : i64, width = 8 : i64} : memref<256xf32>, memref<3xindex>, memref<144xf32>, memref<16xf32>
  return
}
