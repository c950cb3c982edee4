//===- MicroKernel.h - Register-blocked GEMM tile for generated code -------===//
//
// The inner loop of every convolution and constant-weight matmul that Kiln
// generates. A tile is MR rows (pixels, or matrix rows) by NV vectors of W
// floats (output channels). Its weights are packed at compile time as
// [tap][k][NV * W], so each step of k reads NV contiguous, aligned vectors
// and broadcasts one input value per row. The MR * NV accumulators stay in
// registers for the whole reduction; Kiln chooses MR and NV per layer so that
// they fit the register file of the target (`kiln compile --cpu`).
//
// W is 16 (AVX-512), 8 (AVX2 + FMA) or 4 (any target: plain vector code).
// The order of the additions into each output depends only on the shapes, so
// results do not change with the thread count; long reductions are summed in
// blocks (kSumBlock).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_MICROKERNEL_H
#define KILN_RUNTIME_MICROKERNEL_H

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace kiln::mk {

template <int W> struct Vec {
  typedef float type __attribute__((vector_size(W * sizeof(float))));
};

template <int W> using vec_t = typename Vec<W>::type;

/// W int32 lanes, and the 4 * W bytes that pack 4 int8 into each.
template <int W> struct IntLanes {
  typedef int32_t type __attribute__((vector_size(W * sizeof(int32_t))));
  typedef int8_t bytes __attribute__((vector_size(W * 4)));
};

template <int W> inline vec_t<W> load(const float *p) {
  vec_t<W> v;
  std::memcpy(&v, p, sizeof(v)); // packed weights are aligned; this stays one load
  return v;
}

template <int W> inline void store(float *p, vec_t<W> v) { std::memcpy(p, &v, sizeof(v)); }

/// x in every lane. (Not `vec_t<W>{} + x`: that is an add the compiler must
/// keep for x = -0, and a register shuffle on the port of the second FMA
/// unit; this is one broadcast load where x comes from memory.)
template <int W> inline vec_t<W> broadcast(float x) {
#if defined(__AVX512F__)
  if constexpr (W == 16)
    return (vec_t<W>)_mm512_set1_ps(x);
#endif
#if defined(__AVX2__)
  if constexpr (W == 8)
    return (vec_t<W>)_mm256_set1_ps(x);
#endif
  vec_t<W> v;
  for (int i = 0; i < W; ++i)
    v[i] = x;
  return v;
}

/// a * b + c, fused where the target has FMA (the result then does not
/// depend on the compiler's contraction flags).
template <int W> inline vec_t<W> fma(vec_t<W> a, vec_t<W> b, vec_t<W> c) {
#if defined(__AVX512F__)
  if constexpr (W == 16)
    return (vec_t<W>)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#endif
#if defined(__FMA__)
  if constexpr (W == 8)
    return (vec_t<W>)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#endif
  return a * b + c;
}

/// Steps of k summed in registers before they join the running total in
/// `tile`: blocked summation, so the rounding error of a long reduction
/// (K = 4608 in a 3x3 conv over 512 channels) grows with the block length and
/// the number of blocks, not with K.
constexpr int64_t kSumBlock = 256;

/// tile[p][0 .. NV*W) = sum over taps t and k of rows[t*MR + p][k] * w[(t*K + k)*NV*W + ...].
/// `rows` holds one pointer per tap and row (a zero row for padding), `w` the
/// packed weights of this block of outputs, `tile` MR * NV * W floats. With
/// Strided, element k of a row is rows[...][k * rowStride] (attention reads
/// key and value columns this way).
template <int W, int MR, int NV, bool Strided = false>
inline void gemmTile(const float *const *rows, int64_t taps, int64_t K, const float *w,
                     float *tile, int64_t rowStride = 1) {
  vec_t<W> acc[MR][NV];
  auto clear = [&] {
#pragma GCC unroll 16
    for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[p][v] = vec_t<W>{};
  };
  // Adds the block in registers to the total (or starts it).
  auto flush = [&](bool first) {
#pragma GCC unroll 16
    for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        float *dst = tile + (p * NV + v) * W;
        store<W>(dst, first ? acc[p][v] : load<W>(dst) + acc[p][v]);
      }
  };
  clear();
  bool first = true;
  int64_t pending = 0;
  for (int64_t t = 0; t < taps; ++t) {
    const float *r[MR];
#pragma GCC unroll 16
    for (int p = 0; p < MR; ++p)
      r[p] = rows[t * MR + p];
    const float *wt = w + t * K * NV * W;
    for (int64_t k0 = 0; k0 < K; k0 += kSumBlock) {
      const int64_t k1 = K - k0 < kSumBlock ? K : k0 + kSumBlock;
      for (int64_t k = k0; k < k1; ++k) {
        vec_t<W> b[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          b[v] = load<W>(wt + k * NV * W + v * W);
#pragma GCC unroll 16
        for (int p = 0; p < MR; ++p) {
          const vec_t<W> a = broadcast<W>(Strided ? r[p][k * rowStride] : r[p][k]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[p][v] = fma<W>(a, b[v], acc[p][v]);
        }
      }
      pending += k1 - k0;
      if (pending >= kSumBlock) {
        flush(first);
        clear();
        first = false;
        pending = 0;
      }
    }
  }
  if (first || pending)
    flush(first);
}

/// One tile of a depthwise convolution: P output pixels of one output row by
/// NV vectors of W channels, over the taps KW0 <= kw < KW1 of each tap row
/// (all taps but at the edges of a row, where the others read padding).
/// rows[kh] points at the tile's channels in the input column that tap KW0
/// of pixel 0 reads, in the input row of tap row kh, or is null where that
/// row is padding. Pixels are C floats apart, and w holds the tile's
/// channels of the [KH][KW][C] weights. The accumulators start from `bias`
/// (or zero) and stay in registers over the taps; the weight vectors of a
/// tap are loaded once for all pixels.
template <int W, int P, int NV, int KH, int KW, int SW, int DW, int64_t C, int KW0 = 0,
          int KW1 = KW>
inline void depthwiseTile(const float *const *rows, const float *w, const float *bias,
                          float *tile) {
  vec_t<W> acc[P][NV];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[p][v] = bias ? load<W>(bias + v * W) : vec_t<W>{};
  for (int kh = 0; kh < KH; ++kh) {
    const float *r = rows[kh];
    if (!r)
      continue;
#pragma GCC unroll 8
    for (int kw = KW0; kw < KW1; ++kw) {
      vec_t<W> b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        b[v] = load<W>(w + (kh * KW + kw) * C + v * W);
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          acc[p][v] = fma<W>(load<W>(r + (p * SW + (kw - KW0) * DW) * C + v * W), b[v], acc[p][v]);
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      store<W>(tile + (p * NV + v) * W, acc[p][v]);
}

/// v with each block of G lanes rotated down by R: lane j takes lane
/// (j / G) * G + (j % G + R) % G. One shuffle (on x86 an in-lane vpermilps
/// for G = 4, else vpermps).
template <int W, int G, int R> inline vec_t<W> rotateGroups(vec_t<W> v) {
  static_assert(W % G == 0 && R >= 0 && R < G, "R rotates within groups of G lanes");
  if constexpr (R == 0)
    return v;
#if defined(__AVX512F__) || defined(__AVX__)
  if constexpr (G == 4 && (W == 16 || W == 8)) {
    constexpr int imm = ((0 + R) % 4) | ((1 + R) % 4) << 2 | ((2 + R) % 4) << 4 | ((3 + R) % 4) << 6;
#if defined(__AVX512F__)
    if constexpr (W == 16)
      return (vec_t<W>)_mm512_permute_ps((__m512)v, imm);
#endif
    if constexpr (W == 8)
      return (vec_t<W>)_mm256_permute_ps((__m256)v, imm);
  }
#endif
  alignas(64) static constexpr struct Lanes {
    int32_t at[W];
    constexpr Lanes() : at() {
      for (int j = 0; j < W; ++j)
        at[j] = j / G * G + (j % G + R) % G;
    }
  } lanes;
#if defined(__AVX512F__)
  if constexpr (W == 16)
    return (vec_t<W>)_mm512_permutexvar_ps(_mm512_load_si512(lanes.at), (__m512)v);
#endif
#if defined(__AVX2__)
  if constexpr (W == 8)
    return (vec_t<W>)_mm256_permutevar8x32_ps((__m256)v,
                                              _mm256_load_si256((const __m256i *)lanes.at));
#endif
  vec_t<W> r;
  for (int j = 0; j < W; ++j)
    r[j] = v[lanes.at[j]];
  return r;
}

/// rot[r] = rotateGroups<W, G, r>(x) for every r < G.
template <int W, int G, int... R>
inline void rotations(vec_t<W> x, vec_t<W> *rot, std::integer_sequence<int, R...>) {
  ((rot[R] = rotateGroups<W, G, R>(x)), ...);
}

/// One tile of a grouped convolution whose groups have G input and G
/// output channels (G divides W): P output pixels of one output row by NV
/// vectors of W channels, like depthwiseTile. Lane j of a vector sums, over
/// the taps and r < G, input channel (j % G + r) % G of its group times
/// w[((kh * KW + kw) * G + r) * C + j] (weights packed that way at compile
/// time): the input vector of a pixel, rotated r lanes within each group,
/// replaces the broadcast of a GEMM, so every lane does useful work even
/// where a group is narrower than a vector. Each input column of the tile
/// is loaded and rotated once per tap row and used by every (pixel, tap)
/// that reads it.
template <int W, int P, int NV, int KH, int KW, int SW, int DW, int64_t C, int G, int KW0 = 0,
          int KW1 = KW>
inline void groupedTile(const float *const *rows, const float *w, const float *bias,
                        float *tile) {
  constexpr int Q = (P - 1) * SW + (KW1 - KW0 - 1) * DW + 1; // input columns read
  vec_t<W> acc[P][NV];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[p][v] = bias ? load<W>(bias + v * W) : vec_t<W>{};
  for (int kh = 0; kh < KH; ++kh) {
    const float *r = rows[kh];
    if (!r)
      continue;
#pragma GCC unroll 64
    for (int q = 0; q < Q; ++q) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const vec_t<W> x = load<W>(r + q * C + v * W);
        vec_t<W> rot[G];
        rotations<W, G>(x, rot, std::make_integer_sequence<int, G>{});
#pragma GCC unroll 16
        for (int kw = KW0; kw < KW1; ++kw) {
          const int at = q - (kw - KW0) * DW; // = p * SW for the pixel this tap serves
          if (at < 0 || at % SW || at / SW >= P)
            continue;
          const float *wt = w + (kh * KW + kw) * G * C + v * W;
#pragma GCC unroll 16
          for (int g = 0; g < G; ++g)
            acc[at / SW][v] = fma<W>(rot[g], load<W>(wt + g * C), acc[at / SW][v]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      store<W>(tile + (p * NV + v) * W, acc[p][v]);
}

/// The int8 tile (8-bit activations, int8 weights, exact int32 sums) of
/// quantised convolutions: tile[p][0 .. NV*W) = init[...] + sum over taps t
/// and k of u(rows[t*MR + p][k]) * wq(t, k, ...), where u(x) is the byte as
/// unsigned (for SignedA, x + 128: the input is int8). K is a multiple of 4.
/// A block of packed weights starts with NV*W int32 (the start of each
/// output's sum: minus the zero point times the sum of its weights, so that
/// the tile sums (x - zero point) * w), followed by [tap][K/4][NV*W][4]
/// int8: four consecutive k of one output are one 32-bit lane, the operand
/// of AVX-512 VNNI's vpdpbusd (u8 x s8, four products added into an int32
/// lane). Without VNNI the same layout is multiplied out in int32 lanes.
template <int W, int MR, int NV, bool SignedA>
inline void gemmTileInt8(const uint8_t *const *rows, int64_t taps, int64_t K, const int8_t *w,
                         int32_t *tile) {
  const int32_t *init = reinterpret_cast<const int32_t *>(w);
  const int8_t *wq = w + NV * W * sizeof(int32_t);
  const int64_t steps = K / 4;
  const uint32_t flip = SignedA ? 0x80808080u : 0u;
#if defined(__AVX512VNNI__)
  if constexpr (W == 16) {
    __m512i acc[MR][NV];
#pragma GCC unroll 16
    for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[p][v] = _mm512_loadu_si512(init + v * W);
    for (int64_t t = 0; t < taps; ++t) {
      const uint8_t *r[MR];
#pragma GCC unroll 16
      for (int p = 0; p < MR; ++p)
        r[p] = rows[t * MR + p];
      const int8_t *wt = wq + t * K * NV * W;
      for (int64_t s = 0; s < steps; ++s) {
        __m512i b[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          b[v] = _mm512_loadu_si512(wt + (s * NV + v) * W * 4);
#pragma GCC unroll 16
        for (int p = 0; p < MR; ++p) {
          uint32_t four;
          std::memcpy(&four, r[p] + 4 * s, 4);
          const __m512i a = _mm512_set1_epi32(int32_t(four ^ flip));
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[p][v] = _mm512_dpbusd_epi32(acc[p][v], a, b[v]);
        }
      }
    }
#pragma GCC unroll 16
    for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        _mm512_storeu_si512(tile + (p * NV + v) * W, acc[p][v]);
    return;
  }
#endif
  // Portable: int32 lanes; the four k of a step are taken out of the packed
  // lanes with shuffles, once per step and vector for all rows.
  using ivec = typename IntLanes<W>::type;
  using bvec = typename IntLanes<W>::bytes;
  ivec acc[MR][NV];
#pragma GCC unroll 16
  for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      std::memcpy(&acc[p][v], init + v * W, sizeof(ivec));
  for (int64_t t = 0; t < taps; ++t) {
    const int8_t *wt = wq + t * K * NV * W;
    for (int64_t s = 0; s < steps; ++s) {
      ivec b[NV][4];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        bvec packed;
        std::memcpy(&packed, wt + (s * NV + v) * W * 4, sizeof(bvec));
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
#pragma GCC unroll 16
          for (int j = 0; j < W; ++j)
            b[v][i][j] = packed[j * 4 + i];
      }
#pragma GCC unroll 16
      for (int p = 0; p < MR; ++p) {
        const uint8_t *a = rows[t * MR + p] + 4 * s;
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const int32_t x = int32_t(uint8_t(a[i] ^ uint8_t(flip)));
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[p][v] += x * b[v][i];
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < MR; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      std::memcpy(tile + (p * NV + v) * W, &acc[p][v], sizeof(ivec));
}

} // namespace kiln::mk

#endif // KILN_RUNTIME_MICROKERNEL_H
