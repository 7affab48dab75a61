// Spherical islet generator: a random dense packing of hard spheres, the
// cells nearest the centre kept, touching cells coupled.
//
// Packing method (force-biased overlap removal, as in Jodrey-Tory / soft-sphere
// relaxation): oversample*n centres are drawn uniformly in a cube sized for a
// packing fraction of kPackingFraction, far denser than random sequential
// addition can reach (~0.38). Overlapping pairs are then pushed apart along
// their line of centres until no overlap exceeds a small tolerance, and a
// final uniform rescale about the box centre removes what is left, so no two
// centres are ever closer than one diameter.
//
// Then the n_cells centres nearest the centre of mass are kept, the rare cell
// left without a neighbour is settled against one (settle_isolated), cells
// are numbered by distance to the centre and pairs closer than the contact
// distance coupled. All neighbour searches use a uniform bin grid (BinGrid).
//
// Everything is serial and uses only +, -, *, / and sqrt on doubles (no libm
// transcendental functions, whose last bit may differ between systems), with
// random numbers from CounterRng(seed, sphere index, RngStream::geometry): the
// result depends only on the options (and is bitwise identical wherever
// floating-point contraction is off, as the build sets).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "isletsim/error.hpp"
#include "isletsim/network.hpp"
#include "isletsim/rng.hpp"

namespace isletsim {

namespace {

// Target packing fraction of the initial random placement. Random close
// packing is ~0.64; below ~0.6 the overlap removal converges in a few hundred
// sweeps, and at 0.55 the packing is dense and liquid-like (every interior
// cell has several near-touching neighbours, as cells in an islet do).
constexpr double kPackingFraction = 0.55;
// Stop pushing when the largest overlap is below this fraction of a diameter;
// the final rescale (by at most this fraction) removes the rest.
constexpr double kOverlapTolerance = 2e-3;
constexpr int kMaxRelaxSweeps = 2000;

struct Points {
  std::vector<double> x, y, z;
  std::size_t size() const { return x.size(); }
};

// Uniform grid of cubic bins for neighbour searches. Points are sorted into
// bins by a counting sort (stable, so the visiting order is deterministic) and
// their coordinates copied in bin order for cache-friendly pair loops.
class BinGrid {
 public:
  // `min_bin` is the smallest allowed bin edge: pairs closer than min_bin are
  // always found. Bins are enlarged when needed to keep their number near the
  // number of points (sparse inputs).
  BinGrid(const Points& p, double min_bin) {
    const std::size_t n = p.size();
    double lo[3], hi[3];
    const std::vector<double>* c[3] = {&p.x, &p.y, &p.z};
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::numeric_limits<double>::infinity();
      hi[a] = -lo[a];
      for (double v : *c[a]) {
        lo[a] = std::min(lo[a], v);
        hi[a] = std::max(hi[a], v);
      }
      if (n == 0) lo[a] = hi[a] = 0.0;
    }
    double bin = min_bin;
    const double max_bins = 8.0 * static_cast<double>(n) + 64.0;
    for (;;) {
      double total = 1.0;
      for (int a = 0; a < 3; ++a) total *= std::floor((hi[a] - lo[a]) / bin) + 1.0;
      if (total <= max_bins) break;
      bin *= 1.25;
    }
    for (int a = 0; a < 3; ++a) {
      origin_[a] = lo[a];
      dim_[a] = static_cast<std::size_t>(std::floor((hi[a] - lo[a]) / bin)) + 1;
    }
    inv_bin_ = 1.0 / bin;

    const std::size_t n_bins = dim_[0] * dim_[1] * dim_[2];
    std::vector<std::size_t> bin_of(n);
    start_.assign(n_bins + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      bin_of[i] = bin_index(p.x[i], p.y[i], p.z[i]);
      ++start_[bin_of[i] + 1];
    }
    for (std::size_t b = 0; b < n_bins; ++b) start_[b + 1] += start_[b];
    std::vector<std::size_t> fill(start_.begin(), start_.end() - 1);
    id_.resize(n);
    sx_.resize(n);
    sy_.resize(n);
    sz_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t s = fill[bin_of[i]]++;
      id_[s] = static_cast<std::uint32_t>(i);
      sx_[s] = p.x[i];
      sy_[s] = p.y[i];
      sz_[s] = p.z[i];
    }
  }

