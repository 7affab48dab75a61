// Accuracy per cost (issue 3): for each integrator and step, the error in
// spike and calcium-peak timing of the single reference cell over 60 s
// against ../shared/reference/bertram2007_single_accurate_events.json, and
// the wall time per simulated second of the default 1000-cell islet (2
// threads, no recording), measured in the same run.
// Usage: accuracy_bench [islet_sim_seconds] [threads]
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "isletsim/analysis.hpp"
#include "isletsim/simulation.hpp"
#include "model/bertram2007/model.hpp"
#include "test_support.hpp"

using namespace isletsim;

namespace {

struct Err {
  std::size_t got, want;
  double worst_ms;  // over matched events (min of the two counts)
};

Err compare(const std::vector<double>& got, std::vector<double> want, double t_max) {
  std::erase_if(want, [&](double x) { return x > t_max; });
  double worst = 0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  return {got.size(), want.size(), worst};
}

}  // namespace

int main(int argc, char** argv) {
  const double islet_s = argc > 1 ? std::atof(argv[1]) : 5.0;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 2;
  const std::string ev = std::string(ISLET_REFERENCE_DIR) + "/bertram2007_single_accurate_events.json";
  const auto spikes = test::json_array(ev, "spike_upcrossing_times_ms");
  const auto peaks = test::json_array(ev, "calcium_peak_times_ms");
  std::printf("%-6s %6s | %-22s %-24s | %12s %12s\n", "integ", "dt/tol", "spikes 0-60 s (worst)", "Ca peaks 0-60 s (worst)",
              "islet sim/s", "wall_s/sim_s");
  struct Case {
    const char* integ;
    double dt;  // dopri5: the tolerance
  };
  for (const Case c : {Case{"euler", 0.025}, Case{"euler", 0.05}, Case{"euler", 0.1}, Case{"euler", 0.2},
                       Case{"rk4", 0.25}, Case{"rk4", 0.5}, Case{"rk4", 1.0}, Case{"rk4", 2.0}, Case{"dopri5", 1e-6},
                       Case{"dopri5", 3e-7}, Case{"dopri5", 1e-7}, Case{"dopri5", 3e-8}, Case{"dopri5", 1e-8}}) {
    const Integrator integ = integrator_from_string(c.integ);
    const bool adaptive = is_adaptive(integ);
    // Accuracy: one default cell, fixed JGK = 0.4, V and c at every step
    // (dopri5: every 0.1 ms, from its dense output).
    EngineProblem p = test::default_problem(1, integ, adaptive ? 0.1 : c.dt, 60000.0);
    if (adaptive) p.tolerance = c.dt;
    p.record_vars = {bertram2007::State::V, bertram2007::State::c};
    p.record_every = 1;
    p.record_block = 4096;
    MemorySink sink(1);
    const RunResult r = run_engine(p, &sink, RunOptions{});
    std::vector<double> t_ms;
    for (double t : sink.time_s) t_ms.push_back(t * 1e3);
    const bool ok = r.status == RunResult::Status::complete;
    const Err es = ok ? compare(analysis::upcrossings(t_ms, sink.data[0], -40.0), spikes, 60000.0) : Err{0, 0, NAN};
    const Err ec = ok ? compare(analysis::prominent_peaks(t_ms, sink.data[1], 0.02), peaks, 60000.0) : Err{0, 0, NAN};
    // Cost: the default islet, bursting (fixed JGK), no recording.
    RunConfig cfg = default_config();
    cfg.duration_s = islet_s;
    cfg.integrator = integ;
    cfg.dt_ms = adaptive ? cfg.record_interval_ms : c.dt;
    if (adaptive) cfg.tolerance = c.dt;
    cfg.glucose_mode = GlucoseMode::fixed_jgk;
    RunSetup s = build_setup(cfg);
    s.problem.record_vars.clear();
    RunOptions opt;
    opt.threads = threads;
    run_engine(s.problem, nullptr, opt);  // warm-up
    const RunResult ri = run_engine(s.problem, nullptr, opt);
    const double wall = ri.wall_s;
    char a[64], b[64];
    std::snprintf(a, sizeof a, "%zu/%zu (%.3f ms)", es.got, es.want, es.worst_ms);
    std::snprintf(b, sizeof b, "%zu/%zu (%.3f ms)", ec.got, ec.want, ec.worst_ms);
    char step[32];
    if (adaptive)
      std::snprintf(step, sizeof step, "%.0e", c.dt);
    else
      std::snprintf(step, sizeof step, "%.3f", c.dt);
    char steps[64] = "";
    if (adaptive)
      std::snprintf(steps, sizeof steps, "  cell: %llu steps (%llu rej), islet: mean %.3f ms",
                    static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.rejected),
                    islet_s * 1e3 / static_cast<double>(std::max<std::uint64_t>(1, ri.accepted)));
    std::printf("%-6s %6s | %-22s %-24s | %12.2f %12.4f%s\n", c.integ, step, a, b, islet_s / wall, wall / islet_s,
                steps);
  }
  return 0;
}
