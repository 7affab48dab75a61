#pragma once
// The islet calcium-analysis pipeline (docs/analysis.md): preprocessing,
// binarisation, per-cell activity, similarity, functional networks and waves,
// for simulated or recorded islets. Every measure is a plain function of its
// inputs; analyze() chains them with one Options struct.
//
// Matrices are sample-major (sample s, cell c at [s * cells + c]), as in the
// HDF5 files: a time series per column.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace isletsim::analysis {

// A recorded variable: samples x cells, sample-major (as in the HDF5 file).
struct Traces {
  const double* data;
  std::size_t samples, cells;
  double at(std::size_t s, std::size_t c) const { return data[s * cells + c]; }
};

// An owned samples x cells matrix (sample-major).
struct Series {
  std::size_t samples = 0, cells = 0;
  std::vector<double> v;
  Series() = default;
  Series(std::size_t s, std::size_t c, double fill = 0.0) : samples(s), cells(c), v(s * c, fill) {}
  double& at(std::size_t s, std::size_t c) { return v[s * cells + c]; }
  double at(std::size_t s, std::size_t c) const { return v[s * cells + c]; }
  Traces view() const { return {v.data(), samples, cells}; }
};

// ---------------------------------------------------------------- legacy measures
// (used by the sweep summary; kept with their documented definitions)

// Synchrony index: mean Pearson correlation over all cell pairs of the traces
// from sample `from` on. Cells with a flat trace count as correlation 0.
// Computed from the correlation matrix (correlation_matrix below).
double mean_pairwise_correlation(const Traces& x, std::size_t from = 0);

// Fraction of samples (from `from` on) in which each cell is active: above
// half of its own oscillation amplitude (min + 0.5 (max - min)).
std::vector<double> duty_cycle(const Traces& x, std::size_t from = 0);

// Times at which x crosses `level` upwards, linearly interpolated between
// samples (spike times: V crossing -40 mV, as the reference events do).
std::vector<double> upcrossings(const std::vector<double>& t, const std::vector<double>& x, double level);

// Times of local maxima of x whose prominence (height above the higher of the
// two minima separating them from higher peaks, as scipy defines it) is at
// least `prominence` (calcium peaks: 0.02 uM, as the reference events do).
std::vector<double> prominent_peaks(const std::vector<double>& t, const std::vector<double>& x, double prominence);

// ---------------------------------------------------------------- options

enum class Band { raw, fast, slow };                 // which signal feeds binarisation and similarity
enum class Detrend { none, mean, linear };
enum class BinarizeMethod { half_amplitude, slope, prominence };
enum class Similarity { correlation, coactivity };   // what the functional network thresholds
enum class HubRule { fraction_of_max, top_fraction };
// The names the config and the files use for these choices ("raw", "half_amplitude", ...).
const char* to_string(Band b);
const char* to_string(Detrend d);
const char* to_string(BinarizeMethod m);
const char* to_string(Similarity s);
const char* to_string(HubRule h);

