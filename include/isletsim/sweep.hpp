#pragma once
// Parameter sweeps: many independent tasks (islet runs, Gauss-map columns)
// run by an executor (serial, or threads in one process), with a results
// table, resume and sharding. File format and usage: docs/sweeps.md.
//
// A new kind of task is one new file in src/sweep/: a class derived from
// Task, plus a factory function declared here.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "isletsim/config.hpp"

namespace isletsim::sweep {

// ---------------------------------------------------------------- tasks

struct TaskContext {
  unsigned threads = 1;                     // threads this task may use
  const std::atomic<bool>* stop = nullptr;  // set: stop as soon as possible
};

struct TaskResult {
  enum class Status { ok, failed, interrupted } status = Status::ok;
  std::string message;  // why it failed
  double wall_s = 0;
  std::vector<std::pair<std::string, double>> metrics;  // name, value (NaN: not available)
};
const char* to_string(TaskResult::Status s);

class Task {
 public:
  virtual ~Task() = default;
  // The task's parameters in words, for messages ("coupling.gV=60, sim.seed=2").
  virtual std::string describe() const = 0;
  // Must not throw: failures are returned as Status::failed.
  virtual TaskResult run(const TaskContext& ctx) = 0;
};

// ---------------------------------------------------------------- executors

enum class ExecutorKind { serial, threads };
ExecutorKind executor_from_string(const std::string& s);  // throws InputError
const char* to_string(ExecutorKind k);

struct ExecutorOptions {
  ExecutorKind kind = ExecutorKind::threads;
  unsigned cores = 0;             // cores to use; 0 = env::detect_cores()
  unsigned threads_per_task = 1;  // concurrent tasks = max(1, cores / threads_per_task)
  const std::atomic<bool>* stop = nullptr;  // set: start no new task, ask running ones to stop
};

// Concurrent tasks the options give (1 for serial).
unsigned concurrent_tasks(const ExecutorOptions& opt);

// Runs every task (dynamic distribution: a free worker takes the next index).
// done(i, result) is called as each task finishes, one call at a time (under
// a lock), from whichever thread ran it. Tasks skipped because of a stop
// request are reported as Status::interrupted without running.
void execute(const std::vector<Task*>& tasks, const std::function<void(std::size_t, TaskResult&&)>& done,
             const ExecutorOptions& opt);

// ---------------------------------------------------------------- sweep files

struct Value {
  std::string toml;     // TOML literal, as used in --set key=<toml>
  std::string display;  // for the results table (strings unquoted)
};

struct SweepSpec {
  std::string path;                         // the sweep file ("" when parsed from text)
  std::string base_text, base_origin, base_dir;  // base run config (TOML), where it came from
  std::string out_dir;                      // result files and summary.csv
  std::vector<std::string> keys;            // swept config keys, in table-column order
  std::vector<std::vector<Value>> points;   // points[task][key]
  std::size_t size() const { return points.size(); }
};

// Throws InputError naming file:line:column and the key.
SweepSpec parse_sweep(const std::string& text, const std::string& origin, const std::string& dir);
SweepSpec load_sweep(const std::string& path);

// The --set overrides of task i ("heterogeneity.X.cv" keys become a whole
// heterogeneity.X table keeping the base's other fields).
Overrides task_overrides(const SweepSpec& spec, std::size_t i);
std::string describe_point(const SweepSpec& spec, std::size_t i);

// Final and temporary result file of task i.
std::string task_file(const SweepSpec& spec, std::size_t i);
std::string task_temp_file(const SweepSpec& spec, std::size_t i);

// The islet-run task: writes task_file(i) (temporary name, renamed when the
// run completed) and measures the recorded c (see IsletMetrics).
std::unique_ptr<Task> make_islet_task(const SweepSpec& spec, std::size_t i);

// Metrics of a recorded c (samples x cells), over the second half of the run:
// mean duty cycle over cells, oscillation frequency (upward crossings of the
// islet-mean c through its mid-level per second) and synchrony (mean pairwise
// correlation). NaN when there is no c.
struct IsletMetrics {
  double duty_cycle = 0, frequency_hz = 0, synchrony = 0;
};
IsletMetrics islet_metrics(const std::vector<double>& time_s, const double* c, std::size_t samples,
                           std::size_t cells);

// ---------------------------------------------------------------- running a sweep

struct Shard {
  unsigned k = 1, n = 1;  // 1-based: this shard runs tasks with index % n == k - 1
  bool selects(std::size_t i) const { return i % n == k - 1; }
};
Shard parse_shard(const std::string& s);  // "3/10"; throws InputError

struct SweepOptions {
  ExecutorOptions exec;
  Shard shard;
  bool resume = false;    // skip tasks whose result file and table row exist (status ok)
  bool progress = false;  // progress line on stderr
  bool quiet = false;     // no per-task failure messages
};

struct SweepOutcome {
  std::size_t total = 0, selected = 0, skipped = 0, ok = 0, failed = 0, interrupted = 0;
  double wall_s = 0;
  std::string table;  // path of the results table
};

// The results table of a shard: summary.csv, or summary.shard-K-of-N.csv.
std::string table_path(const SweepSpec& spec, const Shard& shard);

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt);

// ---------------------------------------------------------------- Gauss map

// x_{n+1} = exp(-alpha x_n^2) + beta, beta over [beta_min, beta_max] in
// `width` columns (column c: beta_min + c (beta_max - beta_min) / (width - 1)).
struct GaussOptions {
  double alpha = 5.8, beta_min = -1, beta_max = 1, x_min = -1.0, x_max = 1.5, x0 = 0;
  unsigned width = 640, height = 400, transient = 200, iterations = 4000;
};
double gauss_beta(const GaussOptions& g, unsigned column);

// Histograms of columns [begin, end): counts[(c - begin) * height + bin],
// bin b covers [x_min + b h, x_min + (b+1) h), h = (x_max - x_min) / height;
// iterates outside [x_min, x_max) are not counted.
void gauss_histograms(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* counts);

// A task computing a chunk of columns into a shared array (width x height).
std::unique_ptr<Task> make_gauss_task(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* all_counts);

// Image rows top (x_max) to bottom, value 255 (1 - sqrt(count / iterations)).
std::vector<std::uint8_t> gauss_image(const GaussOptions& g, const std::vector<std::uint32_t>& counts);

struct BifurcationTiming {
  double compute_s = 0, png_s = 0;
  unsigned workers = 0, tasks = 0;
};
// Computes the diagram with the executor and writes the PNG.
BifurcationTiming gauss_bifurcation(const GaussOptions& g, const std::string& png_path, const ExecutorOptions& opt);

// 8-bit greyscale PNG (libpng); throws InputError when it can't be written.
void write_png_gray(const std::string& path, unsigned width, unsigned height, const std::vector<std::uint8_t>& pixels);

}  // namespace isletsim::sweep
