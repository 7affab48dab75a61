#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
// A draw depends only on its key (seed, cell id, stream) and counter, never
// on the thread or the order in which cells are visited.
#include <array>
#include <cstdint>

namespace isletsim {

// Streams: one per purpose, so adding a new use never shifts existing draws.
enum class RngStream : std::uint32_t {
  parameter = 1,     // heterogeneity: stream word carries the parameter index
  coupling = 2,      // per-cell coupling conductance
  geometry = 3,      // sphere packing
  initial_state = 4,
  user = 100,
};

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key);

// A reproducible stream of uniform/normal/gamma draws for one key.
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t id, std::uint32_t stream, std::uint32_t sub = 0);
  std::uint64_t next_u64();
  double uniform();        // in (0, 1), never 0 or 1
  double normal();         // standard normal (Box-Muller)
  double gamma(double k);  // shape k, scale 1 (Marsaglia-Tsang)

 private:
  std::array<std::uint32_t, 2> key_;
  std::array<std::uint32_t, 4> ctr_;
  std::uint64_t n_ = 0;
};

}  // namespace isletsim