struct Options {
  std::string variable = "c";    // the recorded variable analysed (calcium)
  // Window (s, in the data's time). NaN = from the first / to the last sample.
  double from_s = NAN, to_s = NAN;
  // Analysis rate (Hz). 0 = the data's rate; lower rates average blocks of
  // round(rate / sampling_hz) samples. Higher than the data's rate: error.
  double sampling_hz = 0;
  // Preprocessing, in this order: detrend, band-pass (zero phase), smoothing.
  Detrend detrend = Detrend::none;
  double fast_low_hz = 0.03, fast_high_hz = 1.2;     // the field's fast (spiking) band
  double slow_low_hz = 0.001, slow_high_hz = 0.005;  // the field's slow band
  int filter_order = 2;                              // Butterworth order per pass (zero phase: applied twice)
  Band band = Band::raw;
  double smooth_s = 0;                               // centred moving average width (s); 0 = none
  // Cell exclusion: a trace whose standard deviation is below min_sd_rel
  // times the median standard deviation of all cells is flat and excluded.
  double min_sd_rel = 1e-3;
  // Binarisation.
  BinarizeMethod binarize = BinarizeMethod::half_amplitude;
  double slope_k = 2.0;          // slope: onset where dx/dt > slope_k * SD(dx/dt) ...
  double min_amplitude = 0.5;    // ... and the trace reaches min + min_amplitude * (max - min)
  double prominence = 0.3;       // prominence: peaks of prominence >= this * (max - min); active
                                 // over the peak's width at half its prominence
  double min_active_s = 0;       // active episodes shorter than this are dropped
  // First response to a stimulus: the glucose step (the file's /glucose
  // rising by at least stimulus_rise_mM), or stimulus_s when given (not NaN).
  double stimulus_s = NAN;
  double stimulus_rise_mM = 1.0;
  double baseline_s = 30;        // baseline: mean over [stimulus - baseline_s, stimulus]
  double plateau_fraction = 0.9; // time to plateau: smoothed trace reaches this fraction of its rise
  double plateau_smooth_s = 10;
  // Functional network.
  Similarity similarity = Similarity::correlation;
  double k_avg = 8;              // target average degree (used when threshold is NaN)
  double k_tolerance = 0.5;      // |achieved - k_avg| allowed (ties at the threshold)
  double threshold = NAN;        // fixed threshold on the similarity instead of k_avg
  HubRule hub_rule = HubRule::fraction_of_max;
  double hub_fraction = 0.6;     // hub: degree > 0.6 max degree (or the top 10% with top_fraction, 0.1)
  int n_random = 20;             // seeded random graphs for the small-world coefficient
  std::uint64_t seed = 1;        // random graphs and community detection
  double distance_bin_um = 10;   // correlation against distance
  // Waves.
  double wave_dt_s = 0.5;        // onsets closer in time than this ...
  double wave_dist_um = 30;      // ... and in space than this are one wave
  double wave_min_size = 0.45;   // keep waves reaching at least this fraction of the analysed cells
  double initiator_fraction = 0.1; // a wave's initiators: its earliest 10% of cells
};

// ---------------------------------------------------------------- preprocessing

struct Preprocessed {
  std::vector<double> time;      // s, the analysed samples
  double rate_hz = 0;
  Series signal;                 // the window, resampled, detrended, band-passed (Options::band), smoothed
  std::vector<std::uint8_t> excluded;  // per cell: 1 = flat or broken trace, left out
};

// Zero-phase Butterworth band-pass of every column (the squared magnitude of an
// order-`order` Butterworth response applied in the frequency domain: the
// response of filtering forwards and backwards). low_hz = 0: low-pass;
// high_hz = 0 or >= Nyquist: high-pass. Columns are mirrored at both ends
// before filtering to limit edge effects. Throws InputError when the band
// cannot be carried by the sampling rate.
Series bandpass(const Traces& x, double rate_hz, double low_hz, double high_hz, int order);

// Centred moving average over `width` samples (odd; ends use the samples present).
Series moving_average(const Traces& x, std::size_t width);

Series detrend(const Traces& x, Detrend how);

// Averages of `factor` consecutive samples (a trailing partial block is dropped).
Series decimate(const Traces& x, std::size_t factor);

// Window, resampling, detrending, the chosen band, smoothing, exclusion. `time` in s,
// uniform. Throws InputError for NaN/inf in the data, a window outside the
// data, a rate above the data's, a band the rate cannot carry.
Preprocessed preprocess(const std::vector<double>& time, const Traces& x, const Options& o);

// ---------------------------------------------------------------- binarisation

// 1 where the cell is active (samples x cells). Excluded cells are all 0.
std::vector<std::uint8_t> binarize(const Series& x, double rate_hz, const Options& o,
                                   const std::vector<std::uint8_t>& excluded);

// ---------------------------------------------------------------- per-cell activity

