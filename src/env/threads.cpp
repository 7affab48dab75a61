// The default thread count of a run from its size and the usable cores
// (env.hpp: default_threads).
#include <algorithm>

#include "isletsim/env.hpp"

namespace isletsim::env {

unsigned default_threads(std::size_t n_cells, unsigned cores, std::size_t n_states) {
  const std::size_t states = n_states ? n_states : kReferenceStates;
  // Work per step in units of reference cells, as a long double: no overflow
  // for any size (n_cells * states could wrap in 64 bits for absurd inputs).
  const long double work = static_cast<long double>(n_cells) * static_cast<long double>(states) /
                           static_cast<long double>(kReferenceStates);
  const long double by_size = work / static_cast<long double>(kCellsPerThread);
  const unsigned limit = std::max(1u, cores);
  if (by_size >= static_cast<long double>(limit)) return limit;
  return std::max(1u, static_cast<unsigned>(by_size));
}

unsigned resolve_threads(unsigned long long requested, std::size_t n_cells, unsigned cores, std::size_t n_states,
                         const std::string& option) {
  if (requested == 0) return default_threads(n_cells, cores, n_states);
  check_thread_count(requested, option);
  return static_cast<unsigned>(requested);
}

}  // namespace isletsim::env
