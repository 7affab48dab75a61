// Calcium waves: onsets close in time and space grouped into waves, their
// origins, initiators, speed and the cells' activation ranks.
//
// Definitions where the field leaves room (docs/analysis.md):
// - Events are (cell, onset) of the kept cells, ordered by (time, cell).
//   Two events are linked when |dt| < wave_dt_s and the distance of their
//   cells < wave_dist_um (no positions: time alone). Events of one cell are
//   never linked to each other.
// - A candidate wave is a connected component of the links over all events.
//   A cell appears once in a wave: its earliest onset in the component; its
//   later onsets there are dropped (they still count as links while the
//   components are formed, and form no wave of their own).
// - Counts: a wave is kept when cells >= wave_min_size * n_kept, and has
//   max(1, ceil(initiator_fraction * cells)) initiators; both products are
//   taken with a 1e-9 allowance so that decimal fractions give the count a
//   person would compute (0.55 * 100 is 55.00000000000001 in binary).
// - Speed: least squares through the origin of distance from the origin
//   against delay over the other cells, sum(d t) / sum(t^2); NaN without
//   positions or when every delay is 0.
// - Waves are ordered by start, ties by origin cell.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {
namespace {

constexpr double kCountSlack = 1e-9;

struct Event {
  double t;
  std::uint32_t cell;
};

// Union-find over events, union by size with path halving. Membership does
// not depend on the order of the unions, so neither do the waves.
struct DisjointSets {
  std::vector<std::uint32_t> parent, size;
  explicit DisjointSets(std::size_t n) : parent(n), size(n, 1) {
    std::iota(parent.begin(), parent.end(), std::uint32_t{0});
  }
  std::uint32_t find(std::uint32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void unite(std::uint32_t a, std::uint32_t b) {
    a = find(a), b = find(b);
    if (a == b) return;
    if (size[a] < size[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
  }
};

std::string sizes_message(const char* what, std::size_t got, std::size_t cells) {
  return std::string("find_waves: ") + what + " has " + std::to_string(got) + " entries, expected " +
         std::to_string(cells) + " (one per cell, as onsets)";
}

void validate(const std::vector<std::vector<double>>& onsets, const std::vector<double>& x,
              const std::vector<double>& y, const std::vector<double>& z, const Options& o,
              const std::vector<std::uint8_t>& excluded) {
  const std::size_t n = onsets.size();
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw InputError("find_waves: " + std::to_string(n) + " cells, at most 2^32 - 1 supported");
  const bool no_positions = x.empty() && y.empty() && z.empty();
  if (!no_positions) {
    if (x.size() != n) throw InputError(sizes_message("x", x.size(), n));
    if (y.size() != n) throw InputError(sizes_message("y", y.size(), n));
    if (z.size() != n) throw InputError(sizes_message("z", z.size(), n));
  }
  if (!excluded.empty() && excluded.size() != n) throw InputError(sizes_message("excluded", excluded.size(), n));
  if (!(o.wave_dt_s > 0) || !std::isfinite(o.wave_dt_s))
    throw InputError("find_waves: wave_dt_s must be a positive number, got " + std::to_string(o.wave_dt_s));
  if (!no_positions && (!(o.wave_dist_um > 0) || !std::isfinite(o.wave_dist_um)))
    throw InputError("find_waves: wave_dist_um must be a positive number, got " + std::to_string(o.wave_dist_um));
  if (!(o.wave_min_size >= 0 && o.wave_min_size <= 1))
    throw InputError("find_waves: wave_min_size must be in [0, 1], got " + std::to_string(o.wave_min_size));
  if (!(o.initiator_fraction >= 0 && o.initiator_fraction <= 1))
    throw InputError("find_waves: initiator_fraction must be in [0, 1], got " +
                     std::to_string(o.initiator_fraction));
  for (std::size_t c = 0; c < n; ++c) {
    if (!excluded.empty() && excluded[c]) continue;
    for (double t : onsets[c])
      if (!std::isfinite(t)) throw InputError("find_waves: cell " + std::to_string(c) + " has a non-finite onset");
    if (!no_positions && !(std::isfinite(x[c]) && std::isfinite(y[c]) && std::isfinite(z[c])))
      throw InputError("find_waves: cell " + std::to_string(c) + " has a non-finite position");
  }
}

// Links the events (sorted by time) into components.
void link_events(const std::vector<Event>& ev, const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& z, const Options& o, DisjointSets& sets) {
  const std::size_t m = ev.size();
  const double dt = o.wave_dt_s;
  if (x.empty()) {
    // Time only: every earlier event in the window is a neighbour.
    std::size_t lo = 0;
    for (std::size_t i = 0; i < m; ++i) {
      while (ev[i].t - ev[lo].t >= dt) ++lo;
      for (std::size_t j = lo; j < i; ++j)
        if (ev[j].cell != ev[i].cell) sets.unite(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
    }
    return;
  }
  // With positions: the neighbour cells of every cell that fires (closer
  // than wave_dist_um) once, from a grid of cubes of that side (neighbours
  // lie in the same or adjacent cubes); then each event looks back over the
  // window's events of its neighbours only. A wave through 100,000 cells
  // keeps tens of thousands of events in the window: comparing with all of
  // them would cost billions of distances.
  const std::size_t n = x.size();
  std::vector<std::uint8_t> fires(n, 0);
  for (const Event& e : ev) fires[e.cell] = 1;
  const double h = o.wave_dist_um, h2 = h * h;
  double lo_x = INFINITY, lo_y = INFINITY, lo_z = INFINITY;
  for (std::size_t c = 0; c < n; ++c)
    if (fires[c]) lo_x = std::min(lo_x, x[c]), lo_y = std::min(lo_y, y[c]), lo_z = std::min(lo_z, z[c]);
  // Cube coordinates 1..kMax relative to the lowest position (room for -1 and
  // +1 in 21 bits); clamping far cubes together keeps neighbours adjacent.
  constexpr std::int64_t kMax = (std::int64_t{1} << 20) - 2;
  const auto coord = [&](double v, double lo) {
    const double q = std::floor((v - lo) / h);
    return q >= static_cast<double>(kMax - 1) ? kMax : static_cast<std::int64_t>(q) + 1;
  };
  const auto key = [](std::int64_t a, std::int64_t b, std::int64_t c) {
    return static_cast<std::uint64_t>(a) << 42 | static_cast<std::uint64_t>(b) << 21 | static_cast<std::uint64_t>(c);
  };
  std::vector<std::pair<std::uint64_t, std::uint32_t>> grid;  // (cube, cell), sorted
  for (std::size_t c = 0; c < n; ++c)
    if (fires[c]) grid.push_back({key(coord(x[c], lo_x), coord(y[c], lo_y), coord(z[c], lo_z)),
                                  static_cast<std::uint32_t>(c)});
  std::sort(grid.begin(), grid.end());
  std::vector<std::size_t> nb_start(n + 1, 0);
  std::vector<std::uint32_t> nb;
  for (std::size_t c = 0; c < n; ++c) {
    if (fires[c]) {
      const std::int64_t bx = coord(x[c], lo_x), by = coord(y[c], lo_y), bz = coord(z[c], lo_z);
      for (std::int64_t ax = bx - 1; ax <= bx + 1; ++ax)
        for (std::int64_t ay = by - 1; ay <= by + 1; ++ay)
          for (std::int64_t az = bz - 1; az <= bz + 1; ++az) {
            const std::uint64_t k = key(ax, ay, az);
            auto it = std::lower_bound(grid.begin(), grid.end(), std::pair<std::uint64_t, std::uint32_t>{k, 0});
            for (; it != grid.end() && it->first == k; ++it) {
              const std::uint32_t d = it->second;
              if (d == c) continue;
              const double dx = x[c] - x[d], dy = y[c] - y[d], dz = z[c] - z[d];
              if (dx * dx + dy * dy + dz * dz < h2) nb.push_back(d);
            }
          }
    }
    nb_start[c + 1] = nb.size();
  }
  // Each cell's events so far, in time order; look back while in the window.
  std::vector<std::vector<std::uint32_t>> seen(n);
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint32_t ci = ev[i].cell;
    for (std::size_t k = nb_start[ci]; k < nb_start[ci + 1]; ++k) {
      const auto& past = seen[nb[k]];
      for (std::size_t q = past.size(); q > 0 && ev[i].t - ev[past[q - 1]].t < dt; --q)
        sets.unite(static_cast<std::uint32_t>(i), past[q - 1]);
    }
    seen[ci].push_back(static_cast<std::uint32_t>(i));
  }
}

// Spearman correlation of the activation orders of the cells common to two
// waves (ranks are distinct, so 1 - 6 sum d^2 / (m (m^2 - 1)) is exact);
// NaN below three common cells. `pos` is scratch (per cell, -1 outside).
double order_correlation(const Wave& a, const Wave& b, std::vector<std::int64_t>& pos) {
  for (std::size_t k = 0; k < b.cells.size(); ++k) pos[b.cells[k]] = static_cast<std::int64_t>(k);
  // Common cells in a's order; their positions in b, re-ranked.
  std::vector<std::int64_t> in_b;
  for (std::uint32_t c : a.cells)
    if (pos[c] >= 0) in_b.push_back(pos[c]);
  for (std::uint32_t c : b.cells) pos[c] = -1;
  const std::size_t m = in_b.size();
  if (m < 3) return NAN;
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) { return in_b[p] < in_b[q]; });
  std::uint64_t d2 = 0;  // sum over common cells of (rank in a - rank in b)^2
  for (std::size_t rb = 0; rb < m; ++rb) {
    const std::int64_t d = static_cast<std::int64_t>(order[rb]) - static_cast<std::int64_t>(rb);
    d2 += static_cast<std::uint64_t>(d * d);
  }
  const double md = static_cast<double>(m);
  return 1.0 - 6.0 * static_cast<double>(d2) / (md * (md * md - 1.0));
}

}  // namespace

WaveResult find_waves(const std::vector<std::vector<double>>& onsets, const std::vector<double>& x,
                      const std::vector<double>& y, const std::vector<double>& z, const Options& o,
                      const std::vector<std::uint8_t>& excluded) {
  validate(onsets, x, y, z, o, excluded);
  const std::size_t n = onsets.size();
  const bool spatial = !x.empty();
  const auto kept = [&](std::size_t c) { return excluded.empty() || !excluded[c]; };

  WaveResult r;
  r.initiated.assign(n, 0);
  r.participated.assign(n, 0);
  r.mean_rank.assign(n, NAN);
  r.rank_sd.assign(n, NAN);

  std::size_t n_kept = 0;
  std::vector<Event> ev;
  for (std::size_t c = 0; c < n; ++c) {
    if (!kept(c)) continue;
    ++n_kept;
    for (double t : onsets[c]) ev.push_back({t, static_cast<std::uint32_t>(c)});
  }
  if (ev.size() > std::numeric_limits<std::uint32_t>::max())
    throw InputError("find_waves: " + std::to_string(ev.size()) + " onsets, at most 2^32 - 1 supported");
  std::sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) {
    return a.t != b.t ? a.t < b.t : a.cell < b.cell;
  });

  DisjointSets sets(ev.size());
  link_events(ev, x, y, z, o, sets);

  // Components numbered in the order of their first event, so waves come out
  // sorted by start (ties: the lower origin cell). Members keep event order.
  const std::size_t m = ev.size();
  std::vector<std::uint32_t> comp_of_root(m, UINT32_MAX), comp(m);
  std::uint32_t n_comp = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint32_t root = sets.find(static_cast<std::uint32_t>(i));
    if (comp_of_root[root] == UINT32_MAX) comp_of_root[root] = n_comp++;
    comp[i] = comp_of_root[root];
  }
  std::vector<std::size_t> start(n_comp + 1, 0);
  for (std::size_t i = 0; i < m; ++i) ++start[comp[i] + 1];
  for (std::uint32_t k = 0; k < n_comp; ++k) start[k + 1] += start[k];
  std::vector<std::uint32_t> members(m);
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < m; ++i) members[fill[comp[i]]++] = static_cast<std::uint32_t>(i);
  }

  const double min_cells = o.wave_min_size * static_cast<double>(n_kept) - kCountSlack;
  std::vector<std::uint32_t> seen(n, UINT32_MAX);  // the component a cell last joined
  for (std::uint32_t k = 0; k < n_comp; ++k) {
    Wave w;
    std::vector<double> times;
    for (std::size_t p = start[k]; p < start[k + 1]; ++p) {
      const Event& e = ev[members[p]];
      if (seen[e.cell] == k) continue;  // a later onset of a cell already in this wave
      seen[e.cell] = k;
      w.cells.push_back(e.cell);
      times.push_back(e.t);
    }
    const std::size_t size = w.cells.size();
    if (size == 0 || static_cast<double>(size) < min_cells) continue;
    w.start_s = times.front();
    w.duration_s = times.back() - times.front();
    w.origin = w.cells.front();
    w.delays_s.resize(size);
    for (std::size_t q = 0; q < size; ++q) w.delays_s[q] = times[q] - w.start_s;
    const double want = std::ceil(o.initiator_fraction * static_cast<double>(size) - kCountSlack);
    const std::size_t n_init = std::min(size, std::max<std::size_t>(1, static_cast<std::size_t>(want)));
    w.initiators.assign(w.cells.begin(), w.cells.begin() + static_cast<std::ptrdiff_t>(n_init));
    w.relative_size = static_cast<double>(size) / static_cast<double>(n_kept);
    if (spatial) {
      // Least-squares speed through the origin: distance = speed * delay.
      const std::uint32_t c0 = w.origin;
      double sdt = 0, stt = 0;
      for (std::size_t q = 1; q < size; ++q) {
        const std::uint32_t c = w.cells[q];
        const double dx = x[c] - x[c0], dy = y[c] - y[c0], dz = z[c] - z[c0];
        const double d = std::sqrt(dx * dx + dy * dy + dz * dz), t = w.delays_s[q];
        sdt += d * t;
        stt += t * t;
      }
      if (stt > 0) w.speed_um_s = sdt / stt;
    }
    r.waves.push_back(std::move(w));
  }

  // Per cell: counts, and the rank statistics in wave order (two passes).
  std::vector<double> rank_sum(n, 0.0), dev_sum(n, 0.0);
  const auto rank_of = [](const Wave& w, std::size_t q) {
    return w.cells.size() > 1 ? static_cast<double>(q) / static_cast<double>(w.cells.size() - 1) : 0.0;
  };
  for (const Wave& w : r.waves) {
    for (std::uint32_t c : w.initiators) ++r.initiated[c];
    for (std::size_t q = 0; q < w.cells.size(); ++q) {
      ++r.participated[w.cells[q]];
      rank_sum[w.cells[q]] += rank_of(w, q);
    }
  }
  for (std::size_t c = 0; c < n; ++c)
    if (r.participated[c] > 0) r.mean_rank[c] = rank_sum[c] / static_cast<double>(r.participated[c]);
  for (const Wave& w : r.waves)
    for (std::size_t q = 0; q < w.cells.size(); ++q) {
      const double d = rank_of(w, q) - r.mean_rank[w.cells[q]];
      dev_sum[w.cells[q]] += d * d;
    }
  for (std::size_t c = 0; c < n; ++c)
    if (r.participated[c] > 0) r.rank_sd[c] = std::sqrt(dev_sum[c] / static_cast<double>(r.participated[c]));

  // Leader consistency: consecutive waves with at least three common cells.
  std::vector<std::int64_t> pos(n, -1);
  double rho_sum = 0;
  std::size_t pairs = 0;
  for (std::size_t k = 0; k + 1 < r.waves.size(); ++k) {
    const double rho = order_correlation(r.waves[k], r.waves[k + 1], pos);
    if (std::isnan(rho)) continue;
    rho_sum += rho;
    ++pairs;
  }
  if (pairs > 0) r.leader_consistency = rho_sum / static_cast<double>(pairs);
  return r;
}

}  // namespace isletsim::analysis