struct Activity {
  // Per cell (NaN where undefined, e.g. fewer than two onsets for an interval).
  std::vector<double> relative_active_time;  // active samples / samples
  std::vector<double> frequency_hz;          // onsets / window duration
  std::vector<double> mean_duration_s;       // mean length of the active episodes
  std::vector<double> mean_interval_s;       // mean time between consecutive onsets
  std::vector<double> interval_cv;           // SD / mean of those intervals
  std::vector<double> first_onset_s;         // first onset after the stimulus, relative to it
  std::vector<double> response_latency_s;    // half-maximum rise after the stimulus, relative to it
  std::vector<double> time_to_plateau_s;     // plateau_fraction of the rise, relative to the stimulus
  std::vector<std::uint32_t> n_oscillations; // active episodes
  // Onset times (s, interpolated) per cell, in the window.
  std::vector<std::vector<double>> onsets;
};

// `x` is the signal that was binarised; `full_time`/`full` the whole
// recording of the cell (for first response, which needs the pre-stimulus
// baseline); stimulus_s NaN leaves the three response columns NaN.
Activity activity(const std::vector<double>& time, const Series& x, const std::vector<std::uint8_t>& binary,
                  const std::vector<double>& full_time, const Traces& full, double stimulus_s, const Options& o,
                  const std::vector<std::uint8_t>& excluded);

// The first time the glucose series rises by at least rise_mM above its
// starting value (interpolated); NaN when it never does.
double find_stimulus(const std::vector<double>& time, const std::vector<double>& glucose, double rise_mM);

// ---------------------------------------------------------------- similarity

// Pearson correlation matrix (cells x cells, symmetric, row-major) of the
// columns, as one symmetric rank-m update (BLAS dsyrk) of the standardised
// traces. Flat or excluded columns give 0 off the diagonal and 1 on it.
std::vector<double> correlation_matrix(const Traces& x, const std::vector<std::uint8_t>& excluded = {});

// Coactivity C_ij = N_ij / sqrt(N_i N_j) of binary traces (N_ij: samples where
// both are active; N_i: samples where i is active); 0 where N_i N_j = 0.
std::vector<double> coactivity_matrix(const std::vector<std::uint8_t>& binary, std::size_t samples,
                                      std::size_t cells);

struct DistanceProfile {
  std::vector<double> bin_lo_um, mean, sd;
  std::vector<std::uint64_t> pairs;
};
DistanceProfile similarity_by_distance(const std::vector<double>& sim, std::size_t cells,
                                       const std::vector<double>& x, const std::vector<double>& y,
                                       const std::vector<double>& z, double bin_um,
                                       const std::vector<std::uint8_t>& excluded);

// ---------------------------------------------------------------- functional network

struct Graph {
  std::size_t n = 0;
  std::vector<std::uint32_t> i, j;  // undirected edges, i < j, sorted
};

// The edges of the pairs whose similarity is >= threshold (excluded cells
// take no part).
Graph threshold_graph(const std::vector<double>& sim, std::size_t cells, double threshold,
                      const std::vector<std::uint8_t>& excluded);

// The threshold giving average degree k_avg (within tol): the similarity of the
// round(k_avg * n_kept / 2)-th strongest pair. Throws InputError naming
// analysis.k_avg (and the degrees the kept cells allow, 2 / n_kept to
// n_kept - 1) when no threshold reaches it: k_avg outside that range, or ties
// at the threshold.
double threshold_for_degree(const std::vector<double>& sim, std::size_t cells, double k_avg, double tol,
                            const std::vector<std::uint8_t>& excluded);

struct NetworkMeasures {
  // Per cell (as networkx defines them: normalised betweenness, Wasserman-Faust
  // closeness, local clustering 0 below degree 2).
  std::vector<double> degree, normalized_degree, clustering, betweenness, closeness;
  std::vector<std::uint8_t> hub;
  std::vector<std::int32_t> community;
  // Global.
  double average_degree = NAN, average_clustering = NAN, transitivity = NAN, global_efficiency = NAN;
  double largest_component = NAN;  // fraction of the kept cells in the largest component
  double small_world_sigma = NAN;  // (C/C_rand) / (L/L_rand), L on the largest component
  double assortativity = NAN, modularity = NAN;
  std::size_t n_communities = 0;
  double mean_edge_length_um = NAN;
};