  // Point indices in bin order (neighbouring points are close in this order).
  const std::vector<std::uint32_t>& order() const { return id_; }

  // Calls f(i) for every point within `radius` of (x, y, z) as the grid was
  // built, and for some farther ones: callers test distances themselves.
  template <class F>
  void for_each_near(double x, double y, double z, double radius, F&& f) const {
    const double v[3] = {x, y, z};
    std::size_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = bin_coord(v[a] - radius, a);
      hi[a] = bin_coord(v[a] + radius, a);
    }
    for (std::size_t bz = lo[2]; bz <= hi[2]; ++bz)
      for (std::size_t by = lo[1]; by <= hi[1]; ++by)
        for (std::size_t bx = lo[0]; bx <= hi[0]; ++bx) {
          const std::size_t b = bx + dim_[0] * (by + dim_[1] * bz);
          for (std::size_t s = start_[b]; s < start_[b + 1]; ++s) f(id_[s]);
        }
  }

  // Calls f(i, j, dx, dy, dz, r2) once for every unordered pair of distinct
  // points closer than `cutoff` (cutoff <= min_bin), with d = p[i] - p[j].
  template <class F>
  void for_each_pair(double cutoff, F&& f) const {
    const double c2 = cutoff * cutoff;
    for (std::size_t bz = 0; bz < dim_[2]; ++bz)
      for (std::size_t by = 0; by < dim_[1]; ++by)
        for (std::size_t bx = 0; bx < dim_[0]; ++bx) {
          const std::size_t b = bx + dim_[0] * (by + dim_[1] * bz);
          // Each pair of bins once: the bin itself, then neighbours with a
          // larger linear index (the "half shell").
          for (int oz = -1; oz <= 1; ++oz)
            for (int oy = -1; oy <= 1; ++oy)
              for (int ox = -1; ox <= 1; ++ox) {
                const std::size_t nx = bx + ox, ny = by + oy, nz = bz + oz;  // wraps if < 0
                if (nx >= dim_[0] || ny >= dim_[1] || nz >= dim_[2]) continue;
                const std::size_t nb = nx + dim_[0] * (ny + dim_[1] * nz);
                if (nb < b) continue;
                for (std::size_t s = start_[b]; s < start_[b + 1]; ++s) {
                  const std::size_t t0 = nb == b ? s + 1 : start_[nb];
                  for (std::size_t t = t0; t < start_[nb + 1]; ++t) {
                    const double dx = sx_[s] - sx_[t], dy = sy_[s] - sy_[t], dz = sz_[s] - sz_[t];
                    const double r2 = dx * dx + dy * dy + dz * dz;
                    if (r2 < c2) f(id_[s], id_[t], dx, dy, dz, r2);
                  }
                }
              }
        }
  }

 private:
  // Bin coordinate of v along axis a, clamped to the grid.
  std::size_t bin_coord(double v, int a) const {
    const double t = (v - origin_[a]) * inv_bin_;
    return t <= 0.0 ? 0 : std::min(dim_[a] - 1, static_cast<std::size_t>(t));
  }
  std::size_t bin_index(double x, double y, double z) const {
    return bin_coord(x, 0) + dim_[0] * (bin_coord(y, 1) + dim_[1] * bin_coord(z, 2));
  }

  double origin_[3];
  std::size_t dim_[3];
  double inv_bin_;
  std::vector<std::size_t> start_;  // bin b holds sorted slots start_[b] .. start_[b+1]-1
  std::vector<std::uint32_t> id_;   // point index of each sorted slot
  std::vector<double> sx_, sy_, sz_;
};

// Cube root by Newton's method from a power-of-two first guess, so that the
// box size (and with it every position) does not depend on the C library's
// cbrt. v > 0.
double cube_root(double v) {
  int e = 0;
  std::frexp(v, &e);  // v = m * 2^e, 0.5 <= m < 1
  double y = std::ldexp(1.0, e / 3);
  for (int k = 0; k < 12; ++k) y = (2.0 * y + v / (y * y)) / 3.0;
  return y;
}

