// The whole analysis pipeline: each step is a function of its own file
// (preprocess, binarize, activity, similarity, graph, waves); this one checks
// the input, chains them and names the global metrics.
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

extern "C" void openblas_set_num_threads(int);

namespace isletsim::analysis {

void set_blas_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }

const char* to_string(Band b) {
  switch (b) {
    case Band::fast: return "fast";
    case Band::slow: return "slow";
    default: return "raw";
  }
}
const char* to_string(Detrend d) {
  switch (d) {
    case Detrend::mean: return "mean";
    case Detrend::linear: return "linear";
    default: return "none";
  }
}
const char* to_string(BinarizeMethod m) {
  switch (m) {
    case BinarizeMethod::slope: return "slope";
    case BinarizeMethod::prominence: return "prominence";
    default: return "half_amplitude";
  }
}
const char* to_string(Similarity s) { return s == Similarity::coactivity ? "coactivity" : "correlation"; }
const char* to_string(HubRule h) { return h == HubRule::top_fraction ? "top_fraction" : "fraction_of_max"; }

namespace {

// Mean of the finite values (NaN when there are none).
double finite_mean(const std::vector<double>& v, const std::vector<std::uint8_t>& excluded) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < v.size(); ++i)
    if ((excluded.empty() || !excluded[i]) && std::isfinite(v[i])) sum += v[i], ++n;
  return n ? sum / static_cast<double>(n) : NAN;
}

double finite_median(const std::vector<double>& v, const std::vector<std::uint8_t>& excluded) {
  std::vector<double> f;
  for (std::size_t i = 0; i < v.size(); ++i)
    if ((excluded.empty() || !excluded[i]) && std::isfinite(v[i])) f.push_back(v[i]);
  if (f.empty()) return NAN;
  std::sort(f.begin(), f.end());
  const std::size_t m = f.size() / 2;
  return f.size() % 2 ? f[m] : 0.5 * (f[m - 1] + f[m]);
}

// Mean of the upper triangle over pairs of kept cells.
double mean_pairs(const std::vector<double>& m, std::size_t n, const std::vector<std::uint8_t>& excluded) {
  double sum = 0;
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (excluded[i]) continue;
    double row = 0;  // per-row partial sums: a fixed order, less rounding
    for (std::size_t j = i + 1; j < n; ++j)
      if (!excluded[j]) row += m[i * n + j], ++pairs;
    sum += row;
  }
  return pairs ? sum / static_cast<double>(pairs) : NAN;
}

void check_input(const Input& in) {
  const std::string src = in.source.empty() ? "analysis input" : in.source;
  const std::size_t n = in.data.cells;
  if (n == 0) throw InputError(src + ": no cells to analyse");
  if (in.time.size() != in.data.samples)
    throw InputError(fmt::format("{}: {} time points for {} samples", src, in.time.size(), in.data.samples));
  if (!in.glucose.empty() && in.glucose.size() != in.data.samples)
    throw InputError(fmt::format("{}: {} glucose values for {} samples", src, in.glucose.size(), in.data.samples));
  if (in.x.size() != in.y.size() || in.x.size() != in.z.size())
    throw InputError(fmt::format("{}: positions have {} x, {} y and {} z values", src, in.x.size(), in.y.size(),
                                 in.z.size()));
  if (!in.x.empty() && in.x.size() != n)
    throw InputError(fmt::format("{}: {} cell positions for {} cells (each cell needs one position)", src,
                                 in.x.size(), n));
  if (in.edge_i.size() != in.edge_j.size())
    throw InputError(fmt::format("{}: structural edges: {} first and {} second ends", src, in.edge_i.size(),
                                 in.edge_j.size()));
  for (std::size_t e = 0; e < in.edge_i.size(); ++e)
    if (in.edge_i[e] >= n || in.edge_j[e] >= n)
      throw InputError(fmt::format("{}: structural edge {} joins cells {} and {}, but there are {} cells", src, e,
                                   in.edge_i[e], in.edge_j[e], n));
}

}  // namespace

