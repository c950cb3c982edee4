//===- VectorMath.h - Branch-free float exp, erf, tanh, sigmoid ------------===//
//
// The generated code calls these instead of std::exp/erf/tanh in float loops:
// they are inline and branch-free (selects only), so the compiler vectorises
// the loops that use them, where a call into libm would keep every element
// scalar. Accuracy is a few ulp (exp, sigmoid) and below 2e-7 absolute, 1e-6
// relative (erf, tanh); infinities and NaN behave as in libm.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_VECTORMATH_H
#define KILN_RUNTIME_VECTORMATH_H

#include <cstdint>
#include <limits>

namespace kiln::vm {

inline float bitsToFloat(int32_t i) { return __builtin_bit_cast(float, i); }

/// e^x: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-6 polynomial,
/// 2^n built in the exponent bits. Results below FLT_MIN flush to zero.
inline float exp(float x) {
  const float hi = 88.72283935546875f, lo = -87.33654022216797f;
  float xc = x < lo ? lo : (x > hi ? hi : x);
#if defined(__FAST_MATH__) // may fold the trick below away
  float n = __builtin_rintf(xc * 1.44269504088896341f);
#else
  // Round to nearest by adding and removing 1.5 * 2^23 (|x log2 e| < 2^22):
  // unlike rintf, this vectorises on every x86-64 level.
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
#endif
  float r = xc - n * 0.693145751953125f; // ln2 split in two for an exact product
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n as 2^(n/2) squared keeps n = 128 (x near the top) representable.
  int32_t half = static_cast<int32_t>(n) >> 1;
  float s1 = bitsToFloat((half + 127) << 23);
  float s2 = bitsToFloat((static_cast<int32_t>(n) - half + 127) << 23);
  float y = p * s1 * s2;
  y = x < lo ? 0.0f : y;
  y = x > hi ? std::numeric_limits<float>::infinity() : y;
  return x != x ? x : y;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + kiln::vm::exp(-x)); }

/// erf: an odd Maclaurin polynomial below 0.5 (keeps the relative error
/// small near zero), 1 - t P(t) e^(-x^2) with t = 1 / (1 + p|x|) above.
inline float erf(float x) {
  float a = x < 0 ? -x : x;
  float x2 = x * x;
  float s = -1.0f / 1320.0f;
  s = s * x2 + 1.0f / 216.0f;
  s = s * x2 - 1.0f / 42.0f;
  s = s * x2 + 1.0f / 10.0f;
  s = s * x2 - 1.0f / 3.0f;
  s = s * x2 + 1.0f;
  float small = 1.1283791670955126f * x * s;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float q = 1.061405429f;
  q = q * t - 1.453152027f;
  q = q * t + 1.421413741f;
  q = q * t - 0.284496736f;
  q = q * t + 0.254829592f;
  float big = 1.0f - q * t * kiln::vm::exp(-a * a);
  big = x < 0 ? -big : big;
  float y = a < 0.5f ? small : big;
  return x != x ? x : y;
}

/// tanh: an odd polynomial below 0.4, 1 - 2 / (e^(2|x|) + 1) above.
inline float tanh(float x) {
  float a = x < 0 ? -x : x;
  float x2 = x * x;
  float s = 62.0f / 2835.0f;
  s = s * x2 - 17.0f / 315.0f;
  s = s * x2 + 2.0f / 15.0f;
  s = s * x2 - 1.0f / 3.0f;
  float small = x + x * x2 * s;
  float big = 1.0f - 2.0f / (kiln::vm::exp(2.0f * a) + 1.0f);
  big = x < 0 ? -big : big;
  float y = a < 0.4f ? small : big;
  return x != x ? x : y;
}

} // namespace kiln::vm

#endif // KILN_RUNTIME_VECTORMATH_H
