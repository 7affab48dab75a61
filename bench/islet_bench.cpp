// Wall time per simulated second of the default 1000-cell islet, no
// recording, for each integrator and thread count, all in one run so the
// figures compare as ratios. Each configuration runs `repeats` times after a
// warm-up; the median and the best are printed (a shared VM is noisy).
// Usage: islet_bench [sim_seconds] [n_cells] [repeats] [threads, e.g. 1,2] [integrators, e.g. euler,rk4]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "isletsim/simulation.hpp"

using namespace isletsim;

int main(int argc, char** argv) {
  const double sim_s = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  const auto split = [](const char* text) {
    std::vector<std::string> out;
    std::string cur;
    for (const char* p = text;; ++p) {
      if (*p == ',' || *p == 0) {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
        if (*p == 0) break;
      } else {
        cur += *p;
      }
    }
    return out;
  };
  std::vector<unsigned> thread_counts;
  for (const auto& t : split(argc > 4 ? argv[4] : "1,2")) thread_counts.push_back(static_cast<unsigned>(std::stoul(t)));
  const std::vector<std::string> integrators = split(argc > 5 ? argv[5] : "euler,rk4");
  std::printf("%-6s %6s %7s %7s %13s %13s %13s %13s %8s\n", "integ", "dt_ms", "cells", "threads", "median_sim/s",
              "best_sim/s", "wall_s/sim_s", "cell-steps/s", "sync_%");
  for (const std::string& integ : integrators) {
    RunConfig c = default_config();
    c.n_cells = n;
    c.duration_s = sim_s;
    c.integrator = integ;
    c.dt_ms = default_dt_ms(integrator_from_string(integ));
    c.glucose_mode = "fixed_jgk";  // bursting from the start
    RunSetup s = build_setup(c);
    s.problem.record_vars.clear();
    for (unsigned t : thread_counts) {
      RunOptions opt;
      opt.threads = t;
      opt.profile = true;
      run_engine(s.problem, nullptr, opt);  // warm-up (page faults, clocks), and the sync share
      const RunResult rp = run_engine(s.problem, nullptr, opt);
      opt.profile = false;
      std::vector<double> rate;
      for (int r = 0; r < repeats; ++r) rate.push_back(sim_s / run_engine(s.problem, nullptr, opt).wall_s);
      std::sort(rate.begin(), rate.end());
      const double med = rate[rate.size() / 2], best = rate.back();
      std::printf("%-6s %6.2f %7zu %7u %13.2f %13.2f %13.4f %13.3g %8.1f\n", integ.c_str(), c.dt_ms, n, t, med, best,
                  1.0 / med, med * static_cast<double>(n) * 1e3 / c.dt_ms,
                  100.0 * rp.profile.sync / (rp.profile.total_wall * t));
    }
  }
  return 0;
}
