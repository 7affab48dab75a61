// The coupling gather alone (issue 13, item 5): CouplingGather on the
// default islet's network (1000 cells, the default sphere), in the engine's
// cell order and state layout (7 state rows, the membrane potential in row
// 0), every block of cells per pass, 20,000 passes per timing. Times the
// unit-weight version (the sphere's contacts all weigh 1: the weights are
// not read) and the weighted one (CSV networks) alternately, 15 times each
// in one process, and prints min and median ns per cell for both: a ratio
// measured in the same run. Pin it (taskset -c 1 build/gather_bench).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "engine/gather.hpp"
#include "engine/partition.hpp"
#include "isletsim/network.hpp"

using namespace isletsim;
using namespace isletsim::engine;

int main() {
  const Csr g = build_csr(make_sphere(SphereOptions{}));
  const std::size_t n = g.n_rows(), npad = (n + kSimd - 1) / kSimd * kSimd;
  const auto perm = cell_order(g);
  const Layout lay{7 * kBlock};
  CouplingGather unit, weighted;
  unit.ell = build_ell(g, perm, npad, lay);
  weighted.ell = unit.ell;
  weighted.ell.unit = false;
  for (CouplingGather* c : {&unit, &weighted}) {
    c->var_row[0] = 0;
    c->out_row[0] = 40;
    c->coef[0] = -1.0;
    c->on[0] = true;
  }
  std::printf("network: %zu cells, %.2f sliced-ELL entries per cell, unit weights: %s\n", n,
              static_cast<double>(unit.ell.ptr.back()) / static_cast<double>(npad), unit.ell.unit ? "yes" : "no");
  StateSet y;
  y.resize(npad, lay);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> dist(-70.0, -20.0);
  for (double& x : y.v) x = dist(rng);
  Scratch sc(std::vector<double>(48, 0.0));
  constexpr int kReps = 15, kPasses = 20000;
  std::vector<double> t[2];
  for (int rep = 0; rep < kReps; ++rep)
    for (int k = 0; k < 2; ++k) {
      const CouplingGather& c = k == 0 ? unit : weighted;
      const CouplingGather::Fn f = c.pick();
      const auto t0 = std::chrono::steady_clock::now();
      for (int pass = 0; pass < kPasses; ++pass)
        for (std::size_t b = 0; b < npad; b += kBlock) (c.*f)(y.v.data(), b, std::min(kBlock, npad - b), sc);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      t[k].push_back(s * 1e9 / (static_cast<double>(kPasses) * static_cast<double>(npad)));
    }
  for (auto& v : t) std::sort(v.begin(), v.end());
  std::printf("gather, unit weights: min %.2f, median %.2f ns per cell\n", t[0][0], t[0][kReps / 2]);
  std::printf("gather, weighted:     min %.2f, median %.2f ns per cell\n", t[1][0], t[1][kReps / 2]);
  return 0;
}
