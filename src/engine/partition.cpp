#include "engine/partition.hpp"

#include <algorithm>
#include <cmath>

namespace isletsim::engine {

namespace {

// Mixes a counter into a well-spread 64-bit value (tests' arbitrary splits).
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<std::uint32_t> rcm_order(const Csr& g) {
  const std::size_t n = g.n_rows();
  std::vector<std::uint32_t> order;
  order.reserve(n);
  std::vector<char> seen(n, 0);
  const auto degree = [&](std::size_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
  std::vector<std::uint32_t> by_degree(n);
  for (std::size_t i = 0; i < n; ++i) by_degree[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(by_degree.begin(), by_degree.end(), [&](auto a, auto b) { return degree(a) < degree(b); });
  std::vector<std::uint32_t> next;
  for (std::uint32_t start : by_degree) {
    if (seen[start]) continue;
    seen[start] = 1;
    std::size_t head = order.size();
    order.push_back(start);
    while (head < order.size()) {
      const std::uint32_t u = order[head++];
      next.clear();
      for (std::uint64_t k = g.row_ptr[u]; k < g.row_ptr[u + 1]; ++k)
        if (!seen[g.col[k]]) seen[g.col[k]] = 1, next.push_back(g.col[k]);
      std::stable_sort(next.begin(), next.end(), [&](auto a, auto b) { return degree(a) < degree(b); });
      order.insert(order.end(), next.begin(), next.end());
    }
  }
  std::reverse(order.begin(), order.end());
  return order;
}

std::vector<std::uint32_t> cell_order(const Csr& g) {
  std::vector<std::uint32_t> perm = rcm_order(g);
  // Default 1000-cell islet: 7496 -> 6256 ELL entries for 5546 edges;
  // Euler step +3%, RK4 +4%. Locality stays that of the RCM order; like it,
  // a pure function of the graph.
  const std::size_t n = perm.size();
  const auto degree = [&](std::uint32_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
  for (std::size_t b = 0; b < n; b += kBlock)
    std::stable_sort(perm.begin() + static_cast<std::ptrdiff_t>(b),
                     perm.begin() + static_cast<std::ptrdiff_t>(std::min(n, b + kBlock)),
                     [&](auto x, auto y) { return degree(x) < degree(y); });
  return perm;
}

std::vector<std::size_t> equal_cuts(std::size_t npad, unsigned nt) {
  const std::size_t units = npad / kSimd;
  std::vector<std::size_t> cuts(nt + 1);
  for (unsigned t = 0; t <= nt; ++t) cuts[t] = kSimd * (units * t / nt);
  return cuts;
}

Part make_part(const std::vector<std::size_t>& cuts, unsigned t, const SlicedEll& ell, bool coupled) {
  const unsigned nt = static_cast<unsigned>(cuts.size() - 1);
  Part part;
  part.lo = cuts[t];
  part.hi = cuts[t + 1];
  const std::size_t slices = cuts.back() / kSimd;
  // Boundary slices of t: a cell in them reads a cell of another thread,
  // or is read by one.
  std::vector<char> boundary(slices, 0), linked(nt, 0);
  if (coupled) {
    const auto owner = [&](std::size_t cell) {
      return static_cast<unsigned>(std::upper_bound(cuts.begin(), cuts.end(), cell) - cuts.begin() - 1);
    };
    for (std::size_t sl = 0; sl < slices; ++sl) {
      const unsigned a = owner(sl * kSimd);
      for (std::uint64_t e = ell.ptr[sl]; e < ell.ptr[sl + 1]; ++e) {
        const std::size_t to = ell.lay.cell_at(static_cast<std::size_t>(ell.col[e]));
        const unsigned b = owner(to);
        if (a == b || (a != t && b != t)) continue;
        linked[a == t ? b : a] = 1;
        boundary[a == t ? sl : to / kSimd] = 1;
      }
    }
    for (unsigned u = 0; u < nt; ++u)
      if (linked[u]) part.deps.push_back(u);
  }
  // Its boundary slices first, then the interior ones, as runs of
  // consecutive slices within one kernel block. After the boundary
  // segments of a stage a thread has written everything its neighbours
  // will read and read everything of theirs it needs, so it signals then
  // (NeighbourSync::arrive) and its neighbours may start the next stage
  // while it computes its interior: small differences in speed between
  // threads (or a thread delayed by the host) no longer stall the others
  // at every stage.
  for (int pass = 1; pass >= 0; --pass) {
    for (std::size_t i = part.lo; i < part.hi; i += kSimd) {
      if (boundary[i / kSimd] != pass) continue;
      auto& seg = part.segs;
      if (!seg.empty() && seg.back().second == i && i % kBlock != 0 && (pass == 1 || seg.size() > part.n_boundary))
        seg.back().second = i + kSimd;
      else
        seg.push_back({i, i + kSimd});
    }
    if (pass == 1) part.n_boundary = part.segs.size();
  }
  return part;
}

// Results do not depend on the split: no cell's arithmetic does (the
// kernel's lanes are independent and every lane computes the same bits;
// the gather works per SIMD unit).
std::vector<std::size_t> balanced_cuts(const std::vector<std::size_t>& cuts, const ThreadLoad* load, bool scramble,
                                       std::uint64_t salt) {
  const std::size_t npad = cuts.back();
  const std::size_t nt = cuts.size() - 1, units = npad / kSimd;
  if (units < 2 * nt) return cuts;
  std::vector<double> share(nt);
  if (scramble) {  // tests: arbitrary cuts
    for (std::size_t t = 0; t < nt; ++t) share[t] = 1.0 + static_cast<double>(splitmix64(salt + t) % 1000);
  } else {
    double slowest = 0, total_speed = 0;
    for (std::size_t t = 0; t < nt; ++t) {
      const double cells = static_cast<double>(cuts[t + 1] - cuts[t]);
      if (!(load[t].busy_s > 0) || cells == 0) return cuts;
      share[t] = cells / load[t].busy_s;
      total_speed += share[t];
      slowest = std::max(slowest, load[t].busy_s);
    }
    // With shares proportional to speed every thread would take
    // (all cells) / (total speed).
    if (slowest < 1.03 * static_cast<double>(npad) / total_speed) return cuts;
    for (std::size_t t = 0; t < nt; ++t) {
      const double now = static_cast<double>(cuts[t + 1] - cuts[t]) / kSimd;
      share[t] = 0.5 * (now + static_cast<double>(units) * share[t] / total_speed);
    }
  }
  double sum = 0;
  for (double x : share) sum += x;
  std::vector<std::size_t> out(nt + 1, 0);
  double acc = 0;
  for (std::size_t t = 0; t < nt; ++t) {
    acc += share[t];
    // At least one unit per thread.
    std::size_t u = static_cast<std::size_t>(std::llround(acc / sum * static_cast<double>(units)));
    u = std::clamp<std::size_t>(u, out[t] / kSimd + 1, units - (nt - 1 - t));
    out[t + 1] = kSimd * u;
  }
  out[nt] = npad;
  return out;
}

}  // namespace isletsim::engine
