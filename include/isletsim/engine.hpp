#pragma once
// The numerical engine: integrates N coupled cells. It reads no environment,
// no files and no config: everything arrives resolved in an EngineProblem,
// including the thread count (decided by src/env or the caller).
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "isletsim/glucose.hpp"
#include "isletsim/integrator.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"

namespace isletsim {


// One value per cell, or a single value for all cells.
struct Column {
  double uniform = 0;
  std::vector<double> values;  // empty = uniform
  bool per_cell() const { return !values.empty(); }
  double at(std::size_t i) const { return values.empty() ? uniform : values[i]; }
};


// Receives recorded samples, in order, from one thread at a time (the engine's
// writer thread); data[v] holds n x n_cells values, sample-major.
struct SampleSink {
  virtual ~SampleSink() = default;
  virtual void write(std::size_t n, const double* time_s, const double* glucose_mM,
                     const std::vector<const double*>& data) = 0;
  // The complete state at step `step` (state[k][cell], the model's state
  // order), after every sample before it was written: the first `samples`
  // samples (those at steps < `step`, or <= `step` when the sample at `step`
  // was taken) belong to the run up to this state. Called on the same thread
  // as write(), at RunOptions::checkpoint_every; a run goes on from it to the
  // same bits (EngineProblem::start_step, first_sample, initial).
  // step_ms: an adaptive integrator's next step (0 for fixed steps), which
  // a continued run needs (EngineProblem::start_step_ms).
  virtual void checkpoint(std::uint64_t step, std::uint64_t samples, const std::vector<std::vector<double>>& state,
                          double step_ms) {
    (void)step, (void)samples, (void)state, (void)step_ms;
  }
  // Optional: a block's per-variable work that may run on any thread before
  // its write() (the run file's compression): variable v's n samples from
  // sample `first` (sample-major, as write()'s data[v]). With
  // RunOptions::encode_on_compute the engine's threads call it, variable v
  // on thread v % threads, after the block is complete and the previous
  // write() has returned, and queue the block's write() after every call
  // has returned; calls for different variables run at once. Default:
  // nothing (write() does everything).
  virtual void encode(std::size_t v, std::uint64_t first, std::size_t n, const double* data) {
    (void)v, (void)first, (void)n, (void)data;
  }
};

// Keeps every sample in memory (tests, Python): data[v] grows by n x n_cells.
struct MemorySink : SampleSink {
  explicit MemorySink(std::size_t cells) : n_cells(cells) {}
  std::vector<double> time_s, glucose_mM;
  std::vector<std::vector<double>> data;
  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    time_s.insert(time_s.end(), t, t + n);
    glucose_mM.insert(glucose_mM.end(), g, g + n);
    if (data.size() < d.size()) data.resize(d.size());
    for (std::size_t v = 0; v < d.size(); ++v) data[v].insert(data[v].end(), d[v], d[v] + n * n_cells);
  }
  std::size_t n_cells = 0;
};

struct Progress {
  std::uint64_t step = 0, n_steps = 0;
};

struct EngineProblem {
  const ModelInfo* model = nullptr;  // the cell model; nullptr: default_model()
  std::size_t n_cells = 0;
  Csr graph;  // effective weights w_ij
  // Coupling coefficients, one per coupled variable of the model (its
  // `coupled` table, in order; missing ones are 0): e.g. Bertram 2007's
  // {gV (pS), gc, gG6P, gADP (1/ms)}.
  std::vector<double> coupling;
  std::vector<Column> params;   // the model's parameter table order
  std::vector<Column> initial;  // the model's state table order
  GlucoseProtocol glucose;
  Integrator integrator = Integrator::rk4;
  // Fixed-step integrators: the step. Adaptive ones (dopri5): the time grid
  // on which samples, the end and start_step lie (the record interval), not
  // a step.
  double dt_ms = 0.5;
  // Adaptive integrators only:
  double tolerance = 1e-8;     // relative; see ModelInfo::error_scale for the absolute part
  double max_step_ms = 0;      // 0: no limit
  double start_step_ms = 0;    // the first step to try (a continued run: its checkpoint's); 0: a guess
  // Steps land on every grid step that is a multiple of land_every (a
  // multiple of record_every), where checkpoints are taken and a stop
  // request ends the run; 0: record_every x record_block.
  std::uint64_t land_every = 0;
  // Steps run from start_step to n_steps (both absolute: t = step * dt), so
  // a run continued from a checkpoint at step s (initial = its state,
  // start_step = s) gives the same bits as one that never stopped.
  std::uint64_t start_step = 0;
  std::uint64_t n_steps = 0;

