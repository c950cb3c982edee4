//===- Rounding.h - Float32 rounded to the inputs of tensor cores ----------===//
//
// What the GPU's conversions give (cvt.rna.tf32.f32, cvt.rn.f16x2.f32,
// cvt.rn.bf16x2.f32), as float32: the emulation of kiln.mma_block rounds
// each input with these, so it multiplies the same numbers as the tensor
// cores. A product of two rounded inputs is exact in float32.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_ROUNDING_H
#define KILN_RUNTIME_ROUNDING_H

#include <cmath>
#include <cstdint>

namespace kiln::rounding {

inline bool isFiniteBits(uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u; }

/// tf32: 10 mantissa bits, to nearest with ties away from zero.
inline float tf32(float x) {
  uint32_t u = __builtin_bit_cast(uint32_t, x);
  if (isFiniteBits(u))
    u = (u + 0x1000u) & 0xffffe000u;
  return __builtin_bit_cast(float, u);
}

/// bf16: 7 mantissa bits, to nearest even; NaN stays NaN.
inline float bf16(float x) {
  uint32_t u = __builtin_bit_cast(uint32_t, x);
  if (x != x)
    return x;
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  return __builtin_bit_cast(float, u);
}

/// fp16: 10 mantissa bits to nearest even, subnormals below 2^-14, and
/// infinity from 65520 up.
inline float fp16(float x) {
  if (!std::isfinite(x))
    return x;
  float a = std::fabs(x);
  if (a >= 65520.0f)
    return std::copysign(INFINITY, x);
  int e;
  std::frexp(a, &e); // a = f * 2^e, f in [0.5, 1)
  int quantumExp = (e - 1 < -14 ? -14 : e - 1) - 10;
  float q = std::ldexp(1.0f, quantumExp);
  return std::nearbyint(x / q) * q;
}

} // namespace kiln::rounding

#endif // KILN_RUNTIME_ROUNDING_H
