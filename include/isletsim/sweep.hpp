#pragma once
// Parameter sweeps: many independent tasks (islet runs; the Gauss-map demo's columns, gauss.hpp)
// run by an executor (serial, threads in one process, or MPI ranks), with a
// results table, resume and sharding. File format and usage: docs/sweeps.md.
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
#include "isletsim/network.hpp"

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

enum class ExecutorKind { serial, threads, mpi };
ExecutorKind executor_from_string(const std::string& s);  // serial, threads, mpi; throws InputError
const char* to_string(ExecutorKind k);
// "auto": mpi when this build has MPI and a launcher started us (launcher_size
// > 0, see env::mpi_launcher_size), else threads; otherwise executor_from_string,
// refusing mpi when MPI is not built in.
ExecutorKind resolve_executor(const std::string& s, unsigned launcher_size);

struct ExecutorOptions {
  ExecutorKind kind = ExecutorKind::threads;
  unsigned cores = 1;             // cores to use (the caller decides: env::detect_cores() for "all")
  unsigned threads_per_task = 1;  // concurrent tasks = max(1, cores / threads_per_task)
  const std::atomic<bool>* stop = nullptr;  // set: start no new task, ask running ones to stop
};

// Concurrent tasks the options give (1 for serial).
unsigned concurrent_tasks(const ExecutorOptions& opt);

// Runs every task (dynamic distribution: a free worker takes the next index).
// done(i, result) is called as each task finishes, one call at a time (under
// a lock), from whichever thread ran it. Tasks skipped because of a stop
// request are reported as Status::interrupted without running.
//
// ExecutorKind::mpi (an MpiSession must be alive): every rank calls execute
// with the same task list; each rank runs cores / threads_per_task tasks at a
// time, all ranks taking indices from rank 0, which hands them out one at a
// time from a helper thread (and works too). Results travel to rank 0; done()
// is called on rank 0 only, for every task.
void execute(const std::vector<Task*>& tasks, const std::function<void(std::size_t, TaskResult&&)>& done,
             const ExecutorOptions& opt);

// ---------------------------------------------------------------- MPI

bool mpi_built();  // this build links MPI (CMake option ISLET_MPI)


// Cores of one rank: the cores detected for the process, divided among the
// ranks on this node that share its CPU affinity mask (mpirun binding each
// rank to its own cores: no division; no binding: detected / ranks on node).
// At least 1.
unsigned rank_cores(unsigned detected, unsigned ranks_sharing_mask);

// MPI_Init_thread (MPI_THREAD_SERIALIZED) ... MPI_Finalize. One per process.
class MpiSession {
 public:
  MpiSession();  // throws std::runtime_error when MPI is not built in or fails
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  unsigned ranks_on_node() const { return node_ranks_; }
  unsigned ranks_sharing_mask() const { return mask_ranks_; }  // on this node, same affinity mask as this rank
  std::vector<int> allgather(int value) const;  // every rank's value, by rank

 private:
  int rank_ = 0, size_ = 1;
  unsigned node_ranks_ = 1, mask_ranks_ = 1;
};

// ---------------------------------------------------------------- sweep files

struct Value {
  std::string toml;     // TOML literal, as used in --set key=<toml>
  std::string display;  // for the results table (strings unquoted)
};

