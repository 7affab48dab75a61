// The default thread count of a run from its size, the idle cores and the
// writer's share (env.hpp: default_threads).
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "isletsim/env.hpp"

namespace isletsim::env {

unsigned default_threads(std::size_t n_cells, unsigned cores, std::size_t n_states, const ThreadContext& ctx) {
  const std::size_t states = n_states ? n_states : kReferenceStates;
  // Work per step in reference cells, as a long double: no overflow for any
  // size (n_cells * states could wrap in 64 bits for absurd inputs).
  const long double cells = static_cast<long double>(n_cells) * static_cast<long double>(states) /
                            static_cast<long double>(kReferenceStates);
  unsigned free = std::max(1u, cores);
  // A core counts as free when at least 3/4 of it is idle: a thread on a
  // core that another process keeps a quarter busy already waits at the
  // barriers for that process's time slices.
  if (ctx.idle_cores >= 0)
    free = std::clamp(static_cast<unsigned>(std::floor(std::min(ctx.idle_cores + 0.25, static_cast<double>(free)))),
                      1u, free);
  if (cells <= 0) return 1;
  const long double writer = std::max(0.0, ctx.writer_share);
  const unsigned parts = std::max(1u, ctx.writer_parts), usable = std::max(1u, cores);
  const auto wall = [&](unsigned n) {
    long double w = 1.0L / n;
    if (n > 1) w += static_cast<long double>(kSyncCells) * std::log2(static_cast<long double>(n)) / cells;
    if (encode_on_compute(n, usable)) {
      w += writer * static_cast<long double>((parts + n - 1) / n) / parts;  // shared by the threads
    } else if (n == free) {
      w += writer * kWriterStall;  // the writer has no idle core of its own
    }
    return w;
  };
  unsigned best = 1;
  long double best_w = wall(1);
  for (unsigned n = 2; n <= free; ++n) {
    const long double w = wall(n);
    if (w < best_w) best = n, best_w = w;
  }
  return best;
}

bool encode_on_compute(unsigned threads, unsigned cores) { return threads >= std::max(1u, cores); }

double writer_share(double values_per_cell_s, double evals_per_cell_s, std::size_t n_states, double working_set_bytes) {
  if (!(values_per_cell_s > 0) || !(evals_per_cell_s > 0)) return 0;
  const double states = static_cast<double>(n_states ? n_states : kReferenceStates);
  double step_ns = evals_per_cell_s * kStepNsPerEval * states / static_cast<double>(kReferenceStates);
  if (working_set_bytes > 0) {
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l2 <= 0) l2 = 1 << 20;
    step_ns *= 1 + 0.5 * std::clamp(std::log2(working_set_bytes / static_cast<double>(l2)) / 3, 0.0, 1.0);
  }
  return values_per_cell_s * kWriterNsPerValue / step_ns;
}

namespace {

// Per-CPU (idle, total) jiffies from /proc/stat's "cpuN ..." lines.
bool read_cpu_times(const std::string& path, std::vector<std::pair<long double, long double>>& times) {
  std::ifstream in(path);
  if (!in) return false;
  times.clear();
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.compare(0, 3, "cpu") != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream ls(line.substr(3));
    std::size_t cpu = 0;
    ls >> cpu;
    long double v[10] = {}, total = 0;
    int k = 0;
    for (; k < 10 && (ls >> v[k]); ++k) total += v[k];
    // user nice system idle iowait irq softirq steal [guest guest_nice]:
    // guest time is already in user, so it is not counted twice.
    if (k < 4) return false;
    if (k >= 9) total -= v[8];
    if (k >= 10) total -= v[9];
    if (cpu >= times.size()) times.resize(cpu + 1, {-1, -1});
    times[cpu] = {v[3] + (k > 4 ? v[4] : 0), total};
    any = true;
  }
  return any;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time of the clock `clock` (a thread's), ns.
std::int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

IdleSample::IdleSample(std::string proc_stat, bool whole_process) : path_(std::move(proc_stat)) {
  ok_ = read_cpu_times(path_, start_);
  t0_ns_ = now_ns();
  clockid_t clock = CLOCK_PROCESS_CPUTIME_ID;
  if (!whole_process && pthread_getcpuclockid(pthread_self(), &clock) != 0) clock = CLOCK_THREAD_CPUTIME_ID;
  cpu_clock_ = static_cast<int>(clock);
  cpu0_ns_ = cpu_ns(clock);
  proc_stat_is_real_ = path_ == "/proc/stat";
}

std::optional<double> IdleSample::idle(unsigned min_ms) const {
  if (!ok_) return std::nullopt;
  const std::int64_t left = static_cast<std::int64_t>(min_ms) * 1000000 - (now_ns() - t0_ns_);
  if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
  std::vector<std::pair<long double, long double>> b;
  if (!read_cpu_times(path_, b)) return std::nullopt;
  const auto& a = start_;
  cpu_set_t set;
  CPU_ZERO(&set);
  const bool mask = sched_getaffinity(0, sizeof set, &set) == 0;
  double idle = 0;
  bool any = false;
  for (std::size_t cpu = 0; cpu < std::min(a.size(), b.size()); ++cpu) {
    if (mask && (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))) continue;
    if (a[cpu].second < 0 || b[cpu].second < 0) continue;
    const long double dt = b[cpu].second - a[cpu].second, di = b[cpu].first - a[cpu].first;
    any = true;
    // No tick counted in the sample (a tickless idle CPU): idle.
    idle += dt > 0 ? static_cast<double>(std::clamp(di / dt, 0.0L, 1.0L)) : 1.0;
  }
  if (!any) return std::nullopt;
  // What the sampling thread (whole_process: this process) itself ran in
  // the meantime (reading the inputs, building the network) is not a
  // competitor's load: it counts as idle. (Without whole_process, other
  // threads of this process, e.g. another simulation started from Python,
  // do count as load.)
  const double wall = static_cast<double>(now_ns() - t0_ns_);
  if (wall > 0 && proc_stat_is_real_)
    idle += static_cast<double>(cpu_ns(static_cast<clockid_t>(cpu_clock_)) - cpu0_ns_) / wall;
  return idle;
}

unsigned default_threads_now(std::size_t n_cells, unsigned cores, std::size_t n_states, double writer,
                             unsigned writer_parts, const IdleSample& sample) {
  ThreadContext ctx;
  ctx.writer_share = writer;
  ctx.writer_parts = writer_parts;
  if (default_threads(n_cells, cores, n_states) > 1) {
    if (const auto idle = sample.idle()) ctx.idle_cores = *idle;
  }
  return default_threads(n_cells, cores, n_states, ctx);
}

unsigned resolve_threads(unsigned long long requested, std::size_t n_cells, unsigned cores, std::size_t n_states,
                         const std::string& option) {
  if (requested == 0) return default_threads(n_cells, cores, n_states);
  check_thread_count(requested, option);
  return static_cast<unsigned>(requested);
}

}  // namespace isletsim::env