NetworkMeasures network_measures(const Graph& g, const std::vector<std::uint8_t>& excluded, const Options& o,
                                 const std::vector<double>& x = {}, const std::vector<double>& y = {},
                                 const std::vector<double>& z = {});

struct StructuralComparison {
  double overlap = NAN;          // fraction of functional edges that are gap-junction edges
  double jaccard = NAN;          // |F ∩ S| / |F ∪ S|
  double structural_mean_similarity = NAN;  // mean similarity over gap-junction pairs
  double all_mean_similarity = NAN;         // ... and over all pairs
};
StructuralComparison compare_structural(const Graph& functional, const std::vector<std::uint32_t>& si,
                                        const std::vector<std::uint32_t>& sj, const std::vector<double>& sim,
                                        const std::vector<std::uint8_t>& excluded);

// ---------------------------------------------------------------- waves

struct Wave {
  double start_s = 0, duration_s = 0, speed_um_s = NAN;
  std::uint32_t origin = 0;
  std::vector<std::uint32_t> cells;       // in activation order
  std::vector<double> delays_s;           // onset - start, per cell in `cells`
  std::vector<std::uint32_t> initiators;  // the earliest initiator_fraction of `cells` (at least one)
  double relative_size = 0;
};

struct WaveResult {
  std::vector<Wave> waves;
  // Per cell: waves it initiated (was among the initiators), waves it took
  // part in, its mean relative activation rank (0 first, 1 last) and that rank's SD.
  std::vector<std::uint32_t> initiated, participated;
  std::vector<double> mean_rank, rank_sd;
  double leader_consistency = NAN;  // mean Spearman correlation of activation ranks, consecutive waves
};

// Groups the onsets (per cell, s) into waves: two onsets closer than wave_dt_s
// in time and wave_dist_um in space belong to one wave (transitively); a cell
// joins a wave once (its earliest onset). Waves reaching fewer than
// wave_min_size * n_kept cells are dropped. Positions in um.
WaveResult find_waves(const std::vector<std::vector<double>>& onsets, const std::vector<double>& x,
                      const std::vector<double>& y, const std::vector<double>& z, const Options& o,
                      const std::vector<std::uint8_t>& excluded);

// ---------------------------------------------------------------- the whole pipeline

struct Input {
  std::vector<double> time;                // s, uniform
  Series data;                             // samples x cells
  std::vector<double> glucose;             // mM per sample, or empty
  std::vector<double> x, y, z;             // um per cell, or empty (no spatial measures)
  std::vector<std::uint32_t> edge_i, edge_j;  // structural network, or empty
  std::string source, variable = "c";
};

struct Result {
  Options options;
  Preprocessed pre;
  std::vector<std::uint8_t> binary;        // samples x cells of pre.time
  Activity activity;
  double stimulus_s = NAN;
  std::vector<double> corr;                // cells x cells, of the chosen band
  std::vector<double> coactivity;          // cells x cells
  DistanceProfile by_distance;             // of the network's similarity
  double threshold = NAN;                  // used for the functional network
  Graph network;
  NetworkMeasures measures;
  StructuralComparison structural;
  WaveResult waves;
  double mean_correlation = NAN;           // over all pairs of kept cells
  // Global metrics by name, in a fixed order (the summary row).
  std::vector<std::pair<std::string, double>> metrics() const;
};

// Threads of the BLAS library's matrix products (the correlation and
// coactivity matrices): the caller decides (the cores given, or 1 when tasks
// run side by side). The results do not depend on it.
void set_blas_threads(int n);

// Runs everything. Throws InputError for bad input (see preprocess,
// threshold_for_degree) and for positions that do not match the cells.
Result analyze(const Input& in, const Options& o);

}  // namespace isletsim::analysis
