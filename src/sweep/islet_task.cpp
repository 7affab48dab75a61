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

IsletMetrics islet_metrics(const std::vector<double>& time_s, const double* c, std::size_t samples,
                           std::size_t cells) {
  IsletMetrics m;
  if (samples < 4 || cells == 0) return {NAN, NAN, NAN};
  const std::size_t from = samples / 2;  // drop the first half of the run
  const analysis::Traces tr{c, samples, cells};
  const auto duty = analysis::duty_cycle(tr, from);
  double sum = 0;
  for (double d : duty) sum += d;
  m.duty_cycle = sum / static_cast<double>(cells);
  std::vector<double> mean(samples - from, 0.0);
  for (std::size_t s = from; s < samples; ++s) {
    double acc = 0;
    for (std::size_t k = 0; k < cells; ++k) acc += tr.at(s, k);
    mean[s - from] = acc / static_cast<double>(cells);
  }
  const auto [lo, hi] = std::minmax_element(mean.begin(), mean.end());
  const double mid = *lo + 0.5 * (*hi - *lo);
  std::size_t up = 0;
  if (*hi > *lo)
    for (std::size_t s = 1; s < mean.size(); ++s) up += mean[s - 1] < mid && mean[s] >= mid;
  const double span = time_s[samples - 1] - time_s[from];
  m.frequency_hz = span > 0 ? static_cast<double>(up) / span : NAN;
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
    r.metrics = {{"duty_cycle", NAN}, {"frequency_hz", NAN}, {"synchrony", NAN}};
    try {
      RunConfig cfg = parse_config(spec_.base_text, spec_.base_origin, task_overrides(spec_, i_));
      cfg.base_dir = spec_.base_dir;
      cfg.output = final_;  // as recorded in the file's config attribute
      const RunSetup setup = build_setup(cfg);
      RunOptions opt;
      opt.threads = ctx.threads;
      opt.stop = ctx.stop;
      std::error_code ec;
      std::filesystem::remove(final_, ec);
      const RunResult rr = run_to_file(setup, temp_, opt);
      if (rr.status == RunResult::Status::interrupted) {
        r.status = TaskResult::Status::interrupted;
        r.message = rr.message;
        std::filesystem::remove(temp_, ec);
      } else if (rr.status == RunResult::Status::failed) {
        r.status = TaskResult::Status::failed;
        r.message = rr.message;
        std::filesystem::rename(temp_, final_ + ".failed", ec);  // kept for inspection
      } else {
        const H5Run run = read_run(temp_);
        const auto& names = run.var_names;
        // The model's calcium (c for Bertram 2007, Cai for Cha 2011), else its
        // spike variable (a model without calcium).
        const ModelInfo& model = find_model(cfg.model);
        const std::string var = *model.calcium ? model.calcium : model.spike_state;
        const auto it = std::find(names.begin(), names.end(), var);
        if (it != names.end()) {
          const IsletMetrics m = islet_metrics(run.time, run.data[it - names.begin()].data(), run.n_samples, run.n_cells);
          r.metrics = {{"duty_cycle", m.duty_cycle}, {"frequency_hz", m.frequency_hz}, {"synchrony", m.synchrony}};
        }
        std::filesystem::rename(temp_, final_);  // complete: only now under its final name
      }
    } catch (const std::exception& e) {
      r.status = TaskResult::Status::failed;
      r.message = e.what();
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
