#pragma once
// How the engine orders the cells and splits them between threads: pure
// functions of their inputs (the graph, the sliced ELL, the cuts, the
// measured loads), the same in every thread, tested on their own
// (tests/unit/test_partition.cpp). None runs per step.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/gather.hpp"
#include "engine/layout.hpp"
#include "isletsim/network.hpp"

namespace isletsim::engine {

// Reverse Cuthill-McKee order of the graph (internal index -> original id):
// neighbours get nearby internal indices, so each thread's contiguous share
// of cells has few edges to other threads' cells (little cache-line traffic
// between cores per step). The same order for any thread count.
std::vector<std::uint32_t> rcm_order(const Csr& g);

// The engine's internal order: rcm_order, then within each kernel block the
// cells sorted by degree (stable), so the gather's slices of kSimd cells
// hold cells of similar degree and less of the ELL width is padding.
std::vector<std::uint32_t> cell_order(const Csr& g);

// The equal split of npad cells (a multiple of kSimd) between nt threads:
// cuts[t] = kSimd * (units * t / nt) for t = 0..nt, units = npad / kSimd.
std::vector<std::size_t> equal_cuts(std::size_t npad, unsigned nt);

// A thread's share of the cells.
struct Part {
  std::size_t lo = 0, hi = 0;                             // cells [lo, hi), whole SIMD units
  std::vector<std::pair<std::size_t, std::size_t>> segs;  // [b, e) runs within one block, boundary ones first
  std::size_t n_boundary = 0;                             // how many of segs are boundary runs
  std::vector<unsigned> deps;                             // threads it shares gap junctions with
};

// What thread t needs to know of a split of the cells into contiguous
// shares (cuts[t] .. cuts[t+1], cuts.back() = all cells with padding): its
// cells, its order of work within a stage, and which threads it shares gap
// junctions with. Only coupled variables are read across cells, and only
// when their coefficient is non-zero (coupled = false: no boundary, no
// deps; ell is not read). Every thread computes its own Part from the same
// cuts, so no thread writes what another reads.
Part make_part(const std::vector<std::size_t>& cuts, unsigned t, const SlicedEll& ell, bool coupled);

// What a thread measured between two re-splits of the cells (load balancing).
struct alignas(64) ThreadLoad {
  double busy_s = 0;  // wall time minus time spent waiting for other threads
};

// A new split from what each thread measured since the last one (load[t]
// for t = 0..nt-1). Shares move towards being proportional to each
// thread's speed (cells per busy second), halfway each time (measurements
// are noisy), and only when the predicted gain is above 3%; otherwise (or
// with fewer than 2 SIMD units per thread, or a load that is not > 0) the
// same cuts. scramble (tests): arbitrary cuts drawn from salt instead.
std::vector<std::size_t> balanced_cuts(const std::vector<std::size_t>& cuts, const ThreadLoad* load, bool scramble,
                                       std::uint64_t salt);

}  // namespace isletsim::engine