// Random placement of n centres in [d/2, side - d/2]^3 followed by overlap
// removal; returns centres at least d apart.
Points pack_spheres(std::size_t n, double d, std::uint64_t seed) {
  const double sphere_volume = 3.141592653589793 / 6.0 * d * d * d;
  const double side = cube_root(static_cast<double>(n) * sphere_volume / kPackingFraction) + d;
  const double lo = 0.5 * d, hi = side - 0.5 * d;

  Points drawn;
  drawn.x.resize(n);
  drawn.y.resize(n);
  drawn.z.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    CounterRng rng(seed, i, static_cast<std::uint32_t>(RngStream::geometry));
    drawn.x[i] = lo + (hi - lo) * rng.uniform();
    drawn.y[i] = lo + (hi - lo) * rng.uniform();
    drawn.z[i] = lo + (hi - lo) * rng.uniform();
  }
  // Renumber the points in bin order so that the pair loops below touch
  // nearby memory (several times faster for large packings).
  Points p;
  const BinGrid initial(drawn, d);
  for (const std::uint32_t i : initial.order()) {
    p.x.push_back(drawn.x[i]);
    p.y.push_back(drawn.y[i]);
    p.z.push_back(drawn.z[i]);
  }

  // Jacobi sweeps: every overlapping pair contributes half its overlap to
  // each partner's displacement, then all points move at once (so the result
  // does not depend on a visiting order) and are clamped into the box.
  // Candidate pairs come from a Verlet list (pairs closer than d + skin),
  // rebuilt only once some point has moved more than skin/2 since the last
  // build, so no pair closer than d can be missing from it.
  const double skin = 0.3 * d, reach = d + skin;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  Points at_build;
  bool rebuild = true;
  std::vector<double> mx(n), my(n), mz(n);
  for (int sweep = 0; sweep < kMaxRelaxSweeps; ++sweep) {
    if (rebuild) {
      pairs.clear();
      BinGrid(p, reach).for_each_pair(
          reach, [&](std::uint32_t i, std::uint32_t j, double, double, double, double) {
            pairs.emplace_back(i, j);
          });
      at_build = p;
      rebuild = false;
    }
    std::fill(mx.begin(), mx.end(), 0.0);
    std::fill(my.begin(), my.end(), 0.0);
    std::fill(mz.begin(), mz.end(), 0.0);
    double max_overlap = 0.0;
    for (const auto& [i, j] : pairs) {
      const double dx = p.x[i] - p.x[j], dy = p.y[i] - p.y[j], dz = p.z[i] - p.z[j];
      const double r2 = dx * dx + dy * dy + dz * dz;
      if (r2 >= d * d) continue;
      const double r = std::sqrt(r2);
      max_overlap = std::max(max_overlap, d - r);
      if (r == 0.0) {  // coincident centres (practically never): split along x
        mx[i] += 0.5 * d;
        mx[j] -= 0.5 * d;
        continue;
      }
      const double s = 0.5 * (d - r) / r;
      mx[i] += s * dx;
      my[i] += s * dy;
      mz[i] += s * dz;
      mx[j] -= s * dx;
      my[j] -= s * dy;
      mz[j] -= s * dz;
    }
    if (max_overlap < kOverlapTolerance * d) break;
    for (std::size_t i = 0; i < n; ++i) {
      p.x[i] = std::clamp(p.x[i] + mx[i], lo, hi);
      p.y[i] = std::clamp(p.y[i] + my[i], lo, hi);
      p.z[i] = std::clamp(p.z[i] + mz[i], lo, hi);
      const double ex = p.x[i] - at_build.x[i], ey = p.y[i] - at_build.y[i],
                   ez = p.z[i] - at_build.z[i];
      if (ex * ex + ey * ey + ez * ez > 0.25 * skin * skin) rebuild = true;
    }
  }

  // Rescale about the box centre so that the closest pair is (just over) one
  // diameter apart. The factor is at most 1 + kOverlapTolerance after
  // convergence; it is larger only if the sweeps ran out, and then still
  // guarantees non-overlap.
  double min_r2 = d * d;
  BinGrid(p, d).for_each_pair(d, [&](std::uint32_t, std::uint32_t, double, double, double, double r2) {
    min_r2 = std::min(min_r2, r2);
  });
  if (min_r2 < d * d) {
    const double scale = min_r2 > 0.0 ? d / std::sqrt(min_r2) * (1.0 + 1e-12) : 2.0;
    const double mid = 0.5 * side;
    for (std::size_t i = 0; i < n; ++i) {
      p.x[i] = mid + (p.x[i] - mid) * scale;
      p.y[i] = mid + (p.y[i] - mid) * scale;
      p.z[i] = mid + (p.z[i] - mid) * scale;
    }
  }
  return p;
}

