#pragma once
// exp() that the compiler vectorizes and that gives the same bits in a
// vector lane, a scalar loop, on AVX-512, AVX2 or SSE2: only IEEE +, -, *,
// explicit fused multiply-adds (std::fma is exactly specified by IEEE 754:
// one rounding, the same bits in hardware or in glibc's software fallback)
// and integer bit operations; no table. glibc's vector exp (libmvec)
// differs from its scalar exp, which would make a cell's result depend on
// whether it fell in a vector body or a remainder loop, i.e. on the thread
// partition. Accuracy: below 2 ulp over the clamped range (tested against
// std::exp in tests/unit/test_model.cpp).
#include <bit>
#include <cmath>
#include <cstdint>

namespace isletsim::fastmath {

namespace detail {
// Shared by exp and exp_estrin: the range reduction x = n ln2 + r and the
// final scaling by 2^n. Only IEEE +, -, *, fma and integer bit operations.
struct ExpReduced {
  double x0, t, r;
};
[[gnu::always_inline]] inline ExpReduced exp_reduce(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // high bits of ln 2, exact product with n
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 0x1.8p52;  // rounds to nearest integer in the low mantissa bits
  const double x0 = x;
  // One select (|x| < 708), not two chained ones: GCC 12 if-converts that
  // for AVX2 too; two chained clamps only vectorize with AVX-512 masks.
  x = std::fabs(x) < 708.0 ? x : std::copysign(708.0, x);
  const double t = std::fma(x, kLog2e, kShift);
  const double n = t - kShift;  // round(x / ln2), exact integer
  // x - n ln2 in two fused steps: n kLn2Hi is exact, so the first is exact
  // too, and the second rounds once (|r| <= ln2/2 up to rounding).
  const double r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, x));
  return {x0, t, r};
}
[[gnu::always_inline]] inline double exp_scale(double p, const ExpReduced& q) {
  // Scale by 2^n: add n to the exponent field. The low bits of t hold n.
  const std::int64_t e = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(q.t) << 52);
  // + (x0 - x0): exactly +0 for finite x (the result is positive), NaN otherwise.
  return std::bit_cast<double>(std::bit_cast<std::int64_t>(p) + e) + (q.x0 - q.x0);
}
// Taylor coefficients 1/k! of e^r to degree 13 (truncation error < 2e-17
// for |r| <= 0.347), for exp_estrin.
inline constexpr double kExpC[14] = {1.0,
                                     1.0,
                                     0.5,
                                     1.0 / 6.0,
                                     1.0 / 24.0,
                                     1.0 / 120.0,
                                     1.0 / 720.0,
                                     1.0 / 5040.0,
                                     1.0 / 40320.0,
                                     1.0 / 362880.0,
                                     1.0 / 3628800.0,
                                     1.0 / 39916800.0,
                                     1.0 / 479001600.0,
                                     1.0 / 6227020800.0};
}  // namespace detail

// Range: inputs are clamped to [-708, 708] (results 3.3e-308 .. 3.0e307);
// NaN and +-inf give NaN (a blow-up stays visible).
[[gnu::always_inline]] inline double exp(double x) {
  const detail::ExpReduced q = detail::exp_reduce(x);
  const double r = q.r;
  // e^r = 1 + r + r^2 g(r) with g a degree-9 polynomial interpolating
  // (e^r - 1 - r)/r^2 at the 10 Chebyshev nodes of [-ln2/2, ln2/2] (solved in
  // exact rational arithmetic, then rounded): approximation error below
  // 0.08 ulp, with 14 operations instead of the 13 fused multiply-adds of a
  // degree-13 Taylor series of the same accuracy. Evaluated by Estrin's
  // scheme (dependency chain of 6 instead of 11 for Horner): the cell
  // kernel, 7 exp per cell and ~450 instructions per vector of cells, fills
  // the reorder buffer, so shorter chains let more of it run at once
  // (kernel 6.7 -> 6.3 ns per cell evaluation). Written out: a loop here
  // stays a loop inside the kernel's simd loop, and GCC 12 then does not
  // vectorize the kernel at all (11x slower).
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double a01 = std::fma(0.16666666666666669, r, 0.5000000000000001);
  const double a23 = std::fma(0.008333333333330065, r, 0.041666666666624164);
  const double a45 = std::fma(0.00019841269863040545, r, 0.0013888888917196719);
  const double a67 = std::fma(2.7557268480310024e-06, r, 2.4801521322368692e-05);
  const double a89 = std::fma(2.5100375832561234e-08, r, 2.7620075879983367e-07);
  const double s0 = std::fma(a23, r2, a01), s1 = std::fma(a67, r2, a45);
  const double g = std::fma(a89, r8, std::fma(s1, r4, s0));
  const double p = std::fma(g, r2, 1.0 + r);
  return detail::exp_scale(p, q);
}

