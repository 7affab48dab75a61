#pragma once
// The environment: how many cores a run may use and why, signals, terminal.
// Only the CLI and the Python module call this; the engine is handed plain
// values (the Arbor arborenv/arbor split).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace isletsim::env {

struct CoreSource {
  std::string name;             // e.g. "affinity", "cgroup v2 cpu.max (/sys/fs/cgroup/...)", "OMP_NUM_THREADS"
  std::optional<double> limit;  // cores this source allows; nullopt = no limit / not present
  std::string detail;           // raw value read, or why absent
};

struct CoreReport {
  std::vector<CoreSource> sources;
  unsigned cores = 1;  // min over sources, at least 1 (fractional quotas rounded down)
  // Names of the sources that set `cores` (comma separated), or a note that
  // none did and `cores` is std::thread::hardware_concurrency().
  std::string limited_by;
};

// Where to look; tests point these at fake files and fake environments.
struct CoreProbe {
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string proc_self_cgroup = "/proc/self/cgroup";
  bool use_affinity = true;  // sched_getaffinity of this process
  // Environment lookup; default (nullptr) reads the process environment.
  // An empty result means "not set".
  std::string (*getenv)(const char*) = nullptr;
};

CoreReport detect_cores(const CoreProbe& probe = {});

// Human-readable table for `islet info`: one line per source (name, limit or
// "-", detail), then "usable cores: N (limited by X)". Ends with a newline.
std::string format_core_report(const CoreReport& report);

// The most threads (or workers) one run may be given: 1024. Above that
// OpenMP runtimes fail to create the team (libgomp crashes at ~30000 with
// the default 8 MiB thread stacks), and no single node has that many cores
// (the largest today: 512 hardware threads). A fixed number rather than a
// multiple of the cores detected: a command line that works on one machine
// works on every machine (more threads than cores is legal: they share).
inline constexpr unsigned long long kMaxThreads = 1024;

// InputError "<option> <requested>: too many threads (at most 1024; ...)"
// when requested > kMaxThreads; `option` names where the number came from
// ("-j", "threads="). 0 and 1..1024 pass.
void check_thread_count(unsigned long long requested, const std::string& option = "-j");

// The thread count a run gets when none is asked for (`islet run` without
// -j, isletsim.simulate(threads=None)). Lock-step threads pay only where
// each has enough work per stage to hide the synchronisation between the
// stages, and only on cores nobody else is using (a thread on a shared core
// turns every wait at a barrier into a time slice of the other process);
// and the samples' compression costs the threads time when they do it
// themselves (a thread on every usable core, encode_on_compute) or when the
// writer thread has no idle core of its own (it stalls them all).
// So the default predicts the wall time of N threads, relative to one
// thread's simulation time 1:
//   W(N) = 1/N + (kSyncCells / cells) log2(N) + C(N)
//   C(N) = writer ceil(parts / N) / parts   when N >= the usable cores
//          writer kWriterStall              when N == free, fewer than them
//          0                                otherwise
// where cells counts reference cells (11 states each: a model with more
// states per cell counts for more), the middle term is the synchronisation
// (a barrier's cost grows with the log of the threads), free is the number
// of usable cores that are idle (ThreadContext::idle_cores, at least 1, all
// of them when unknown), writer is ThreadContext::writer_share and parts
// ThreadContext::writer_parts; it takes
// the N in 1..free with the smallest W (ties: fewer threads). The constants
// are measured: BENCHMARKS.md, "Default thread count (issue 13)".
inline constexpr std::size_t kReferenceStates = 11;
// A step's synchronisation between two threads (a barrier per stage, the
// load imbalance, the error maximum of an adaptive step) costs as much as
// this many reference cells' work.
inline constexpr double kSyncCells = 100;
struct ThreadContext {
  // Idle capacity of the usable cores (idle_cores()); < 0: unknown, all idle.
  double idle_cores = -1;
  // The writer's work (compressing the samples) in CPU time per CPU second
  // of the simulation on one thread (writer_share()); 0: nothing written
  // during the run.
  double writer_share = 0;
  // The pieces that work splits into (the recorded variables: one
  // compressed block each), for threads that share it (encode_on_compute).
  unsigned writer_parts = 1;
};
// Where the writer's work goes (writer_share): with a thread on every
// usable core (encode_on_compute), the simulation's threads compress the
// samples themselves, variable v on thread v % N, so each block costs them
// ceil(parts / N) of its parts; with fewer threads than usable cores the
// writer thread does it on a core of its own, or, where the idle cores run
// out first (another process busy), on a core that the lock-step threads
// need, which stalls them all (kWriterStall times its CPU time).
bool encode_on_compute(unsigned threads, unsigned cores);
inline constexpr double kWriterStall = 1.3;
unsigned default_threads(std::size_t n_cells, unsigned cores, std::size_t n_states = 0, const ThreadContext& ctx = {});