void check_sphere_options(const SphereOptions& opt) {
  const auto bad = [](const std::string& what) { throw InputError("sphere network: " + what); };
  if (opt.n_cells == 0) bad("n_cells must be at least 1");
  if (!(opt.cell_diameter_um > 0.0) || !std::isfinite(opt.cell_diameter_um))
    bad("cell_diameter_um must be a positive number, got " + std::to_string(opt.cell_diameter_um));
  if (!(opt.contact_factor > 1.0) || !std::isfinite(opt.contact_factor))
    bad("contact_factor must be > 1 (cells are at least one diameter apart, so a smaller factor "
        "couples nothing), got " + std::to_string(opt.contact_factor));
  if (!(opt.oversample >= 1.0) || !std::isfinite(opt.oversample))
    bad("oversample must be >= 1 (cells are kept from oversample * n_cells packed spheres), got " +
        std::to_string(opt.oversample));
  const double packed = std::ceil(opt.oversample * static_cast<double>(opt.n_cells));
  if (packed > static_cast<double>(std::numeric_limits<std::uint32_t>::max()))
    bad("oversample * n_cells = " + std::to_string(packed) + " spheres is too many (at most " +
        std::to_string(std::numeric_limits<std::uint32_t>::max()) + ")");
}

using Edge = std::pair<std::uint32_t, std::uint32_t>;

// Pairs of points closer than `contact`, as (i, j) with i < j, sorted.
std::vector<Edge> contact_pairs(const Points& p, double contact) {
  std::vector<Edge> edges;
  BinGrid(p, contact).for_each_pair(
      contact, [&](std::uint32_t i, std::uint32_t j, double, double, double, double) {
        edges.emplace_back(std::min(i, j), std::max(i, j));
      });
  std::sort(edges.begin(), edges.end());
  return edges;
}

double dist2(const Points& p, std::size_t i, double x, double y, double z) {
  const double dx = p.x[i] - x, dy = p.y[i] - y, dz = p.z[i] - z;
  return dx * dx + dy * dy + dz * dz;
}

