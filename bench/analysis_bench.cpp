// The analysis pipeline's speed (BENCHMARKS.md, "Analysis").
//
//   analysis_bench [run.h5 | synthetic] [threads]
//
// 1. The correlation matrix of 1000 cells x 60,000 samples (the default
//    run's calcium, or synthetic traces of that size): one BLAS dsyrk, against
//    the throughput the same BLAS reaches on a general product of that size
//    (dgemm of the same standardised matrix with itself: C = Z^T Z), and
//    against a loop over cell pairs (a sample of pairs, extrapolated).
// 2. Every stage of the whole default pipeline, and its total.
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/config.hpp"

using namespace isletsim;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Bursting-like synthetic traces: a slow oscillation with a per-cell phase
// lag (a wave), fast spikes on its plateaus and a little noise.
analysis::Input synthetic(std::size_t cells, std::size_t samples, double rate_hz) {
  analysis::Input in;
  in.source = "synthetic";
  in.data = analysis::Series(samples, cells);
  in.time.resize(samples);
  std::uint64_t s = 12345;
  const auto noise = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  for (std::size_t c = 0; c < cells; ++c) {
    const double a = 2.0 * M_PI * static_cast<double>(c) / static_cast<double>(cells);
    in.x.push_back(60 * std::cos(a) * std::sin(0.37 * static_cast<double>(c)));
    in.y.push_back(60 * std::sin(a) * std::sin(0.37 * static_cast<double>(c)));
    in.z.push_back(60 * std::cos(0.37 * static_cast<double>(c)));
  }
  for (std::size_t k = 0; k < samples; ++k) {
    const double t = static_cast<double>(k) / rate_hz;
    in.time[k] = t;
    for (std::size_t c = 0; c < cells; ++c) {
      const double lag = (in.x[c] + 60) / 60.0;  // up to 2 s across the islet
      const double slow = std::sin(2 * M_PI * (t - lag) / 60.0);
      const double plateau = slow > 0.3 ? 1.0 : 0.0;
      in.data.at(k, c) = 0.1 + 0.3 * plateau * (0.8 + 0.2 * std::sin(2 * M_PI * 2.0 * t)) + 0.01 * noise();
    }
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string src = argc > 1 ? argv[1] : "synthetic";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  analysis::set_blas_threads(threads);
  auto t0 = Clock::now();
  const analysis::Options o;
  analysis::Input in = src == "synthetic" ? synthetic(1000, 60000, 100.0) : analysis_input_from_run(src, o.variable);
  const double t_read = since(t0);
  const std::size_t n = in.data.cells, m = in.data.samples;
  std::printf("input: %s, %zu cells x %zu samples (read in %.2f s); BLAS: OpenBLAS, %d thread(s): %s\n", src.c_str(),
              n, m, t_read, threads, openblas_get_config());

  // 1. Correlation matrix: dsyrk (ours) against dgemm of the same size.
  double best_corr = 1e30;
  std::vector<double> r;
  for (int rep = 0; rep < 3; ++rep) {
    t0 = Clock::now();
    r = analysis::correlation_matrix(in.data.view());
    best_corr = std::min(best_corr, since(t0));
  }
  std::vector<double> c(n * n);
  const std::vector<double>& z = in.data.v;  // same size and layout as the standardised matrix
  double best_syrk = 1e30, best_gemm = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    t0 = Clock::now();
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n), static_cast<int>(m), 1.0, z.data(),
                static_cast<int>(n), 0.0, c.data(), static_cast<int>(n));
    best_syrk = std::min(best_syrk, since(t0));
    t0 = Clock::now();
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(m), 1.0, z.data(), static_cast<int>(n), z.data(), static_cast<int>(n), 0.0, c.data(),
                static_cast<int>(n));
    best_gemm = std::min(best_gemm, since(t0));
  }
  // Useful work of C = Z^T Z: n^2 m multiply-adds (dgemm does all of them;
  // dsyrk needs half, so its rate counts the half it does).
  const double gemm_flops = 2.0 * double(n) * double(n) * double(m);
  const double syrk_flops = double(n) * double(n + 1) * double(m);
  std::printf("correlation_matrix: %.3f s (dsyrk alone %.3f s = %.1f GFLOP/s; dgemm of the same size %.3f s = "
              "%.1f GFLOP/s; dsyrk at %.0f%% of dgemm's rate; the whole matrix %.2fx faster than dgemm's)\n",
              best_corr, best_syrk, syrk_flops / best_syrk * 1e-9, best_gemm, gemm_flops / best_gemm * 1e-9,
              100.0 * (syrk_flops / best_syrk) / (gemm_flops / best_gemm), best_gemm / best_corr);
  // A loop over pairs (what a Python suite does, here in C++ at full speed):
  // 2000 pairs timed, extrapolated to all n(n-1)/2.
  {
    t0 = Clock::now();
    double sink = 0;
    for (std::size_t p = 0; p < 2000; ++p) {
      const std::size_t a = p % n, b = (p * 7 + 1) % n;
      double sa = 0, sb = 0;
      for (std::size_t k = 0; k < m; ++k) sa += in.data.v[k * n + a], sb += in.data.v[k * n + b];
      sa /= double(m), sb /= double(m);
      double ab = 0, aa = 0, bb = 0;
      for (std::size_t k = 0; k < m; ++k) {
        const double da = in.data.v[k * n + a] - sa, db = in.data.v[k * n + b] - sb;
        ab += da * db, aa += da * da, bb += db * db;
      }
      sink += ab / std::sqrt(aa * bb);
    }
    const double per_pair = since(t0) / 2000.0;
    std::printf("pair loop (two-pass Pearson per pair, C++): %.1f us per pair -> %.1f s for all %zu pairs (%.0fx the "
                "dsyrk path) [%g]\n",
                per_pair * 1e6, per_pair * double(n) * double(n - 1) / 2, n * (n - 1) / 2,
                per_pair * double(n) * double(n - 1) / 2 / best_corr, sink * 0);
  }

  // 2. The whole default pipeline, stage by stage (as analyze() chains them).
  t0 = Clock::now();
  auto t = Clock::now();
  const analysis::Preprocessed pre = analysis::preprocess(in.time, in.data.view(), o);
  const double t_pre = since(t);
  t = Clock::now();
  const auto bin = analysis::binarize(pre.signal, pre.rate_hz, o, pre.excluded);
  const double t_bin = since(t);
  t = Clock::now();
  const double stim = analysis::find_stimulus(in.time, in.glucose, o.stimulus_rise_mM);
  const auto act = analysis::activity(pre.time, pre.signal, bin, in.time, in.data.view(), stim, o, pre.excluded);
  const double t_act = since(t);
  t = Clock::now();
  const auto corr = analysis::correlation_matrix(pre.signal.view(), pre.excluded);
  const auto coact = analysis::coactivity_matrix(bin, pre.signal.samples, n);
  const double t_sim = since(t);
  t = Clock::now();
  const double thr = analysis::threshold_for_degree(corr, n, o.k_avg, o.k_tolerance, pre.excluded);
  const auto g = analysis::threshold_graph(corr, n, thr, pre.excluded);
  const auto nm = analysis::network_measures(g, pre.excluded, o, in.x, in.y, in.z);
  const double t_net = since(t);
  t = Clock::now();
  const auto prof = analysis::similarity_by_distance(corr, n, in.x, in.y, in.z, o.distance_bin_um, pre.excluded);
  const double t_dist = since(t);
  t = Clock::now();
  const auto w = analysis::find_waves(act.onsets, in.x, in.y, in.z, o, pre.excluded);
  const double t_wave = since(t);
  const double total = since(t0);
  std::printf("pipeline stages (s): preprocess %.3f, binarize %.3f, activity %.3f, correlation+coactivity %.3f, "
              "network (threshold %.4f, %zu edges, measures, %d random graphs) %.3f, by distance %.3f, waves (%zu) "
              "%.3f\n",
              t_pre, t_bin, t_act, t_sim, thr, g.i.size(), o.n_random, t_net, t_dist, w.waves.size(), t_wave);
  std::printf("pipeline total: %.2f s without reading the file (%.2f s with it); coactivity %.3g, profile bins %zu, "
              "communities %zu\n",
              total, total + t_read, coact.empty() ? 0.0 : coact[1], prof.mean.size(), nm.n_communities);
  return 0;
}
