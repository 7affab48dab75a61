// Sweep benchmarks (BENCHMARKS.md, "Sweeps (issue 4)").
//
//   sweep_bench overhead [tasks=100] [reps=3]
//       Per-task overhead of `islet sweep` (run_sweep: task set-up, result
//       file, metrics, the table rewritten after every task): tasks of a
//       27-cell islet lasting ~10-50 ms, serial executor;
//       overhead = (sweep wall - sum of task wall times) / tasks, and as % of
//       a 1 s task. Median over reps.
//   sweep_bench scaling [tasks=16] [reps=3]
//       Tasks of ~0.1 s: sweep wall with 1 and 2 workers (threads executor).
//   sweep_bench gauss [reps=21]
//       Gauss-map bifurcation 640x400 (default options): the kernel on one
//       thread (thread CPU time: insensitive to other processes), and the
//       whole diagram on 2 workers (wall): compute and PNG, median and best.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isletsim/gauss.hpp"

using namespace isletsim::sweep;
namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}
double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// A sweep of `tasks` runs of a 27-cell lattice, durations cycling through
// `durations` (simulated seconds), recording c.
SweepSpec make_spec(unsigned tasks, const std::vector<double>& durations, const fs::path& out) {
  std::string list;
  for (unsigned i = 0; i < tasks; ++i) list += (i ? ", " : "") + std::to_string(durations[i % durations.size()]);
  const std::string text = "out_dir = \"" + out.string() + "\"\n[base.network]\nkind = \"lattice\"\nnx = 3\nny = 3\nnz = 3\n"
                           "[base.record]\nvars = [\"c\"]\n[zip]\n\"sim.duration_s\" = [" + list + "]\n";
  return parse_sweep(text, "<sweep_bench>", ".");
}

// Sum of the table's wall_s column (ms resolution: the rounding averages out).
double sum_task_wall(const std::string& table) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);
  double sum = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f;
    for (int k = 0; k < 3 && std::getline(ss, f, ','); ++k) {
    }
    std::getline(ss, f, ',');  // column 3 after task, sim.duration_s, status: wall_s
    sum += std::stod(f);
  }
  return sum;
}

SweepOutcome run(const SweepSpec& spec, ExecutorKind kind, unsigned cores) {
  fs::remove_all(spec.out_dir);
  SweepOptions o;
  o.exec.kind = kind;
  o.exec.cores = cores;
  o.quiet = true;
  return run_sweep(spec, o);
}

int overhead(unsigned tasks, unsigned reps) {
  const fs::path out = fs::temp_directory_path() / "sweep_bench_overhead";
  // 27 cells, RK4 0.5 ms: 0.5 .. 2.5 simulated s ~ 10 .. 50 ms of compute.
  const SweepSpec spec = make_spec(tasks, {0.5, 1.0, 1.5, 2.0, 2.5}, out);
  run(spec, ExecutorKind::serial, 1);  // warm-up
  std::vector<double> per_task, mean_task;
  for (unsigned r = 0; r < reps; ++r) {
    const SweepOutcome o = run(spec, ExecutorKind::serial, 1);
    const double sum = sum_task_wall(o.table);
    per_task.push_back((o.wall_s - sum) / tasks);
    mean_task.push_back(sum / tasks);
    std::printf("rep %u: %u tasks in %.3f s, tasks' own wall %.3f s (mean %.1f ms): overhead %.3f ms per task\n", r,
                tasks, o.wall_s, sum, 1e3 * sum / tasks, 1e3 * per_task.back());
  }
  const double m = median(per_task);
  std::printf("overhead per task (median of %u): %.3f ms = %.3f%% of a 1 s task (mean task %.1f ms)\n", reps, 1e3 * m,
              100 * m, 1e3 * median(mean_task));
  fs::remove_all(out);
  return 0;
}

int scaling(unsigned tasks, unsigned reps) {
  const fs::path out = fs::temp_directory_path() / "sweep_bench_scaling";
  const SweepSpec spec = make_spec(tasks, {10.0}, out);  // ~0.1 s each
  run(spec, ExecutorKind::threads, 2);                   // warm-up
  std::vector<double> w1, w2;
  for (unsigned r = 0; r < reps; ++r) {
    w1.push_back(run(spec, ExecutorKind::threads, 1).wall_s);
    w2.push_back(run(spec, ExecutorKind::threads, 2).wall_s);
    std::printf("rep %u: 1 worker %.3f s, 2 workers %.3f s\n", r, w1.back(), w2.back());
  }
  std::printf("%u tasks of ~%.0f ms: 1 worker %.3f s, 2 workers %.3f s (medians of %u): speed-up %.2fx\n", tasks,
              1e3 * median(w1) / tasks, median(w1), median(w2), reps, median(w1) / median(w2));
  fs::remove_all(out);
  return 0;
}

int gauss(unsigned reps) {
  const GaussOptions g;
  std::vector<std::uint32_t> counts(static_cast<std::size_t>(g.width) * g.height);
  std::vector<double> kernel, compute, png;
  gauss_histograms(g, 0, g.width, counts.data());
  for (unsigned r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_s();
    gauss_histograms(g, 0, g.width, counts.data());
    kernel.push_back(thread_cpu_s() - t0);
  }
  const std::string path = (fs::temp_directory_path() / "sweep_bench_gauss.png").string();
  ExecutorOptions eo;
  eo.kind = ExecutorKind::threads;
  eo.cores = 2;
  for (unsigned r = 0; r < reps; ++r) {
    const BifurcationTiming t = gauss_bifurcation(g, path, eo);
    compute.push_back(t.compute_s);
    png.push_back(t.png_s);
  }
  std::printf("Gauss map %ux%u, %u+%u iterations per column (%u runs each):\n", g.width, g.height, g.transient,
              g.iterations, reps);
  std::printf("  kernel, 1 thread (thread CPU time): median %.2f ms, best %.2f ms (%.2f ns per iterate)\n",
              1e3 * median(kernel), 1e3 * best(kernel),
              1e9 * best(kernel) / (static_cast<double>(g.width) * (g.transient + g.iterations)));
  std::printf("  diagram, 2 workers (wall): compute median %.2f ms, best %.2f ms; PNG median %.2f ms, best %.2f ms\n",
              1e3 * median(compute), 1e3 * best(compute), 1e3 * median(png), 1e3 * best(png));
  fs::remove(path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto arg = [&](int i, unsigned def) { return argc > i ? static_cast<unsigned>(std::atoi(argv[i])) : def; };
  if (mode == "overhead") return overhead(arg(2, 100), arg(3, 3));
  if (mode == "scaling") return scaling(arg(2, 16), arg(3, 3));
  if (mode == "gauss") return gauss(arg(2, 21));
  std::fprintf(stderr, "usage: sweep_bench overhead [tasks] [reps] | scaling [tasks] [reps] | gauss [reps]\n");
  return 2;
}
