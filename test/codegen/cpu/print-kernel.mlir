// The CPU backend prints the kernel form, and nothing else, as C++: one
// function per kernel, loops as for statements, single-use values inline
// with the parentheses C++ precedence needs, values used twice as named
// constants, unsigned views as casts, parallel loops on the thread pool
// with __restrict copies of the buffers. The output compiles without
// warnings.
// RUN: kiln-opt %s --kiln-print-kernels-cpp -o /dev/null > %t.cpp
// RUN: FileCheck %s --input-file=%t.cpp
// RUN: (echo '#include "kiln/runtime/Runtime.h"'; echo '#include "kiln/runtime/VectorMath.h"'; echo '#include <cmath>'; echo '#include <limits>'; cat %t.cpp) > %t.full.cpp
// RUN: g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I%runtime_include -fsyntax-only %t.full.cpp

// CHECK-LABEL: void broadcast_add(const float *__restrict in0, const float *__restrict in1, float *__restrict out0) {
// CHECK-NEXT:   for (int64_t i0 = 0; i0 < 2; ++i0) {
// CHECK-NEXT:     for (int64_t i1 = 0; i1 < 3; ++i1) {
// CHECK-NEXT:       out0[i0 * 3 + i1] = (in0[i0 * 3 + i1] + in1[i1]) * 0.5f;
func.func private @broadcast_add(%x: memref<6xf32>, %b: memref<3xf32>, %y: memref<6xf32>)
    attributes {kiln.kernel = "add", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %half = arith.constant 0.5 : f32
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c3 step %c1 {
      %row = arith.muli %i, %c3 : index
      %at = arith.addi %row, %j : index
      %a = memref.load %x[%at] : memref<6xf32>
      %c = memref.load %b[%j] : memref<3xf32>
      %s = arith.addf %a, %c : f32
      %h = arith.mulf %s, %half : f32
      %row2 = arith.muli %i, %c3 : index
      %at2 = arith.addi %row2, %j : index
      memref.store %h, %y[%at2] : memref<6xf32>
    }
  }
  return
}

// A value used twice is named; NaN-propagating max names its operands.
// CHECK-LABEL: void relu_max(
// CHECK:      const float v0 = in0[i0];
// CHECK-NEXT: const float v1 = v0 < 0.0f ? 0.0f : v0;
// CHECK-NEXT: const float v2 = in1[i0];
// CHECK-NEXT: out0[i0] = (v1 > v2 || v1 != v1) ? v1 : v2;
func.func private @relu_max(%x: memref<4xf32>, %z: memref<4xf32>, %y: memref<4xf32>)
    attributes {kiln.kernel = "max", kiln.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %x[%i] : memref<4xf32>
    %neg = arith.cmpf olt, %v, %zero : f32
    %r = arith.select %neg, %zero, %v : f32
    %w = memref.load %z[%i] : memref<4xf32>
    %m = arith.maximumf %r, %w : f32
    memref.store %m, %y[%i] : memref<4xf32>
  }
  return
}

// Reductions carry their accumulator through iter_args; math ops on float
// use the runtime's vectorisable exp.
// CHECK-LABEL: void sum_exp(
// CHECK:      float a0 = 0.0f;
// CHECK-NEXT: for (int64_t i0 = 0; i0 < 16; ++i0) {
// CHECK-NEXT:   a0 = a0 + kiln::vm::exp(in0[i0]);
// CHECK-NEXT: }
// CHECK-NEXT: out0[0] = a0;
func.func private @sum_exp(%x: memref<16xf32>, %y: memref<1xf32>)
    attributes {kiln.kernel = "reduce_sum", kiln.num_inputs = 1 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %c16 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %x[%i] : memref<16xf32>
    %e = math.exp %v : f32
    %n = arith.addf %acc, %e : f32
    scf.yield %n : f32
  }
  memref.store %sum, %y[%c0] : memref<1xf32>
  return
}

// Unsigned integers compare and divide through unsigned casts; narrow
// integer arithmetic is cast back to its width.
// CHECK-LABEL: void unsigned_ops(const uint8_t *__restrict in0, uint8_t *__restrict out0) {
// CHECK: const int8_t v0 = static_cast<int8_t>(in0[i0]);
// CHECK: static_cast<uint8_t>(v0) > static_cast<uint8_t>(7)
// CHECK: static_cast<int8_t>(v0 + 1)
func.func private @unsigned_ops(%x: memref<4xui8>, %y: memref<4xui8>)
    attributes {kiln.kernel = "pointwise", kiln.num_inputs = 1 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %seven = arith.constant 7 : i8
  %one = arith.constant 1 : i8
  scf.for %i = %c0 to %c4 step %c1 {
    %u = memref.load %x[%i] : memref<4xui8>
    %v = builtin.unrealized_conversion_cast %u : ui8 to i8
    %big = arith.cmpi ugt, %v, %seven : i8
    %inc = arith.addi %v, %one : i8
    %r = arith.select %big, %v, %inc : i8
    %o = builtin.unrealized_conversion_cast %r : i8 to ui8
    memref.store %o, %y[%i] : memref<4xui8>
  }
  return
}

// CHECK-LABEL: void split_rows(kiln::ThreadPool &pool, const float *__restrict in0, float *__restrict out0) {
// CHECK-NEXT:   pool.parallelFor(8, [&](int64_t begin, int64_t end) {
// CHECK-NEXT:     const float *__restrict r0 = in0;
// CHECK-NEXT:     float *__restrict w0 = out0;
// CHECK-NEXT:     for (int64_t p0 = begin; p0 < end; ++p0) {
// CHECK-NEXT:       float t0[4];
// CHECK:            w0[p0 * 4 + i1] = -t0[i1];
// CHECK:          });
func.func private @split_rows(%x: memref<32xf32>, %y: memref<32xf32>)
    attributes {kiln.kernel = "neg", kiln.num_inputs = 1 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%p) = (%c0) to (%c8) step (%c1) {
    %t = memref.alloca() : memref<4xf32>
    scf.for %j = %c0 to %c4 step %c1 {
      %base = arith.muli %p, %c4 : index
      %at = arith.addi %base, %j : index
      %v = memref.load %x[%at] : memref<32xf32>
      memref.store %v, %t[%j] : memref<4xf32>
    }
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %t[%j] : memref<4xf32>
      %n = arith.negf %v : f32
      %base = arith.muli %p, %c4 : index
      %at = arith.addi %base, %j : index
      memref.store %n, %y[%at] : memref<32xf32>
    }
    scf.reduce
  }
  return
}