Result analyze(const Input& in, const Options& o) {
  check_input(in);
  Result r;
  r.options = o;
  r.pre = preprocess(in.time, in.data.view(), o);
  const std::size_t n = in.data.cells;
  const Series& sig = r.pre.signal;
  const auto& excluded = r.pre.excluded;
  r.binary = binarize(sig, r.pre.rate_hz, o, excluded);

  if (!std::isnan(o.stimulus_s)) {
    if (o.stimulus_s < in.time.front() || o.stimulus_s > in.time.back())
      throw InputError(fmt::format("{}: analysis.stimulus_s = {} s is outside the recording [{}, {}] s", in.source,
                                   o.stimulus_s, in.time.front(), in.time.back()));
    r.stimulus_s = o.stimulus_s;
  } else {
    r.stimulus_s = find_stimulus(in.time, in.glucose, o.stimulus_rise_mM);
  }
  r.activity = activity(r.pre.time, sig, r.binary, in.time, in.data.view(), r.stimulus_s, o, excluded);

  r.corr = correlation_matrix(sig.view(), excluded);
  r.coactivity = coactivity_matrix(r.binary, sig.samples, n);
  r.mean_correlation = mean_pairs(r.corr, n, excluded);
  const std::vector<double>& sim = o.similarity == Similarity::coactivity ? r.coactivity : r.corr;
  r.threshold = std::isnan(o.threshold) ? threshold_for_degree(sim, n, o.k_avg, o.k_tolerance, excluded)
                                        : o.threshold;
  r.network = threshold_graph(sim, n, r.threshold, excluded);
  r.measures = network_measures(r.network, excluded, o, in.x, in.y, in.z);
  if (!in.edge_i.empty()) r.structural = compare_structural(r.network, in.edge_i, in.edge_j, sim, excluded);
  if (!in.x.empty()) r.by_distance = similarity_by_distance(sim, n, in.x, in.y, in.z, o.distance_bin_um, excluded);
  r.waves = find_waves(r.activity.onsets, in.x, in.y, in.z, o, excluded);
  return r;
}

std::vector<std::pair<std::string, double>> Result::metrics() const {
  const auto& ex = pre.excluded;
  const auto& a = activity;
  const auto& m = measures;
  std::size_t n_excluded = 0, n_hubs = 0;
  for (std::size_t c = 0; c < ex.size(); ++c) n_excluded += ex[c] != 0, n_hubs += !m.hub.empty() && m.hub[c];
  std::vector<double> sizes, speeds;
  for (const Wave& w : waves.waves) {
    sizes.push_back(w.relative_size);
    speeds.push_back(w.speed_um_s);
  }
  const std::size_t n = ex.size();
  return {
      {"n_cells", static_cast<double>(n)},
      {"n_excluded", static_cast<double>(n_excluded)},
      {"relative_active_time", finite_mean(a.relative_active_time, ex)},
      {"frequency_hz", finite_mean(a.frequency_hz, ex)},
      {"mean_duration_s", finite_mean(a.mean_duration_s, ex)},
      {"mean_interval_s", finite_mean(a.mean_interval_s, ex)},
      {"interval_cv", finite_mean(a.interval_cv, ex)},
      {"stimulus_s", stimulus_s},
      {"median_first_onset_s", finite_median(a.first_onset_s, ex)},
      {"median_response_latency_s", finite_median(a.response_latency_s, ex)},
      {"median_time_to_plateau_s", finite_median(a.time_to_plateau_s, ex)},
      {"mean_correlation", mean_correlation},
      {"mean_coactivity", coactivity.empty() ? NAN : mean_pairs(coactivity, n, ex)},
      {"threshold", threshold},
      {"n_edges", static_cast<double>(network.i.size())},
      {"average_degree", m.average_degree},
      {"average_clustering", m.average_clustering},
      {"transitivity", m.transitivity},
      {"global_efficiency", m.global_efficiency},
      {"largest_component", m.largest_component},
      {"small_world_sigma", m.small_world_sigma},
      {"assortativity", m.assortativity},
      {"modularity", m.modularity},
      {"n_communities", static_cast<double>(m.n_communities)},
      {"n_hubs", static_cast<double>(n_hubs)},
      {"mean_edge_length_um", m.mean_edge_length_um},
      {"structural_overlap", structural.overlap},
      {"structural_jaccard", structural.jaccard},
      {"structural_mean_similarity", structural.structural_mean_similarity},
      {"n_waves", static_cast<double>(waves.waves.size())},
      {"mean_wave_size", finite_mean(sizes, {})},
      {"mean_wave_speed_um_s", finite_mean(speeds, {})},
      {"leader_consistency", waves.leader_consistency},
  };
}

}  // namespace isletsim::analysis