  // Recording: these state indices every record_every steps (step 0 included).
  std::vector<int> record_vars;
  std::uint64_t record_every = 100;
  std::size_t record_block = 64;  // samples handed to the sink at once
  // Sample k is taken at step k * record_every; samples before first_sample
  // are not taken (a continued run already has them).
  std::uint64_t first_sample = 0;
  // A state with |x| above this counts as a blow-up, like a NaN or inf: the
  // largest float32 when samples are stored as float32 (where a larger value
  // would become inf in the file), else infinity.
  double finite_limit = std::numeric_limits<double>::infinity();

  const ModelInfo& the_model() const { return model ? *model : default_model(); }
  // A problem of `m` with every parameter and initial state at its table value.
  static EngineProblem defaults(const ModelInfo& m);
};

struct RunOptions {
  unsigned threads = 1;
  const std::atomic<bool>* stop = nullptr;  // set to true to stop at the next sample
  std::function<void(const Progress&)> progress;  // called from one thread, about every 1000 steps
  bool profile = false;
  // Load balancing between threads: at the first control point (at most
  // 1000 steps apart, and at every sample) after every `rebalance_every`
  // steps, the cells are re-split between the threads in proportion to
  // their measured speed (a slower core, or one the host shares, gets fewer
  // cells). Results are the same bits for any split. 0: the equal split.
  std::uint64_t rebalance_every = 2000;
  bool rebalance_scramble = false;  // tests only: re-split at arbitrary cuts instead
  // Hand the complete state to SampleSink::checkpoint at the first boundary
  // of a block of record_block samples after every this many steps (0:
  // never; a run that records nothing has none).
  std::uint64_t checkpoint_every = 0;
  // The sink's per-block work (SampleSink::encode: compressing the samples)
  // done by the simulation's threads instead of the writer thread: for runs
  // with a thread on every core, where the writer would take a core from
  // a lock-step thread and stall all of them (islet run decides).
  bool encode_on_compute = false;
};

struct Profile {
  // Seconds per phase, summed over threads (divide by threads for wall time).
  double kernel = 0, coupling = 0, recording = 0, sync = 0, total_wall = 0;
  unsigned threads = 0;
  // CPU seconds the writer thread spent writing recorded samples and
  // checkpoints to the sink (HDF5 compression included), measured in that
  // thread; it runs alongside the simulation's threads, on a core of its own
  // or sharing one with them. Filled with or without RunOptions::profile.
  double writer_cpu = 0;
  std::uint64_t resplits = 0;              // times the cells were re-split between threads (load balancing)
  std::vector<std::size_t> cells_per_thread;  // the final split (padded cells included)
};

struct RunResult {
  enum class Status { complete, interrupted, failed } status = Status::complete;
  std::string message;         // why it stopped early
  std::uint64_t steps_done = 0;  // steps run by this call (from start_step)
  std::size_t samples = 0;       // samples taken by this call
  double wall_s = 0;
  Profile profile;
  std::vector<std::vector<double>> final_state;  // [state][cell], at step start_step + steps_done
  // Adaptive integrators: the step to go on with, and the steps taken (and
  // rejected) by this call (steps_done counts grid steps, like start_step).
  double next_step_ms = 0;
  std::uint64_t accepted = 0, rejected = 0;
};

// Validates the problem (sizes, dt > 0, finite values); throws InputError.
void check_problem(const EngineProblem& p);

RunResult run_engine(const EngineProblem& p, SampleSink* sink, const RunOptions& opt);

}  // namespace isletsim
