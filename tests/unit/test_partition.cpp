// The engine's cell order and split between threads (src/engine/partition.hpp):
// pure functions of the graph, the cuts and the measured loads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "engine/gather.hpp"
#include "engine/partition.hpp"
#include "isletsim/network.hpp"

using namespace isletsim;
using namespace isletsim::engine;

namespace {

// The graph with cell i renamed to label[i] (rows in the new order, each
// row's neighbours in the order of the original row).
Csr relabel(const Csr& g, const std::vector<std::uint32_t>& label) {
  const std::size_t n = g.n_rows();
  std::vector<std::uint32_t> old_of(n);
  for (std::size_t i = 0; i < n; ++i) old_of[label[i]] = static_cast<std::uint32_t>(i);
  Csr r;
  r.row_ptr.push_back(0);
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t i = old_of[j];
    for (std::uint64_t k = g.row_ptr[i]; k < g.row_ptr[i + 1]; ++k) {
      r.col.push_back(label[g.col[k]]);
      r.w.push_back(g.w[k]);
    }
    r.row_ptr.push_back(r.col.size());
  }
  return r;
}

Csr shuffled_lattice(std::size_t nx, std::size_t ny, std::size_t nz, std::uint32_t seed) {
  const Csr g = build_csr(make_lattice(nx, ny, nz));
  std::vector<std::uint32_t> label(g.n_rows());
  std::iota(label.begin(), label.end(), 0u);
  std::mt19937 rng(seed);
  std::shuffle(label.begin(), label.end(), rng);
  return relabel(g, label);
}

bool is_permutation_of_n(const std::vector<std::uint32_t>& order, std::size_t n) {
  if (order.size() != n) return false;
  std::vector<char> seen(n, 0);
  for (std::uint32_t x : order) {
    if (x >= n || seen[x]) return false;
    seen[x] = 1;
  }
  return true;
}

// Largest |pos(i) - pos(j)| over the edges, with the cells in `order`
// (position -> cell id).
std::size_t bandwidth(const Csr& g, const std::vector<std::uint32_t>& order) {
  std::vector<std::size_t> pos(order.size());
  for (std::size_t p = 0; p < order.size(); ++p) pos[order[p]] = p;
  std::size_t bw = 0;
  for (std::size_t i = 0; i < g.n_rows(); ++i)
    for (std::uint64_t k = g.row_ptr[i]; k < g.row_ptr[i + 1]; ++k) {
      const std::size_t a = pos[i], b = pos[g.col[k]];
      bw = std::max(bw, a > b ? a - b : b - a);
    }
  return bw;
}

std::size_t padded(std::size_t n) { return (n + kSimd - 1) / kSimd * kSimd; }

// Cuts are a split of [0, npad) into contiguous whole SIMD units, at least
// one per thread.
void expect_valid_cuts(const std::vector<std::size_t>& cuts, std::size_t npad, std::size_t nt) {
  ASSERT_EQ(cuts.size(), nt + 1);
  EXPECT_EQ(cuts.front(), 0u);
  EXPECT_EQ(cuts.back(), npad);
  for (std::size_t t = 0; t < nt; ++t) {
    EXPECT_EQ(cuts[t + 1] % kSimd, 0u) << "cut " << t + 1;
    EXPECT_GE(cuts[t + 1], cuts[t] + kSimd) << "thread " << t << " has no unit";
  }
}

std::vector<ThreadLoad> loads(std::initializer_list<double> busy) {
  std::vector<ThreadLoad> l;
  for (double b : busy) l.push_back({b});
  return l;
}

}  // namespace

TEST(Partition, RcmOrderIsAPermutationThatNarrowsTheBandwidth) {
  const Csr g = shuffled_lattice(10, 10, 10, 7);
  std::vector<std::uint32_t> identity(g.n_rows());
  std::iota(identity.begin(), identity.end(), 0u);
  const std::size_t shuffled_bw = bandwidth(g, identity);
  const auto order = rcm_order(g);
  ASSERT_TRUE(is_permutation_of_n(order, g.n_rows()));
  const std::size_t rcm_bw = bandwidth(g, order);
  // The unshuffled lattice has bandwidth nx * ny = 100; shuffled, nearly n.
  EXPECT_GT(shuffled_bw, 800u);
  EXPECT_LE(rcm_bw, 200u) << "shuffled " << shuffled_bw;
  // A pure function of the graph.
  EXPECT_EQ(rcm_order(g), order);
}

