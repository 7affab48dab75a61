// The functional network: thresholding a similarity matrix, the network's
// measures (igraph's C library, defined as networkx defines them, so results
// can be checked against and compared with the Python tools of the field) and
// its comparison with the structural (gap-junction) network.
#include <igraph.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>

#include "isletsim/analysis.hpp"
#include "analysis/signal_detail.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {

using detail::num;

namespace {

void check_excluded(const std::vector<std::uint8_t>& excluded, std::size_t cells, const char* what) {
  if (!excluded.empty() && excluded.size() != cells)
    throw InputError(std::string(what) + ": the exclusion mask has " + std::to_string(excluded.size()) +
                     " entries for " + std::to_string(cells) + " cells (expected one per cell, or none)");
}

void check_sim(const std::vector<double>& sim, std::size_t cells, const char* what) {
  if (sim.size() != cells * cells)
    throw InputError(std::string(what) + ": the similarity matrix has " + std::to_string(sim.size()) +
                     " entries, expected cells x cells = " + std::to_string(cells) + " x " + std::to_string(cells));
}

bool kept(const std::vector<std::uint8_t>& excluded, std::size_t c) { return excluded.empty() || !excluded[c]; }

// ---------------------------------------------------------------- igraph plumbing
// Debian's igraph is built without thread-local state: the error handler, the
// default RNG and igraph's clean-up stack are process globals. One session at a
// time holds them: errors come back as codes (the default handler aborts the
// process), warnings are silenced, and the RNG is a private PCG32 seeded from
// Options::seed, so results depend on the seed only (not on igraph's default
// generator, nor on whatever else used it before).
std::mutex igraph_mutex;

class IgraphSession {
 public:
  explicit IgraphSession(std::uint64_t seed) : lock_(igraph_mutex) {
    old_error_ = igraph_set_error_handler(igraph_error_handler_ignore);
    old_warning_ = igraph_set_warning_handler(igraph_warning_handler_ignore);
    if (igraph_rng_init(&rng_, &igraph_rngtype_pcg32) != IGRAPH_SUCCESS) {
      restore_handlers();
      throw std::runtime_error("igraph: cannot create a random number generator");
    }
    // igraph_rng_set_default copies the struct it is given into igraph's
    // global: keep the old one by value, and seed the global itself (seeding
    // rng_ would leave the copy's "seeded" flag unset, and igraph would then
    // reseed it from the clock at its first draw).
    saved_rng_ = *igraph_rng_default();
    igraph_rng_set_default(&rng_);
    reseed(seed);
  }
  ~IgraphSession() {
    igraph_rng_set_default(&saved_rng_);
    igraph_rng_destroy(&rng_);
    restore_handlers();
  }
  IgraphSession(const IgraphSession&) = delete;
  IgraphSession& operator=(const IgraphSession&) = delete;
  void reseed(std::uint64_t seed) { igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed)); }

 private:
  void restore_handlers() {
    igraph_set_error_handler(old_error_);
    igraph_set_warning_handler(old_warning_);
  }
  std::lock_guard<std::mutex> lock_;
  igraph_error_handler_t* old_error_ = nullptr;
  igraph_warning_handler_t* old_warning_ = nullptr;
  igraph_rng_t rng_{};
  igraph_rng_t saved_rng_{};
};

void check(igraph_error_t e, const char* what) {
  if (e != IGRAPH_SUCCESS) throw std::runtime_error(std::string("igraph: ") + what + " failed: " + igraph_strerror(e));
}

