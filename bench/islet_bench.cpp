// Wall time per simulated second of the default 1000-cell islet, no
// recording, for each integrator and thread count, all in one run so the
// figures compare as ratios. Usage: islet_bench [sim_seconds] [n_cells]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "isletsim/simulation.hpp"

using namespace isletsim;

int main(int argc, char** argv) {
  const double sim_s = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  std::printf("%-6s %7s %8s %8s %12s %14s %12s %10s\n", "integ", "dt_ms", "cells", "threads", "wall_s/sim_s",
              "sim_s/wall_s", "cell-steps/s", "sync_%");
  for (const char* integ : {"euler", "rk4"}) {
    RunConfig c = default_config();
    c.n_cells = n;
    c.duration_s = sim_s;
    c.integrator = integ;
    c.dt_ms = default_dt_ms(integrator_from_string(integ));
    c.glucose_mode = "fixed_jgk";  // bursting from the start
    RunSetup s = build_setup(c);
    s.problem.record_vars.clear();
    for (unsigned t : {1u, 2u}) {
      RunOptions opt;
      opt.threads = t;
      opt.profile = true;
      run_engine(s.problem, nullptr, opt);  // warm-up (page faults, clocks)
      opt.profile = false;
      const RunResult r = run_engine(s.problem, nullptr, opt);
      opt.profile = true;
      const RunResult rp = run_engine(s.problem, nullptr, opt);
      const double steps = static_cast<double>(r.steps_done) * static_cast<double>(n);
      std::printf("%-6s %7.2f %8zu %8u %12.4f %14.2f %12.3g %10.1f\n", integ, c.dt_ms, n, t, r.wall_s / sim_s,
                  sim_s / r.wall_s, steps / r.wall_s, 100.0 * rp.profile.sync / (rp.profile.total_wall * t));
    }
  }
  return 0;
}