struct SweepSpec {
  std::string path;                              // the sweep file ("" when parsed from text)
  std::string base_text, base_origin, base_dir;  // base run config (TOML), where it came from
  std::string base_file;                         // the file base names (a .toml, or a run .h5); "" for [base]
  std::string out_dir;                           // result files and summary.csv
  std::vector<std::string> keys;                 // swept config keys, in table-column order
  std::vector<std::vector<Value>> points;   // points[task][key]
  // The network of every task instead of the config's [network] (Python's
  // isletsim.sweep(network=...)); null: each task builds it from its config.
  std::shared_ptr<const Network> network;
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

// The resolved config of task i: the base with the task's overrides, its
// base_dir, and output = task_file(i).
RunConfig task_config(const SweepSpec& spec, std::size_t i);

// ---------------------------------------------------------------- task hashes

// A task's file stores a hash of everything its results depend on, as the
// root attribute "task_hash" ("fnv1a64:" and 16 hex digits): FNV-1a 64 of the
// canonical config text (to_toml) with record.file left out (where a file is
// written does not change it; the threads used are not in the config, and
// the results do not depend on them), plus the network when the config text
// alone does not fix it (the bytes of a CSV network's files; a network given
// instead of [network]). Equal hashes: bit-identical files but for record.file
// and the run's wall times and thread count.
inline constexpr const char* kTaskHashAttr = "task_hash";
std::string config_hash(const RunConfig& cfg, const Network* network = nullptr);
std::string task_hash(const SweepSpec& spec, std::size_t i);
std::string stored_task_hash(const std::string& file);                   // "" when it has none (or is unreadable)
void store_task_hash(const std::string& file, const std::string& hash);  // throws std::runtime_error

// --resume of a task whose final file and "ok" row exist: "" when its stored
// hash is the task's, else one line saying why it runs again ("task 3: config
// changed since it ran (glucose.level 8 -> 11); re-running").
std::string resume_reason(const SweepSpec& spec, std::size_t i);

// Swept keys that cannot change some tasks' results, one line per key (and
// one for tasks whose configs are identical): glucose keys the glucose mode
// does not use or a step after the end of the run, heterogeneity.X.dist with
// cv = 0, sim.seed when nothing is random, record.* and summary.* keys,
// network.* keys with a network given. Warnings only: nothing is refused.
std::vector<std::string> sweep_warnings(const SweepSpec& spec);

// ---------------------------------------------------------------- islet tasks

// The islet-run task: writes task_file(i) (temporary name, renamed when the
// run completed) and measures the recorded c (see IsletMetrics).
std::unique_ptr<Task> make_islet_task(const SweepSpec& spec, std::size_t i);

// Metrics of a recorded c (samples x cells) over a window: from the first
// sample at or after from_s to the last at or before to_s (NaN from_s: from
// sample samples/2, the second half of the run; NaN to_s: to the last
// sample). Mean duty cycle over cells; synchrony (mean pairwise
// correlation); oscillation frequency of the islet-mean trace: its upward
// crossings of its mid-level (min + max)/2 per second, NaN when the mean
// trace has no common rhythm to measure:
//  - fewer than kMinCrossings upward crossings (two complete oscillations), or
//  - its SD is below kMinCoherence times the cells' RMS SD (cells out of
//    phase average out: for N independent cells the ratio is ~1/sqrt(N), for
//    identical ones 1; with equal SDs it is sqrt(1/N + (1 - 1/N) r), r the mean
//    pairwise correlation, so 0.5 is r ~ 0.25 for large islets).
// All NaN when the window has fewer than 4 samples or there are no cells.
inline constexpr std::size_t kMinCrossings = 3;
inline constexpr double kMinCoherence = 0.5;
struct IsletMetrics {
  double duty_cycle = 0, frequency_hz = 0, synchrony = 0;
  double from_s = NAN, to_s = NAN;  // the window: times of its first and last samples
  double coherence = NAN;           // SD of the mean trace / RMS SD of the cells
};
IsletMetrics islet_metrics(const std::vector<double>& time_s, const double* c, std::size_t samples, std::size_t cells,
                           double from_s = NAN, double to_s = NAN);

// ---------------------------------------------------------------- running a sweep

struct Shard {
  unsigned k = 1, n = 1;  // 1-based: this shard runs tasks with index % n == k - 1
  bool selects(std::size_t i) const { return i % n == k - 1; }
};
Shard parse_shard(const std::string& s);  // "3/10"; throws InputError

struct SweepOptions {
  ExecutorOptions exec;
  Shard shard;
  bool resume = false;    // skip tasks whose result file, table row (status ok) and task hash are current
  bool overwrite = false;  // without resume: replace an earlier sweep's results in out_dir (else refused)
  bool progress = false;  // progress line on stderr
  bool quiet = false;     // no per-task failure messages, warnings or re-run reasons
  bool notes = true;      // print sweep_warnings and re-run reasons on stderr (unless quiet)
};

struct SweepOutcome {
  std::size_t total = 0, selected = 0, skipped = 0, ok = 0, failed = 0, interrupted = 0;
  double wall_s = 0;
  std::string table;                // path of the results table
  std::vector<std::string> reruns;  // --resume: why finished tasks ran again (resume_reason; rank 0 only)
};

// The results table of a shard: summary.csv, or summary.shard-K-of-N.csv;
// the same rows in HDF5 beside it (summary.h5, summary.shard-K-of-N.h5;
// written at the end of run_sweep): one 1-D dataset per column, float64 for
// numbers, variable-length UTF-8 strings otherwise; root attribute "columns"
// lists the column names in table order.
std::string table_path(const SweepSpec& spec, const Shard& shard);
std::string table_h5_path(const SweepSpec& spec, const Shard& shard);

// With opt.exec.kind == mpi every rank calls it (an MpiSession alive): rank 0
// reads and writes the table, the others run tasks; every rank returns the
// same outcome (and throws the same InputError on bad input).
SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt);

// ---------------------------------------------------------------- analysing a sweep

struct AnalyzeSweepOptions {
  ExecutorOptions exec;
  Overrides sets;         // "analysis.k_avg=6", ... on top of each task's stored [analysis]
  bool quiet = false;     // no per-task failure messages
};

struct AnalyzeSweepOutcome {
  std::size_t tasks = 0, ok = 0, failed = 0, skipped = 0, interrupted = 0;  // skipped: no result file
  double wall_s = 0;
  std::string table;              // <dir>/analysis.csv
  std::vector<std::string> keys;  // the swept keys (columns of summary.csv between task and status)
};

// `islet analyze DIR`: the analysis pipeline on every complete task of a
// sweep's output directory (its summary.csv and task files), run as tasks on
// the executor; each task gets task_<i>.analysis.h5, .cells.csv and
// .summary.csv, and <dir>/analysis.csv holds the summary table's task and
// swept-key columns, status, the global metrics of every task and a message.
// With opt.exec.kind == mpi every rank calls it (an MpiSession alive).
AnalyzeSweepOutcome analyze_sweep(const std::string& dir, const AnalyzeSweepOptions& opt);

}  // namespace isletsim::sweep