// RAII owners of igraph objects (destroyed on every path, errors included).
struct Vec {
  igraph_vector_t v;
  Vec() { check(igraph_vector_init(&v, 0), "vector_init"); }
  ~Vec() { igraph_vector_destroy(&v); }
  Vec(const Vec&) = delete;
  Vec& operator=(const Vec&) = delete;
  double operator[](std::size_t k) const { return VECTOR(v)[k]; }
};
struct IntVec {
  igraph_vector_int_t v;
  IntVec() { check(igraph_vector_int_init(&v, 0), "vector_int_init"); }
  ~IntVec() { igraph_vector_int_destroy(&v); }
  IntVec(const IntVec&) = delete;
  IntVec& operator=(const IntVec&) = delete;
  igraph_integer_t operator[](std::size_t k) const { return VECTOR(v)[k]; }
};
struct IGraph {
  igraph_t g;
  // An undirected graph of n vertices and the edges (a0, b0, a1, b1, ...).
  IGraph(std::size_t n, const std::vector<igraph_integer_t>& ends) {
    igraph_vector_int_t view;
    igraph_vector_int_view(&view, ends.data(), static_cast<igraph_integer_t>(ends.size()));
    check(igraph_create(&g, &view, static_cast<igraph_integer_t>(n), IGRAPH_UNDIRECTED), "create");
  }
  // A G(n, m) random graph from the session's RNG.
  struct Gnm {};
  IGraph(Gnm, std::size_t n, std::size_t m) {
    check(igraph_erdos_renyi_game_gnm(&g, static_cast<igraph_integer_t>(n), static_cast<igraph_integer_t>(m),
                                      IGRAPH_UNDIRECTED, IGRAPH_NO_LOOPS),
          "erdos_renyi_game_gnm");
  }
  ~IGraph() { igraph_destroy(&g); }
  IGraph(const IGraph&) = delete;
  IGraph& operator=(const IGraph&) = delete;
};

}  // namespace

// ---------------------------------------------------------------- thresholds

Graph threshold_graph(const std::vector<double>& sim, std::size_t cells, double threshold,
                      const std::vector<std::uint8_t>& excluded) {
  check_sim(sim, cells, "threshold_graph");
  check_excluded(excluded, cells, "threshold_graph");
  if (std::isnan(threshold)) throw InputError("threshold_graph: the threshold is NaN (expected a similarity value)");
  Graph g;
  g.n = cells;
  for (std::size_t a = 0; a < cells; ++a) {
    if (!kept(excluded, a)) continue;
    for (std::size_t b = a + 1; b < cells; ++b)
      if (kept(excluded, b) && sim[a * cells + b] >= threshold) {
        g.i.push_back(static_cast<std::uint32_t>(a));
        g.j.push_back(static_cast<std::uint32_t>(b));
      }
  }
  return g;
}

