// Checks the plain attention kernel of attention.mlir (printed to kernel.cpp)
// against a float64 reference: scaled scores, keep-mask, softmax over 70 keys
// (two key blocks), and a fully masked query row that must give NaN.
#include "kiln/runtime/Runtime.h"
#include "kiln/runtime/VectorMath.h"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include "kernel.cpp"
int main() {
  const int B = 2, TQ = 5, D = 8, TK = 70, DV = 6;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> q(B * TQ * D), kt(B * D * TK), v(B * TK * DV), y(B * TQ * DV);
  bool m[TQ * TK];
  for (auto &x : q) x = u(rng);
  for (auto &x : kt) x = u(rng);
  for (auto &x : v) x = u(rng);
  for (int i = 0; i < TQ * TK; ++i) m[i] = (i % 7) != 3 && !(i / TK == 4); // row 4 fully masked
  kiln::ThreadPool pool(2);
  k0_attention(pool, q.data(), kt.data(), v.data(), m, y.data());
  double worst = 0; int nanOk = 0;
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < TQ; ++i) {
      std::vector<double> s(TK); double mx = -INFINITY;
      for (int j = 0; j < TK; ++j) {
        double dot = 0;
        for (int t = 0; t < D; ++t) dot += q[(b * TQ + i) * D + t] * 0.35355339059327373 * kt[(b * D + t) * TK + j];
        s[j] = m[i * TK + j] ? dot : -INFINITY;
        mx = std::max(mx, s[j]);
      }
      double den = 0; for (int j = 0; j < TK; ++j) den += std::exp(s[j] - mx);
      for (int e = 0; e < DV; ++e) {
        double ref = 0;
        for (int j = 0; j < TK; ++j) ref += std::exp(s[j] - mx) / den * v[(b * TK + j) * DV + e];
        float got = y[(b * TQ + i) * DV + e];
        if (i == 4) { nanOk += std::isnan(got); continue; }
        worst = std::max(worst, std::fabs(ref - got));
      }
    }
  std::printf("max abs error %.3g, NaN outputs of the masked row %d of %d\n", worst, nanOk, B * DV);
  return worst < 1e-5 && nanOk == B * DV ? 0 : 1;
}