// The Taylor series to degree 13 by Estrin's scheme: a dependency chain of
// 5 operations (exp() above: 6), for loops that are purely latency-bound
// (an iterated map, where each value waits for the previous one: the Gauss
// map runs 13% faster with this than with exp()). Different rounding from
// exp() (both below 2 ulp), the same bits in every lane and on every
// instruction set.
[[gnu::always_inline]] inline double exp_estrin(double x) {
  using detail::kExpC;
  const detail::ExpReduced q = detail::exp_reduce(x);
  const double r = q.r, r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double q0 = std::fma(kExpC[1], r, kExpC[0]), q1 = std::fma(kExpC[3], r, kExpC[2]);
  const double q2 = std::fma(kExpC[5], r, kExpC[4]), q3 = std::fma(kExpC[7], r, kExpC[6]);
  const double q4 = std::fma(kExpC[9], r, kExpC[8]), q5 = std::fma(kExpC[11], r, kExpC[10]);
  const double q6 = std::fma(kExpC[13], r, kExpC[12]);
  const double s0 = std::fma(q1, r2, q0), s1 = std::fma(q3, r2, q2), s2 = std::fma(q5, r2, q4);
  const double u0 = std::fma(s1, r4, s0), u1 = std::fma(q6, r4, s2);
  return detail::exp_scale(std::fma(u1, r8, u0), q);
}

// Single-precision exp by the same technique (for the float kernel
// experiment, issue 3 item 5). Inputs clamped to [-87, 87] (results
// 1.6e-38 .. 6.1e37, all normal); NaN and +-inf give NaN. Taylor series to
// degree 7 (truncation < 6e-9 for |r| <= 0.347, below float's 6e-8).
// Accuracy: below 2 ulp of float (tested against std::exp).
[[gnu::always_inline]] inline float exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 6.9314575195e-01f;  // 0x3f317200: 15 significant bits, n * kLn2Hi exact
  constexpr float kLn2Lo = 1.4286067653e-06f;  // 0x35bfbe8e
  constexpr float kShift = 0x1.8p23f;
  const float x0 = x;
  x = std::fabs(x) < 87.0f ? x : std::copysign(87.0f, x);
  const float t = x * kLog2e + kShift;
  const float n = t - kShift;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = std::fma(p, r, 1.0f / 720.0f);
  p = std::fma(p, r, 1.0f / 120.0f);
  p = std::fma(p, r, 1.0f / 24.0f);
  p = std::fma(p, r, 1.0f / 6.0f);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const std::int32_t e = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(t) << 23);
  return std::bit_cast<float>(std::bit_cast<std::int32_t>(p) + e) + (x0 - x0);
}

// Natural logarithm with the same guarantees (used where results must not
// depend on the C library: random draws, the glucose dose-response). For
// x > 0 and finite: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
// log m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, by its series to
// s^23 (truncation < 1e-19). Error below 2 ulp (tested against std::log).
// x <= 0, NaN and infinity give NaN; subnormal x is not supported (NaN).
[[gnu::always_inline]] inline double log(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  if (!(x >= 0x1p-1022 && x <= 0x1.fffffffffffffp1023)) return __builtin_nan("");
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  std::int64_t e = static_cast<std::int64_t>(bits >> 52) - 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double p = 1.0 / 23;
  for (int k = 21; k >= 3; k -= 2) p = std::fma(p, s2, 1.0 / k);
  const double logm = std::fma(2.0 * s * s2, p, 2.0 * s);
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (logm + de * kLn2Lo);
}

}  // namespace isletsim::fastmath