double threshold_for_degree(const std::vector<double>& sim, std::size_t cells, double k_avg, double tol,
                            const std::vector<std::uint8_t>& excluded) {
  check_sim(sim, cells, "threshold_for_degree");
  check_excluded(excluded, cells, "threshold_for_degree");
  if (!(tol >= 0))
    throw InputError("analysis.k_tolerance = " + num(tol) +
                     ": expected a number >= 0 (how far the achieved average degree may be from analysis.k_avg)");
  std::vector<std::size_t> keep;
  for (std::size_t c = 0; c < cells; ++c)
    if (kept(excluded, c)) keep.push_back(c);
  const std::size_t n = keep.size();
  // Named as the option that asks for it (--k-avg sets it), with the average
  // degrees the analysed cells allow: 2 / n (one edge) to n - 1 (every pair).
  const std::string asked = "analysis.k_avg = " + num(k_avg);
  const std::string analysed = std::to_string(n) + " analysed cell" + (n == 1 ? "" : "s") +
                               (n < cells ? " (" + std::to_string(cells - n) + " of the " + std::to_string(cells) +
                                                " cells excluded as flat or broken traces)"
                                          : std::string());
  if (!(k_avg > 0) || !std::isfinite(k_avg))
    throw InputError(asked + ": expected a finite number > 0 (the average degree of the functional network)");
  if (n < 2)
    throw InputError(asked + " cannot be reached with " + analysed + ": a functional network needs at least 2");
  const double n_pairs = 0.5 * static_cast<double>(n) * (static_cast<double>(n) - 1);
  const double edges = std::round(k_avg * static_cast<double>(n) / 2);
  const std::string range = ": expected an average degree from " + num(2.0 / double(n)) + " (a single edge) to " +
                            std::to_string(n - 1) + " (every pair of cells connected); give a ";
  if (edges > n_pairs)
    throw InputError(asked + " cannot be reached with " + analysed + range +
                     "smaller analysis.k_avg or a fixed analysis.threshold");
  if (edges < 1)
    throw InputError(asked + " is below the smallest average degree " + analysed + " can have" + range +
                     "larger analysis.k_avg or a fixed analysis.threshold");
  std::vector<double> pairs;
  pairs.reserve(static_cast<std::size_t>(n_pairs));
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) {
      const double s = sim[keep[a] * cells + keep[b]];
      if (std::isnan(s))
        throw InputError("threshold_for_degree: the similarity of cells " + std::to_string(keep[a]) + " and " +
                         std::to_string(keep[b]) + " is NaN (expected numbers for every pair of analysed cells)");
      pairs.push_back(s);
    }
  const auto e = static_cast<std::size_t>(edges);
  std::nth_element(pairs.begin(), pairs.begin() + static_cast<std::ptrdiff_t>(e - 1), pairs.end(),
                   std::greater<double>());
  const double threshold = pairs[e - 1];
  const auto at_or_above = static_cast<std::size_t>(
      std::count_if(pairs.begin(), pairs.end(), [&](double s) { return s >= threshold; }));
  const double achieved = 2.0 * static_cast<double>(at_or_above) / static_cast<double>(n);
  if (std::abs(achieved - k_avg) > tol) {
    const auto tied = std::count(pairs.begin(), pairs.end(), threshold);
    throw InputError(asked + ": a threshold of " + num(threshold) + " (" + std::to_string(tied) +
                     " pairs tied at that similarity) gives average degree " + num(achieved) + ", not " + num(k_avg) +
                     " within analysis.k_tolerance = " + num(tol) +
                     "; give a fixed analysis.threshold or a larger analysis.k_tolerance");
  }
  return threshold;
}

// ---------------------------------------------------------------- network measures

