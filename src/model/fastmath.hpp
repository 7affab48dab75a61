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

// Range: inputs are clamped to [-708, 708] (results 3.3e-308 .. 3.0e307);
// NaN and +-inf give NaN (a blow-up stays visible).
[[gnu::always_inline]] inline double exp(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // high bits of ln 2, exact product with n
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 0x1.8p52;  // rounds to nearest integer in the low mantissa bits
  const double x0 = x;
  // One select (|x| < 708), not two chained ones: GCC 12 if-converts that
  // for AVX2 too; two chained clamps only vectorize with AVX-512 masks.
  x = std::fabs(x) < 708.0 ? x : std::copysign(708.0, x);
  const double t = x * kLog2e + kShift;
  const double n = t - kShift;  // round(x / ln2), exact integer
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;  // |r| <= ln2/2
  // Taylor series of e^r to degree 13 (truncation error < 2e-17 for |r| <= 0.347).
  double p = 1.0 / 6227020800.0;
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  p = std::fma(p, r, 1.0);
  // Scale by 2^n: add n to the exponent field. The low bits of t hold n.
  const std::int64_t e = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(t) << 52);
  // + (x0 - x0): exactly +0 for finite x (the result is positive), NaN otherwise.
  return std::bit_cast<double>(std::bit_cast<std::int64_t>(p) + e) + (x0 - x0);
}

}  // namespace isletsim::fastmath
