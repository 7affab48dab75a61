#include "isletsim/rng.hpp"

#include <cmath>

#include "core/fastmath.hpp"

namespace isletsim {

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> c, std::array<std::uint32_t, 2> k) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(M0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(M1) * c[2];
    const std::array<std::uint32_t, 4> n = {
        static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
        static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
    c = n;
    k[0] += W0;
    k[1] += W1;
  }
  return c;
}

CounterRng::CounterRng(std::uint64_t seed, std::uint64_t id, std::uint32_t stream, std::uint32_t sub)
    : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
      ctr_{0, static_cast<std::uint32_t>(id), static_cast<std::uint32_t>(id >> 32),
           stream ^ (sub << 16) ^ (sub >> 16)} {}

std::uint64_t CounterRng::next_u64() {
  // Counter word 0 counts draws; words 1-3 hold the id and stream.
  std::array<std::uint32_t, 4> c = ctr_;
  c[0] = static_cast<std::uint32_t>(n_++);
  const auto r = philox4x32(c, key_);
  return (static_cast<std::uint64_t>(r[0]) << 32) | r[1];
}

double CounterRng::uniform() {
  // 53 random bits, shifted by half an ulp so the result is never 0 or 1.
  return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

// Only IEEE operations and fastmath (not the C library's log/cos, whose last
// bit may differ between systems): the same draws on every machine.
double CounterRng::normal() {
  // Marsaglia's polar method: no trigonometry.
  for (;;) {
    const double u = 2.0 * uniform() - 1.0, v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * fastmath::log(s) / s);
  }
}

double CounterRng::gamma(double k) {
  if (k < 1.0) {
    const double u = uniform();
    return gamma(k + 1.0) * fastmath::exp(fastmath::log(u) / k);
  }
  const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (fastmath::log(u) < 0.5 * x * x + d * (1.0 - v + fastmath::log(v))) return d * v;
  }
}

}  // namespace isletsim