NetworkMeasures network_measures(const Graph& g, const std::vector<std::uint8_t>& excluded, const Options& o,
                                 const std::vector<double>& x, const std::vector<double>& y,
                                 const std::vector<double>& z) {
  const std::size_t n_all = g.n;
  check_excluded(excluded, n_all, "network_measures");
  if (g.i.size() != g.j.size())
    throw InputError("network_measures: the graph has " + std::to_string(g.i.size()) + " edge starts and " +
                     std::to_string(g.j.size()) + " edge ends (expected as many)");
  const bool positions = !(x.empty() && y.empty() && z.empty());
  if (positions && (x.size() != n_all || y.size() != n_all || z.size() != n_all))
    throw InputError("network_measures: positions x, y, z have " + std::to_string(x.size()) + ", " +
                     std::to_string(y.size()) + ", " + std::to_string(z.size()) + " entries for " +
                     std::to_string(n_all) + " cells (expected one per cell, or none)");
  if (!(o.hub_fraction >= 0 && o.hub_fraction <= 1))
    throw InputError("network_measures: hub_fraction must be between 0 and 1, got " + num(o.hub_fraction));

  // The graph on the kept cells only (vertex v is cell cell_of[v]); edges
  // touching an excluded cell have no place in it. Duplicates merge, as in a
  // networkx Graph.
  std::vector<std::size_t> cell_of;
  std::vector<std::int64_t> vertex_of(n_all, -1);
  for (std::size_t c = 0; c < n_all; ++c)
    if (kept(excluded, c)) {
      vertex_of[c] = static_cast<std::int64_t>(cell_of.size());
      cell_of.push_back(c);
    }
  const std::size_t n = cell_of.size();
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  edges.reserve(g.i.size());
  for (std::size_t e = 0; e < g.i.size(); ++e) {
    const std::uint32_t a = std::min(g.i[e], g.j[e]), b = std::max(g.i[e], g.j[e]);
    if (b >= n_all)
      throw InputError("network_measures: edge (" + std::to_string(g.i[e]) + ", " + std::to_string(g.j[e]) +
                       ") names a cell beyond the graph's " + std::to_string(n_all));
    if (a == b)
      throw InputError("network_measures: edge (" + std::to_string(a) + ", " + std::to_string(b) +
                       ") is a self-loop (expected edges between two cells)");
    if (vertex_of[a] >= 0 && vertex_of[b] >= 0) edges.emplace_back(a, b);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  const std::size_t m = edges.size();

  NetworkMeasures r;
  r.degree.assign(n_all, NAN);
  r.normalized_degree.assign(n_all, NAN);
  r.clustering.assign(n_all, NAN);
  r.betweenness.assign(n_all, NAN);
  r.closeness.assign(n_all, NAN);
  r.hub.assign(n_all, 0);
  r.community.assign(n_all, -1);
  if (positions && m > 0) {
    double sum = 0;
    for (const auto& [a, b] : edges) {
      const double dx = x[a] - x[b], dy = y[a] - y[b], dz = z[a] - z[b];
      sum += std::sqrt(dx * dx + dy * dy + dz * dz);
    }
    r.mean_edge_length_um = sum / static_cast<double>(m);
  }
  if (n == 0) return r;

  std::vector<igraph_integer_t> ends;
  ends.reserve(2 * m);
  std::vector<double> degree(n, 0.0);
  for (const auto& [a, b] : edges) {
    ends.push_back(vertex_of[a]);
    ends.push_back(vertex_of[b]);
    ++degree[static_cast<std::size_t>(vertex_of[a])];
    ++degree[static_cast<std::size_t>(vertex_of[b])];
  }
  const double nd = static_cast<double>(n);
  const double max_degree = *std::max_element(degree.begin(), degree.end());

  IgraphSession session(o.seed);
  IGraph graph(n, ends);
  const igraph_t* G = &graph.g;

  Vec clustering, betweenness, closeness;
  IntVec reach;
  check(igraph_transitivity_local_undirected(G, &clustering.v, igraph_vss_all(), IGRAPH_TRANSITIVITY_ZERO),
        "transitivity_local_undirected");
  check(igraph_betweenness(G, &betweenness.v, igraph_vss_all(), IGRAPH_UNDIRECTED, nullptr), "betweenness");
  check(igraph_closeness(G, &closeness.v, &reach.v, nullptr, igraph_vss_all(), IGRAPH_ALL, nullptr, false),
        "closeness");
  double clustering_sum = 0;
  for (std::size_t v = 0; v < n; ++v) {
    const std::size_t c = cell_of[v];
    r.degree[c] = degree[v];
    r.normalized_degree[c] = max_degree > 0 ? degree[v] / max_degree : 0.0;
    r.clustering[c] = clustering[v];
    clustering_sum += clustering[v];
    // networkx counts every shortest path from both ends and normalises by
    // (n-1)(n-2); igraph counts each unordered pair once.
    r.betweenness[c] = n > 2 ? betweenness[v] / ((nd - 1) * (nd - 2) / 2) : 0.0;
    // igraph: 1 / (sum of distances to the reachable vertices); networkx's
    // Wasserman-Faust form scales (r-1)/sum by (r-1)/(n-1), r counting itself.
    const auto reached = static_cast<double>(reach[v]);
    r.closeness[c] = reach[v] > 0 ? reached * closeness[v] * (reached / (nd - 1)) : 0.0;
  }

  // Hubs.
  if (o.hub_rule == HubRule::fraction_of_max) {
    for (std::size_t v = 0; v < n; ++v) r.hub[cell_of[v]] = degree[v] > o.hub_fraction * max_degree;
  } else {
    // The product is nudged down so that e.g. 0.1 x 30 (3.0000000000000004 in
    // double) asks for 3 hubs, not 4.
    const auto count = static_cast<std::size_t>(std::max(0.0, std::ceil(o.hub_fraction * nd - 1e-9)));
    std::vector<std::size_t> order(n);
    for (std::size_t v = 0; v < n; ++v) order[v] = v;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return degree[a] > degree[b]; });
    for (std::size_t k = 0; k < std::min(count, n); ++k) r.hub[cell_of[order[k]]] = 1;
  }

  // Global measures.
  r.average_degree = 2.0 * static_cast<double>(m) / nd;
  r.average_clustering = clustering_sum / nd;
  check(igraph_transitivity_undirected(G, &r.transitivity, IGRAPH_TRANSITIVITY_ZERO), "transitivity_undirected");
  if (n >= 2) {
    check(igraph_global_efficiency(G, &r.global_efficiency, nullptr, IGRAPH_UNDIRECTED), "global_efficiency");
  } else {
    r.global_efficiency = 0.0;  // networkx: no pairs, efficiency 0
  }
  IntVec component, component_size;
  igraph_integer_t n_components = 0;
  check(igraph_connected_components(G, &component.v, &component_size.v, &n_components, IGRAPH_WEAK),
        "connected_components");
  igraph_integer_t largest = 0, largest_id = 0;
  for (igraph_integer_t k = 0; k < n_components; ++k)
    if (component_size[static_cast<std::size_t>(k)] > largest) {
      largest = component_size[static_cast<std::size_t>(k)];
      largest_id = k;
    }
  r.largest_component = static_cast<double>(largest) / nd;
  if (m > 0) {
    double a = NAN;
    check(igraph_assortativity_degree(G, &a, IGRAPH_UNDIRECTED), "assortativity_degree");
    r.assortativity = std::isfinite(a) ? a : NAN;
  }

  // Communities: Louvain, seeded; the partition igraph returns is its best
  // level. Labels are renumbered by first appearance in cell order, so they do
  // not depend on igraph's internal numbering.
  if (m > 0) {
    IntVec membership;
    session.reseed(o.seed);
    check(igraph_community_multilevel(G, nullptr, 1.0, &membership.v, nullptr, nullptr), "community_multilevel");
    check(igraph_modularity(G, &membership.v, nullptr, 1.0, IGRAPH_UNDIRECTED, &r.modularity), "modularity");
    std::vector<std::int32_t> relabel(n, -1);
    std::int32_t next = 0;
    for (std::size_t v = 0; v < n; ++v) {
      auto& label = relabel[static_cast<std::size_t>(membership[v])];
      if (label < 0) label = next++;
      r.community[cell_of[v]] = label;
    }
    r.n_communities = static_cast<std::size_t>(next);
  } else {
    // No edges: modularity is undefined (NaN) and every cell is its own community.
    for (std::size_t v = 0; v < n; ++v) r.community[cell_of[v]] = static_cast<std::int32_t>(v);
    r.n_communities = n;
  }

  // Small-world sigma = (C / C_rand) / (L / L_rand): C the average clustering,
  // L the average shortest path in the largest component; the references are
  // means over o.n_random seeded G(n, m) graphs (their L over the connected
  // pairs).
  if (m > 0 && largest >= 2 && o.n_random > 0) {
    std::vector<igraph_integer_t> index(n, -1), lc_ends;
    igraph_integer_t lc_n = 0;
    for (std::size_t v = 0; v < n; ++v)
      if (component[v] == largest_id) index[v] = lc_n++;
    for (std::size_t e = 0; e < ends.size(); e += 2)
      if (index[static_cast<std::size_t>(ends[e])] >= 0) {
        lc_ends.push_back(index[static_cast<std::size_t>(ends[e])]);
        lc_ends.push_back(index[static_cast<std::size_t>(ends[e + 1])]);
      }
    IGraph lc(static_cast<std::size_t>(lc_n), lc_ends);
    double path = NAN;
    check(igraph_average_path_length(&lc.g, &path, nullptr, IGRAPH_UNDIRECTED, true), "average_path_length");
    double c_rand = 0, l_rand = 0;
    session.reseed(o.seed);
    for (int k = 0; k < o.n_random; ++k) {
      IGraph rg(IGraph::Gnm{}, n, m);
      double c = 0, l = 0;
      check(igraph_transitivity_avglocal_undirected(&rg.g, &c, IGRAPH_TRANSITIVITY_ZERO),
            "transitivity_avglocal_undirected");
      check(igraph_average_path_length(&rg.g, &l, nullptr, IGRAPH_UNDIRECTED, true), "average_path_length");
      c_rand += c;
      l_rand += l;
    }
    c_rand /= o.n_random;
    l_rand /= o.n_random;
    const double sigma = (r.average_clustering / c_rand) / (path / l_rand);
    r.small_world_sigma = c_rand > 0 && std::isfinite(sigma) ? sigma : NAN;
  }
  return r;
}