TEST(Partition, OrdersCoverDisconnectedGraphs) {
  // Two lattices side by side and isolated cells: every cell once.
  Csr g = shuffled_lattice(4, 4, 3, 1);
  const Csr h = shuffled_lattice(3, 3, 3, 2);
  const std::uint32_t off = static_cast<std::uint32_t>(g.n_rows());
  for (std::size_t i = 0; i < h.n_rows(); ++i) {
    for (std::uint64_t k = h.row_ptr[i]; k < h.row_ptr[i + 1]; ++k) g.col.push_back(h.col[k] + off), g.w.push_back(1);
    g.row_ptr.push_back(g.col.size());
  }
  for (int i = 0; i < 5; ++i) g.row_ptr.push_back(g.col.size());
  EXPECT_TRUE(is_permutation_of_n(rcm_order(g), g.n_rows()));
  const auto order = cell_order(g);
  ASSERT_TRUE(is_permutation_of_n(order, g.n_rows()));
  // Within each kernel block, cells by degree.
  const auto degree = [&](std::uint32_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
  for (std::size_t b = 0; b < order.size(); b += kBlock)
    for (std::size_t i = b + 1; i < std::min(order.size(), b + kBlock); ++i)
      EXPECT_LE(degree(order[i - 1]), degree(order[i])) << "block " << b / kBlock;
}

TEST(Partition, EqualCutsCoverAllCellsInWholeUnits) {
  for (std::size_t npad : {8u, 16u, 344u, 1000u, 4096u}) {
    for (unsigned nt = 1; nt <= 6; ++nt) {
      if (npad / kSimd < nt) continue;
      SCOPED_TRACE(testing::Message() << "npad " << npad << ", " << nt << " threads");
      const auto cuts = equal_cuts(npad, nt);
      expect_valid_cuts(cuts, npad, nt);
      // Equal: shares differ by at most one unit.
      std::size_t lo = SIZE_MAX, hi = 0;
      for (unsigned t = 0; t < nt; ++t) {
        lo = std::min(lo, cuts[t + 1] - cuts[t]);
        hi = std::max(hi, cuts[t + 1] - cuts[t]);
      }
      EXPECT_LE(hi - lo, kSimd);
    }
  }
}

TEST(Partition, MakePartSegmentsBoundaryFirstAndSymmetricDeps) {
  // 7 x 7 x 7 = 343 cells: the last SIMD unit has a padding cell.
  const Csr g = shuffled_lattice(7, 7, 7, 3);
  const std::size_t n = g.n_rows(), npad = padded(n);
  const auto perm = cell_order(g);
  std::vector<std::size_t> internal(n);
  for (std::size_t i = 0; i < n; ++i) internal[perm[i]] = i;
  const Layout lay{3 * kBlock};
  const SlicedEll ell = build_ell(g, perm, npad, lay);
  ASSERT_EQ(ell.slices(), npad / kSimd);

  for (unsigned nt : {1u, 2u, 3u, 5u}) {
    for (int scrambled = 0; scrambled <= 1; ++scrambled) {
      std::vector<std::size_t> cuts = equal_cuts(npad, nt);
      if (scrambled) cuts = balanced_cuts(cuts, nullptr, true, 11 * nt);
      expect_valid_cuts(cuts, npad, nt);
      const auto owner = [&](std::size_t cell) {
        return static_cast<unsigned>(std::upper_bound(cuts.begin(), cuts.end(), cell) - cuts.begin() - 1);
      };
      // Independently, from the graph: the slices with an edge to another
      // thread, and the threads each thread shares an edge with.
      std::vector<char> boundary(npad / kSimd, 0);
      std::vector<std::set<unsigned>> linked(nt);
      for (std::size_t i = 0; i < n; ++i)
        for (std::uint64_t k = g.row_ptr[i]; k < g.row_ptr[i + 1]; ++k) {
          const std::size_t a = internal[i], b = internal[g.col[k]];
          if (owner(a) == owner(b)) continue;
          boundary[a / kSimd] = boundary[b / kSimd] = 1;
          linked[owner(a)].insert(owner(b));
          linked[owner(b)].insert(owner(a));
        }
      std::vector<Part> parts;
      for (unsigned t = 0; t < nt; ++t) parts.push_back(make_part(cuts, t, ell, true));
      for (unsigned t = 0; t < nt; ++t) {
        SCOPED_TRACE(testing::Message() << nt << " threads, scrambled " << scrambled << ", thread " << t);
        const Part& p = parts[t];
        EXPECT_EQ(p.lo, cuts[t]);
        EXPECT_EQ(p.hi, cuts[t + 1]);
        std::vector<int> covered(npad, 0);
        for (std::size_t s = 0; s < p.segs.size(); ++s) {
          const auto [b, e] = p.segs[s];
          ASSERT_LT(b, e);
          EXPECT_EQ(b % kSimd, 0u);
          EXPECT_EQ(e % kSimd, 0u);
          EXPECT_EQ(b / kBlock, (e - 1) / kBlock) << "segment [" << b << ", " << e << ") crosses a kernel block";
          for (std::size_t i = b; i < e; ++i) ++covered[i];
          for (std::size_t sl = b / kSimd; sl < e / kSimd; ++sl)
            EXPECT_EQ(boundary[sl], s < p.n_boundary ? 1 : 0) << "segment " << s << ", slice " << sl;
        }
        for (std::size_t i = 0; i < npad; ++i)
          EXPECT_EQ(covered[i], i >= p.lo && i < p.hi ? 1 : 0) << "cell " << i;
        const std::vector<unsigned> want(linked[t].begin(), linked[t].end());
        EXPECT_EQ(p.deps, want);
        for (unsigned u : p.deps) {
          EXPECT_NE(u, t);
          EXPECT_TRUE(std::count(parts[u].deps.begin(), parts[u].deps.end(), t)) << "deps not symmetric: " << u;
        }
        if (nt > 1) {
          EXPECT_FALSE(p.deps.empty());
          EXPECT_GT(p.n_boundary, 0u);
        }
        // Without coupling nothing is shared: no deps, no boundary.
        const Part q = make_part(cuts, t, ell, false);
        EXPECT_TRUE(q.deps.empty());
        EXPECT_EQ(q.n_boundary, 0u);
        std::size_t cells = 0;
        for (const auto& [b, e] : q.segs) cells += e - b;
        EXPECT_EQ(cells, p.hi - p.lo);
      }
    }
  }
}

TEST(Partition, BalancedCutsStayValid) {
  const std::size_t npad = 1000;
  for (unsigned nt = 1; nt <= 7; ++nt) {
    for (std::uint64_t salt = 0; salt < 50; ++salt)
      expect_valid_cuts(balanced_cuts(equal_cuts(npad, nt), nullptr, true, salt), npad, nt);
    // Extreme loads: the slow threads keep at least one unit.
    std::vector<ThreadLoad> l(nt, ThreadLoad{1e-6});
    l[0].busy_s = 1e6;
    auto cuts = equal_cuts(npad, nt);
    for (int i = 0; i < 20; ++i) {
      cuts = balanced_cuts(cuts, l.data(), false, 0);
      expect_valid_cuts(cuts, npad, nt);
    }
  }
  // Fewer than two units per thread: nothing to move.
  const auto tiny = equal_cuts(24, 2);
  EXPECT_EQ(balanced_cuts(tiny, loads({1.0, 5.0}).data(), false, 0), tiny);
}

TEST(Partition, BalancedCutsMoveTowardsSpeedProportionalShares) {
  const std::size_t npad = 1024;
  const auto equal = equal_cuts(npad, 2);
  // Thread 0 twice as slow on the same cells: its speed-proportional share
  // is a third (341 cells); shares move halfway there.
  const auto next = balanced_cuts(equal, loads({2.0, 1.0}).data(), false, 0);
  expect_valid_cuts(next, npad, 2);
  EXPECT_LT(next[1], 512u);
  EXPECT_GT(next[1], 341u);
  EXPECT_NEAR(static_cast<double>(next[1]), (512.0 + 1024.0 / 3) / 2, kSimd);
  // And the other way round.
  const auto other = balanced_cuts(equal, loads({1.0, 2.0}).data(), false, 0);
  EXPECT_GT(other[1], 512u);

  // Repeated with busy times of a fixed cost per cell: converges to shares
  // proportional to speed (1 : 2 : 4).
  const double cost[3] = {4.0, 2.0, 1.0};
  auto cuts = equal_cuts(npad * 7 / 8, 3);  // 896 cells
  for (int i = 0; i < 30; ++i) {
    std::vector<ThreadLoad> l(3);
    for (int t = 0; t < 3; ++t) l[t].busy_s = cost[t] * static_cast<double>(cuts[t + 1] - cuts[t]);
    cuts = balanced_cuts(cuts, l.data(), false, 0);
  }
  EXPECT_NEAR(static_cast<double>(cuts[1] - cuts[0]), 128, 2 * kSimd);
  EXPECT_NEAR(static_cast<double>(cuts[2] - cuts[1]), 256, 2 * kSimd);
  EXPECT_NEAR(static_cast<double>(cuts[3] - cuts[2]), 512, 2 * kSimd);
}

TEST(Partition, BalancedCutsKeepTheSplitBelowThreePercentGain) {
  const std::size_t npad = 1024;
  const auto equal = equal_cuts(npad, 2);
  // 2% slower: predicted gain ~1%, below the threshold.
  EXPECT_EQ(balanced_cuts(equal, loads({1.0, 1.02}).data(), false, 0), equal);
  EXPECT_EQ(balanced_cuts(equal, loads({1.0, 1.0}).data(), false, 0), equal);
  // 10% slower: predicted gain ~5%, the split moves.
  EXPECT_NE(balanced_cuts(equal, loads({1.0, 1.1}).data(), false, 0), equal);
  // No measurement (a thread with no busy time): the same cuts.
  EXPECT_EQ(balanced_cuts(equal, loads({0.0, 1.0}).data(), false, 0), equal);
}

// The coupling gather against a plain loop over the CSR rows, bit for bit:
// coef * sum_k w_k (x[col_k] - x[i]), summed in row order from +0.0. With
// unit weights the gather skips the weights (CouplingGather::gather<M,
// true>); forcing the weighted version on the same graph must give the
// same bits, and so must weights other than 1.
TEST(Partition, GatherMatchesTheCsrSumWithAndWithoutUnitWeights) {
  const Csr lattice = shuffled_lattice(6, 5, 7, 5);  // 210 cells: a padded last unit
  Csr weighted = lattice;
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> wd(0.1, 3.0);
  for (double& w : weighted.w) w = wd(rng);
  for (int kind = 0; kind < 3; ++kind) {  // unit weights, the same forced weighted, real weights
    const Csr& g = kind == 2 ? weighted : lattice;
    const std::size_t n = g.n_rows(), npad = padded(n);
    const auto perm = cell_order(g);
    std::vector<std::size_t> internal(n);
    for (std::size_t i = 0; i < n; ++i) internal[perm[i]] = i;
    const Layout lay{3 * kBlock};  // three state rows; the coupled variable in row 1
    CouplingGather cg;
    cg.ell = build_ell(g, perm, npad, lay);
    EXPECT_EQ(cg.ell.unit, kind != 2) << "kind " << kind;
    if (kind == 1) cg.ell.unit = false;
    cg.var_row[0] = kBlock;
    cg.out_row[0] = 2;
    cg.coef[0] = -1.7;
    cg.on[0] = true;
    StateSet y;
    y.resize(npad, lay);
    std::uniform_real_distribution<double> vd(-70.0, -20.0);
    for (std::size_t i = 0; i < npad; ++i)
      for (int k = 0; k < 3; ++k) y.at(i, k) = vd(rng);
    const auto fn = cg.pick();
    ASSERT_NE(fn, nullptr);
    Scratch sc(std::vector<double>(3, 0.0));
    for (std::size_t b = 0; b < npad; b += kBlock) {
      const std::size_t m = std::min(kBlock, npad - b);
      (cg.*fn)(y.v.data(), b, m, sc);
      for (std::size_t l = 0; l < m && b + l < n; ++l) {
        const std::size_t i = b + l, orig = perm[i];
        double acc = 0.0;
        for (std::uint64_t k = g.row_ptr[orig]; k < g.row_ptr[orig + 1]; ++k) {
          const double d = y.at(internal[g.col[k]], 1) - y.at(i, 1);
          acc = acc + g.w[k] * d;
        }
        const double want = -1.7 * acc, got = sc.row(2)[l];
        EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0)
            << "kind " << kind << " cell " << i << ": " << got << " against " << want;
      }
    }
  }
}
