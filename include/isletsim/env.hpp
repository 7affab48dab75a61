#pragma once
// The environment: how many cores a run may use and why, signals, terminal.
// Only the CLI and the Python module call this; the engine is handed plain
// values (the Arbor arborenv/arbor split).
#include <atomic>
#include <cstddef>
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
// -j, isletsim.simulate(threads=None)): lock-step threads pay only when each
// has enough work per step to hide the synchronisation between the stages of
// a step (a few microseconds, far more when a core is shared). So: one thread
// per kCellsPerThread cells of an 11-state model (the default, bertram2007;
// a model with more states per cell needs proportionally fewer cells),
// rounded down, at least 1 and at most `cores` (the usable cores,
// detect_cores().cores). The figure is measured: BENCHMARKS.md, "Default
// thread count (issue 13)". `n_states` 0 counts as 11.
inline constexpr std::size_t kCellsPerThread = 10000;
inline constexpr std::size_t kReferenceStates = 11;
unsigned default_threads(std::size_t n_cells, unsigned cores, std::size_t n_states = 0);

// The thread count of a run: `requested` when it is > 0 (checked with
// check_thread_count under the name `option`; more threads than cores are
// allowed), else default_threads(n_cells, cores, n_states).
unsigned resolve_threads(unsigned long long requested, std::size_t n_cells, unsigned cores, std::size_t n_states = 0,
                         const std::string& option = "-j");

// Installs SIGINT/SIGTERM handlers that set the returned flag (a second
// signal restores the default action, so a second Ctrl-C kills at once).
std::atomic<bool>* install_stop_handlers();

bool stderr_is_tty();

// World size announced by an MPI launcher in the environment (mpirun/mpiexec
// of Open MPI or MPICH/Hydra, srun with PMI/PMIx); 0 when none. getenv as in
// CoreProbe (nullptr: the process environment; "" means not set). The CLI
// passes it to sweep::resolve_executor: the library reads no environment.
unsigned mpi_launcher_size(std::string (*getenv)(const char*) = nullptr);

}  // namespace isletsim::env