// ---------------------------------------------------------------- structural comparison

StructuralComparison compare_structural(const Graph& functional, const std::vector<std::uint32_t>& si,
                                        const std::vector<std::uint32_t>& sj, const std::vector<double>& sim,
                                        const std::vector<std::uint8_t>& excluded) {
  const std::size_t n = functional.n;
  check_excluded(excluded, n, "compare_structural");
  if (si.size() != sj.size())
    throw InputError("compare_structural: the structural network has " + std::to_string(si.size()) +
                     " edge starts and " + std::to_string(sj.size()) + " edge ends (expected as many)");
  if (functional.i.size() != functional.j.size())
    throw InputError("compare_structural: the functional network has " + std::to_string(functional.i.size()) +
                     " edge starts and " + std::to_string(functional.j.size()) + " edge ends (expected as many)");
  if (!sim.empty()) check_sim(sim, n, "compare_structural");
  // Both edge lists as sorted unique (i < j) pairs of kept cells.
  const auto pairs = [&](const std::vector<std::uint32_t>& ei, const std::vector<std::uint32_t>& ej,
                         const char* which) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> p;
    p.reserve(ei.size());
    for (std::size_t e = 0; e < ei.size(); ++e) {
      const std::uint32_t a = std::min(ei[e], ej[e]), b = std::max(ei[e], ej[e]);
      if (b >= n)
        throw InputError(std::string("compare_structural: ") + which + " edge (" + std::to_string(ei[e]) + ", " +
                         std::to_string(ej[e]) + ") names a cell beyond the " + std::to_string(n) + " cells");
      if (a != b && kept(excluded, a) && kept(excluded, b)) p.emplace_back(a, b);
    }
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
    return p;
  };
  const auto f = pairs(functional.i, functional.j, "functional");
  const auto s = pairs(si, sj, "structural");
  std::vector<std::pair<std::uint32_t, std::uint32_t>> common;
  std::set_intersection(f.begin(), f.end(), s.begin(), s.end(), std::back_inserter(common));
  const double both = static_cast<double>(common.size());
  const double either = static_cast<double>(f.size() + s.size()) - both;
  StructuralComparison r;
  if (!f.empty()) r.overlap = both / static_cast<double>(f.size());
  if (either > 0) r.jaccard = both / either;
  if (sim.empty()) return r;
  if (!s.empty()) {
    double sum = 0;
    for (const auto& [a, b] : s) sum += sim[a * n + b];
    r.structural_mean_similarity = sum / static_cast<double>(s.size());
  }
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t a = 0; a < n; ++a) {
    if (!kept(excluded, a)) continue;
    for (std::size_t b = a + 1; b < n; ++b)
      if (kept(excluded, b)) {
        sum += sim[a * n + b];
        ++count;
      }
  }
  if (count > 0) r.all_mean_similarity = sum / static_cast<double>(count);
  return r;
}

}  // namespace isletsim::analysis