// Cells in an islet adhere to their neighbours, but a packing leaves a few
// cells without any neighbour inside the contact distance: mostly surface
// cells whose neighbours were cut away, rarely an interior "rattler" in a
// loose cage (about 1 cell in 1000 with the default options). Each such cell
// (in id order) is moved along the line to its nearest cell within two
// contact distances (then the next nearest, ...) until it sits halfway between
// one diameter and the contact distance from it, provided that overlaps no
// other cell. A cell that cannot be placed so stays isolated.
void settle_isolated(Points& p, double d, double contact) {
  const std::size_t n = p.size();
  std::vector<unsigned> degree(n, 0);
  for (const auto& [i, j] : contact_pairs(p, contact)) {
    ++degree[i];
    ++degree[j];
  }
  // The grid holds the positions before any move; a query widened by the
  // largest move so far still finds every cell near a point.
  const BinGrid grid(p, contact);
  double max_move = 0.0;
  const double target = 0.5 * (d + contact), reach = 2.0 * contact;
  std::vector<std::pair<double, std::uint32_t>> anchors;
  std::vector<std::uint32_t> touched;  // cells within contact of a new place
  for (std::size_t k = 0; k < n; ++k) {
    if (degree[k] != 0) continue;
    anchors.clear();
    grid.for_each_near(p.x[k], p.y[k], p.z[k], reach + max_move, [&](std::uint32_t q) {
      const double r2 = dist2(p, q, p.x[k], p.y[k], p.z[k]);
      if (q != k && r2 < reach * reach) anchors.emplace_back(r2, q);
    });
    std::sort(anchors.begin(), anchors.end());
    for (const auto& [r2, q] : anchors) {
      const double r = std::sqrt(r2), f = target / r;
      const double x = p.x[q] + (p.x[k] - p.x[q]) * f, y = p.y[q] + (p.y[k] - p.y[q]) * f,
                   z = p.z[q] + (p.z[k] - p.z[q]) * f;
      bool free = true;
      touched.clear();
      grid.for_each_near(x, y, z, contact + max_move, [&](std::uint32_t o) {
        if (o == k) return;
        const double s2 = dist2(p, o, x, y, z);
        if (s2 < d * d) free = false;
        if (s2 < contact * contact) touched.push_back(o);
      });
      if (!free) continue;
      p.x[k] = x;
      p.y[k] = y;
      p.z[k] = z;
      max_move = std::max(max_move, r - target);
      degree[k] = static_cast<unsigned>(touched.size());
      for (const std::uint32_t o : touched) ++degree[o];
      break;
    }
  }
}

}  // namespace

Network make_sphere(const SphereOptions& opt) {
  check_sphere_options(opt);
  const double d = opt.cell_diameter_um, contact = opt.contact_factor * d;
  const auto n_packed = std::max(
      opt.n_cells, static_cast<std::size_t>(std::ceil(opt.oversample * static_cast<double>(opt.n_cells))));
  const Points all = pack_spheres(n_packed, d, opt.seed);

  // Centre of mass of the whole packing.
  double cx = 0.0, cy = 0.0, cz = 0.0;
  for (std::size_t i = 0; i < n_packed; ++i) {
    cx += all.x[i];
    cy += all.y[i];
    cz += all.z[i];
  }
  cx /= static_cast<double>(n_packed);
  cy /= static_cast<double>(n_packed);
  cz /= static_cast<double>(n_packed);

  // Keep the n_cells nearest the centre ((distance, index) is a strict
  // order, so the selection is deterministic), coordinates relative to it.
  std::vector<std::pair<double, std::uint32_t>> by_dist(n_packed);
  for (std::size_t i = 0; i < n_packed; ++i)
    by_dist[i] = {dist2(all, i, cx, cy, cz), static_cast<std::uint32_t>(i)};
  const auto keep_end = by_dist.begin() + static_cast<std::ptrdiff_t>(opt.n_cells);
  std::nth_element(by_dist.begin(), keep_end - 1, by_dist.end());
  std::sort(by_dist.begin(), keep_end);
  Points kept;
  for (auto it = by_dist.begin(); it != keep_end; ++it) {
    kept.x.push_back(all.x[it->second] - cx);
    kept.y.push_back(all.y[it->second] - cy);
    kept.z.push_back(all.z[it->second] - cz);
  }
  settle_isolated(kept, d, contact);

  // Number the cells by distance to the centre (ties by the order above), so
  // cell 0 is the most central; settling may have moved a few.
  std::vector<std::pair<double, std::uint32_t>> order(opt.n_cells);
  for (std::size_t k = 0; k < opt.n_cells; ++k)
    order[k] = {dist2(kept, k, 0.0, 0.0, 0.0), static_cast<std::uint32_t>(k)};
  std::sort(order.begin(), order.end());
  Network net;
  for (const auto& [r2, k] : order) {
    net.x.push_back(kept.x[k]);
    net.y.push_back(kept.y[k]);
    net.z.push_back(kept.z[k]);
  }

  // Couple every pair closer than the contact distance, weight 1.
  for (const auto& [i, j] : contact_pairs(Points{net.x, net.y, net.z}, contact)) {
    net.edge_i.push_back(i);
    net.edge_j.push_back(j);
  }
  net.edge_w.assign(net.edge_i.size(), 1.0);
  return net;
}

}  // namespace isletsim
