// Wall time per simulated second of the default 1000-cell islet, no
// recording, for each integrator and thread count, all in one run so the
// figures compare as ratios. Each configuration runs `repeats` times after a
// warm-up; the median and the best are printed (a shared VM is noisy).
// Usage: islet_bench [sim_seconds] [n_cells] [repeats] [threads, e.g. 1,2] [integrators, e.g. euler,rk4]
//                    [rebalance_every: steps between load-balancing re-splits, 0 = off]
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <string>
#include <vector>

#include "isletsim/simulation.hpp"

using namespace isletsim;

namespace {
// Round trip of a cache line between the first two CPUs this process may
// use (two threads pinned there, ping-pong on two atomics): the cost every
// synchronisation and every neighbour value read across threads pays. On
// the project's VM it tells how the host has placed the two vCPUs, which
// the 2-thread figures depend on (BENCHMARKS.md): ~67 ns (likely two
// hardware threads of one core: 2 threads ~1.1x faster than 1) or
// 590-660 ns (cores far apart: ~1.3x).
double round_trip_ns() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return -1;
  int cpu[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpu[found++] = c;
  const auto pin = [](int c) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  };
  alignas(64) static std::atomic<int> ping{0};
  alignas(64) static std::atomic<int> pong{0};
  ping = 0;
  pong = 0;
  constexpr int N = 100000;
  std::thread other([&] {
    pin(cpu[1]);
    for (int i = 1; i <= N; ++i) {
      while (ping.load(std::memory_order_acquire) != i) {
      }
      pong.store(i, std::memory_order_release);
    }
  });
  double ns = 0;
  std::thread measure([&] {
    pin(cpu[0]);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 1; i <= N; ++i) {
      ping.store(i, std::memory_order_release);
      while (pong.load(std::memory_order_acquire) != i) {
      }
    }
    ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / N;
  });
  measure.join();
  other.join();
  return ns;
}
}  // namespace

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
  // Load balancing: steps between re-splits (0 = fixed equal split).
  const std::uint64_t rebalance = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : RunOptions{}.rebalance_every;
  if (const double rt = round_trip_ns(); rt > 0)
    std::printf("core-to-core round trip (2 threads, ping-pong on a cache line): %.0f ns\n", rt);
  std::printf("%-6s %6s %7s %7s %13s %13s %13s %13s %8s  %s\n", "integ", "dt_ms", "cells", "threads", "median_sim/s",
              "best_sim/s", "wall_s/sim_s", "cell-steps/s", "sync_%", "split (re-splits)");
  for (const std::string& integ : integrators) {
    RunConfig c = default_config();
    c.n_cells = n;
    c.duration_s = sim_s;
    c.integrator = integrator_from_string(integ);
    c.dt_ms = default_dt_ms(integrator_from_string(integ));
    c.glucose_mode = GlucoseMode::fixed_jgk;  // bursting from the start
    RunSetup s = build_setup(c);
    s.problem.record_vars.clear();
    for (unsigned t : thread_counts) {
      RunOptions opt;
      opt.threads = t;
      opt.rebalance_every = rebalance;
      opt.profile = true;
      run_engine(s.problem, nullptr, opt);  // warm-up (page faults, clocks), and the sync share
      const RunResult rp = run_engine(s.problem, nullptr, opt);
      opt.profile = false;
      std::vector<double> rate;
      RunResult last;
      for (int r = 0; r < repeats; ++r) {
        last = run_engine(s.problem, nullptr, opt);
        rate.push_back(sim_s / last.wall_s);
      }
      // The last run's final split of the cells between threads.
      std::string split;
      for (std::size_t c : last.profile.cells_per_thread) {
        if (!split.empty()) split.append("/");
        split.append(std::to_string(c));
      }
      split.append(" (").append(std::to_string(last.profile.resplits)).append(")");
      std::sort(rate.begin(), rate.end());
      const double med = rate[rate.size() / 2], best = rate.back();
      std::printf("%-6s %6.2f %7zu %7u %13.2f %13.2f %13.4f %13.3g %8.1f  %s\n", integ.c_str(), c.dt_ms, n, t, med, best,
                  1.0 / med, med * static_cast<double>(n) * 1e3 / c.dt_ms,
                  100.0 * rp.profile.sync / (rp.profile.total_wall * t), split.c_str());
    }
  }
  return 0;
}
