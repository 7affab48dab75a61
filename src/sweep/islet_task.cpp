// The islet-run task: one simulation of the base config with the task's
// overrides, written to a temporary file and renamed when complete.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::sweep {

IsletMetrics islet_metrics(const std::vector<double>& time_s, const double* c, std::size_t samples, std::size_t cells,
                           double from_s, double to_s) {
  IsletMetrics m;
  // The window [from, to) in samples; the default (unset) is the second half.
  std::size_t from = samples / 2, to = samples;
  const auto tol = [](double t) { return 1e-9 * std::max(1.0, std::abs(t)); };
  if (!std::isnan(from_s))
    from = static_cast<std::size_t>(std::lower_bound(time_s.begin(), time_s.begin() + samples, from_s - tol(from_s)) -
                                    time_s.begin());
  if (!std::isnan(to_s))
    to = static_cast<std::size_t>(std::upper_bound(time_s.begin(), time_s.begin() + samples, to_s + tol(to_s)) -
                                  time_s.begin());
  if (to > samples) to = samples;
  if (from >= to || to - from < 4 || cells == 0) return {NAN, NAN, NAN, NAN, NAN, NAN};
  m.from_s = time_s[from];
  m.to_s = time_s[to - 1];
  const analysis::Traces tr{c, to, cells};  // samples after the window left out
  const auto duty = analysis::duty_cycle(tr, from);
  double sum = 0;
  for (double d : duty) sum += d;
  m.duty_cycle = sum / static_cast<double>(cells);
  const std::size_t n = to - from;
  std::vector<double> mean(n, 0.0);
  for (std::size_t s = from; s < to; ++s) {
    double acc = 0;
    for (std::size_t k = 0; k < cells; ++k) acc += tr.at(s, k);
    mean[s - from] = acc / static_cast<double>(cells);
  }
  const auto [lo, hi] = std::minmax_element(mean.begin(), mean.end());
  const double mid = *lo + 0.5 * (*hi - *lo);
  std::size_t up = 0;
  if (*hi > *lo)
    for (std::size_t s = 1; s < mean.size(); ++s) up += mean[s - 1] < mid && mean[s] >= mid;
  // Coherence: SD of the mean trace over the RMS of the cells' SDs.
  const auto variance = [&](auto value) {
    double mu = 0, ss = 0;
    for (std::size_t s = from; s < to; ++s) mu += value(s);
    mu /= static_cast<double>(n);
    for (std::size_t s = from; s < to; ++s) {
      const double d = value(s) - mu;
      ss = std::fma(d, d, ss);
    }
    return ss / static_cast<double>(n);
  };
  double cell_var = 0;
  for (std::size_t k = 0; k < cells; ++k) cell_var += variance([&](std::size_t s) { return tr.at(s, k); });
  cell_var /= static_cast<double>(cells);
  const double mean_var = variance([&](std::size_t s) { return mean[s - from]; });
  m.coherence = cell_var > 0 ? std::sqrt(mean_var / cell_var) : NAN;
  const double span = time_s[to - 1] - time_s[from];
  const bool rhythm = up >= kMinCrossings && m.coherence >= kMinCoherence;
  m.frequency_hz = span > 0 && rhythm ? static_cast<double>(up) / span : NAN;
  m.synchrony = cells >= 2 ? analysis::mean_pairwise_correlation(tr, from) : NAN;
  return m;
}

namespace {

class IsletTask final : public Task {
 public:
  IsletTask(const SweepSpec& spec, std::size_t i)
      : spec_(spec), i_(i), final_(task_file(spec, i)), temp_(task_temp_file(spec, i)) {}

  std::string describe() const override { return describe_point(spec_, i_); }

  TaskResult run(const TaskContext& ctx) override {
    TaskResult r;
    const auto t0 = std::chrono::steady_clock::now();
    r.metrics = {
        {"duty_cycle", NAN}, {"frequency_hz", NAN}, {"synchrony", NAN}, {"window_from_s", NAN}, {"window_to_s", NAN}};
    try {
      const RunConfig cfg = task_config(spec_, i_);
      const RunSetup setup = build_setup(cfg, spec_.network.get());
      RunOptions opt;
      opt.threads = ctx.threads;
      opt.stop = ctx.stop;
      std::error_code ec;
      const RunResult rr = run_to_file(setup, temp_, opt);
      // An earlier result (of another config, on --resume) stays until this
      // one replaces it, or is gone when this run failed (its row says so).
      if (rr.status == RunResult::Status::interrupted) {
        r.status = TaskResult::Status::interrupted;
        r.message = rr.message;
        std::filesystem::remove(temp_, ec);
      } else if (rr.status == RunResult::Status::failed) {
        r.status = TaskResult::Status::failed;
        r.message = rr.message;
        std::filesystem::remove(final_, ec);
        std::filesystem::rename(temp_, final_ + ".failed", ec);  // kept for inspection
      } else {
        // What --resume compares (docs/sweeps.md), before the file gets its final name.
        store_task_hash(temp_, config_hash(cfg, spec_.network.get()));
        const H5Run run = read_run(temp_);
        const auto& names = run.var_names;
        // The model's calcium (c for Bertram 2007, Cai for Cha 2011), else its
        // spike variable (a model without calcium).
        const ModelInfo& model = find_model(cfg.model);
        const std::string var = *model.calcium ? model.calcium : model.spike_state;
        const auto it = std::find(names.begin(), names.end(), var);
        if (it != names.end()) {
          const IsletMetrics m = islet_metrics(run.time, run.data[it - names.begin()].data(), run.n_samples,
                                               run.n_cells, cfg.summary_from_s, cfg.summary_to_s);
          r.metrics = {{"duty_cycle", m.duty_cycle},
                       {"frequency_hz", m.frequency_hz},
                       {"synchrony", m.synchrony},
                       {"window_from_s", m.from_s},
                       {"window_to_s", m.to_s}};
        }
        std::filesystem::rename(temp_, final_);  // complete: only now under its final name
      }
    } catch (const std::exception& e) {
      r.status = TaskResult::Status::failed;
      r.message = e.what();
      std::error_code ec;
      std::filesystem::remove(final_, ec);  // a failed row has no result file
    }
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }

 private:
  const SweepSpec& spec_;
  std::size_t i_;
  std::string final_, temp_;
};

}  // namespace

std::unique_ptr<Task> make_islet_task(const SweepSpec& spec, std::size_t i) {
  return std::make_unique<IsletTask>(spec, i);
}

}  // namespace isletsim::sweep