// How many of the cores this process may run on (its affinity mask) are
// idle: the sum of their idle fractions (idle and iowait time in
// /proc/stat) between the sample's construction and idle(). Take the sample
// early (e.g. before reading the inputs and building the network) so that
// the interval costs nothing; idle() sleeps only for what is left of
// `min_ms` (/proc/stat counts in 10 ms ticks). The CPU time of the thread
// that constructed the sample, in the interval, counts as idle. nullopt
// when the file cannot be read or parsed (then the default assumes idle
// cores).
class IdleSample {
 public:
  // whole_process: every thread of this process counts as idle, not only
  // the constructing one (islet run: libraries' own threads, such as
  // OpenBLAS's workers that spin for a moment after the program starts,
  // are not competitors; Python keeps false, where another simulate()
  // running in the same process is one).
  explicit IdleSample(std::string proc_stat = "/proc/stat", bool whole_process = false);
  std::optional<double> idle(unsigned min_ms = 50) const;

 private:
  std::string path_;
  std::vector<std::pair<long double, long double>> start_;  // per CPU: idle, total
  std::int64_t t0_ns_ = 0, cpu0_ns_ = 0;
  int cpu_clock_ = 0;  // the constructing thread's (or the process's) CPU-time clock (clockid_t)
  bool ok_ = false;
  bool proc_stat_is_real_ = false;  // the system's file: this process's own CPU time is in it
};

// The writer's expected share (ThreadContext::writer_share) from the values
// recorded per cell and simulated second, the model evaluations per cell and
// simulated second, and the model's states: what storing a value costs the
// lock-step threads when the writer takes one of their cores
// (kWriterNsPerValue: float conversion, shuffle, deflate (libdeflate, the
// noise planes stored) and HDF5's write take ~13 ns of CPU per float32
// value) over the cost of an
// evaluation in the engine's step (kStepNsPerEval per reference cell, gather
// and update included). Both are measured on the same machine, so their
// ratio carries over to others better than either alone. Past this core's
// L2 cache the step costs more per evaluation, up to 1.5x when the memory
// the step touches (`working_set_bytes`, 0: not counted) is 8 times the L2
// (measured: 1.46x at 8000 cells against 1000 cells).
inline constexpr double kWriterNsPerValue = 13;
inline constexpr double kStepNsPerEval = 15;
double writer_share(double values_per_cell_s, double evals_per_cell_s, std::size_t n_states = 0,
                    double working_set_bytes = 0);

// default_threads with the idle cores of `sample` (read only when the
// islet is large enough for more than one thread on idle cores).
unsigned default_threads_now(std::size_t n_cells, unsigned cores, std::size_t n_states, double writer_share,
                             unsigned writer_parts, const IdleSample& sample);

// The thread count of a run: `requested` when it is > 0 (checked with
// check_thread_count under the name `option`; more threads than cores are
// allowed), else default_threads(n_cells, cores, n_states): the default for
// idle cores and no writer (`islet run` itself takes default_threads_now).
unsigned resolve_threads(unsigned long long requested, std::size_t n_cells, unsigned cores, std::size_t n_states = 0,
                         const std::string& option = "-j");

// Installs SIGINT/SIGTERM handlers that set the returned flag (a second
// signal restores the default action, so a second Ctrl-C kills at once), and
// fail_writes_past_size_limit().
std::atomic<bool>* install_stop_handlers();

// A file-size limit (ulimit -f) reached while writing: the write fails
// (EFBIG) and is reported like a full disk, instead of SIGXFSZ killing the
// process mid-write.
void fail_writes_past_size_limit();

bool stderr_is_tty();

// A damaged HDF5 file can crash the HDF5 library itself (1.10.8 frees a
// wild pointer while listing the links of a corrupted group). While a
// ReadingFile lives, the file it names is the one this thread is reading;
// install_crash_report() (the CLI) turns a crash (SIGSEGV, SIGBUS, SIGABRT)
// on such a thread into "islet: error: 'FILE': ... damaged" and exit status
// 2, as for any other bad input, instead of a bare segmentation fault.
// With CrashReport::report_then_crash (the Python module: an interpreter
// must not exit quietly with a status of its own) it prints
// "PROGRAM: error: 'FILE': ... damaged ...; this process cannot go on" and
// the crash goes on as it would have. Elsewhere (no ReadingFile, or no
// report installed) a crash is what it was: the previous handler (a
// sanitizer's, Python's faulthandler) or the default action takes it.
class ReadingFile {
 public:
  static constexpr std::size_t kPathMax = 512;  // longer paths are cut
  explicit ReadingFile(const std::string& path);
  ~ReadingFile();
  ReadingFile(const ReadingFile&) = delete;
  ReadingFile& operator=(const ReadingFile&) = delete;

 private:
  char saved_[kPathMax];
  bool had_ = false;
};
enum class CrashReport { exit_with_error, report_then_crash };
// program: the message's prefix (a string that lives as long as the process).
void install_crash_report(CrashReport how = CrashReport::exit_with_error, const char* program = "islet");

// World size announced by an MPI launcher in the environment (mpirun/mpiexec
// of Open MPI or MPICH/Hydra, srun with PMI/PMIx); 0 when none. getenv as in
// CoreProbe (nullptr: the process environment; "" means not set). The CLI
// passes it to sweep::resolve_executor: the library reads no environment.
unsigned mpi_launcher_size(std::string (*getenv)(const char*) = nullptr);

}  // namespace isletsim::env
