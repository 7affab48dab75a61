#pragma once
// From a RunConfig to a finished run (src/run/): builds the network, the
// per-cell parameters (heterogeneity), the coupling weights and the glucose
// protocol, then runs the engine into an HDF5 file. The one path from a config
// to a file: the CLI, the sweep tasks and the Python module all call it.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/network.hpp"

namespace isletsim {

struct RunSetup {
  RunConfig config;
  Network network;  // edge_w holds the effective weights w_ij
  EngineProblem problem;
  // Per-cell gap-junction conductance factors g_i (coupling.weights =
  // "per_cell"; empty otherwise): w_ij = network weight * (g_i + g_j) / 2.
  std::vector<double> conductance_factor;
  // What came from arrays instead of the config ("network", "params",
  // "initial": a Python network=, params=, initial=). The file stores them
  // (attribute external_inputs), and a re-run of the file reads them back.
  std::vector<std::string> external;
  // A continued run: the run file it goes on from (problem.start_step,
  // first_sample and initial are its checkpoint's). When it is also the
  // output, that file is extended in place; else a new file gets its
  // samples first.
  std::string continues;
  // Provenance: the command line (or Python call) that made the run.
  std::string command_line;
};

// Throws InputError for anything inconsistent (files, sizes, values).
RunSetup build_setup(const RunConfig& cfg);
// The same with a network built elsewhere (e.g. in Python) instead of the
// config's [network] section; nullptr = build it from the config.
RunSetup build_setup(const RunConfig& cfg, const Network* network);

// The config stored in a run file, with `sets` applied: what `islet run
// file.h5` and Python's Config.load("file.h5") re-run (rerun_file set, so
// that what the run took from arrays is read back from the file).
RunConfig config_of_run_file(const std::string& path, const std::vector<std::string>& sets = {});

// A run that goes on from the last complete state stored in `path` (its
// checkpoint, or its end state) with the file's own config; `sets` may only
// change sim.duration_s and record.checkpoint_s (anything else would not be
// the same run: start a new one with [initial] from instead). InputError
// when the file holds no state or the duration ends before it.
RunSetup build_continuation(const std::string& path, const std::vector<std::string>& sets = {});

// Throws InputError when `output` is one of the run's inputs (its config
// file, the run file it re-runs or starts from, its network CSV files).
void check_output_path(const RunSetup& s, const std::string& output);

// An output file that exists, and that the run was not asked to replace.
struct OutputExists : InputError {
  using InputError::InputError;
};
// Data already simulated is never lost: check_output_path, then throws
// OutputExists when `output` exists (a file, not a folder) unless `overwrite`
// or `in_place` (a continued run extending its own file). `how`: how to
// replace it, for the message (e.g. "give --overwrite").
void check_output_is_new(const RunSetup& s, const std::string& output, bool overwrite, bool in_place,
                         const std::string& how);

// The writer thread's expected CPU per CPU second of `s` simulated on one
// thread, when its samples are written to a file as the run goes
// (env::ThreadContext::writer_share): from the values recorded per
// simulated second and the model evaluations the integrator spends on it.
double writer_share_of(const RunSetup& s);

// Multiplicative factor (mean 1, coefficient of variation d.cv) for one cell,
// from the counter-based RNG: depends only on (seed, cell, stream, sub).
double draw_factor(const Distribution& d, std::uint64_t seed, std::uint64_t cell, std::uint32_t stream,
                   std::uint32_t sub);

std::string version();

// Samples per hand-over to the writer thread and per HDF5 chunk along time:
// about 1 MiB, a power of two, at most 1024.
// landing_samples > 0 (adaptive integrators): the largest divisor of it up
// to that size, so that blocks end on the landing points.
std::size_t record_block_for(std::size_t n_cells, std::size_t n_vars, std::uint64_t landing_samples = 0);
// Samples between the landing points of an adaptive integrator: one second's
// worth when the interval divides a second, else at least 64 (whole blocks).
std::uint64_t landing_samples_for(double record_interval_ms, std::size_t n_cells);

// The root attributes of a run's output file (program, version, config,
// seed, integrator, ...), as run_to_file writes them.
using RunAttr = std::variant<std::string, double, std::int64_t>;
std::vector<std::pair<std::string, RunAttr>> run_attributes(const RunSetup& s, unsigned threads);

// "complete", "interrupted" or "failed": the file's status attribute.
std::string status_text(RunResult::Status s);

// One per-cell parameter of a run's file (/params/<name>).
struct CellParam {
  std::string name, units, description;
  std::vector<double> values;  // one per cell
};

// Everything a run's file holds but the samples and the final status.
struct RunFileStatic {
  std::size_t n_cells = 0;
  std::vector<double> x, y, z;                // cell centres (um)
  std::vector<std::uint32_t> edge_i, edge_j;  // each undirected edge once
  std::vector<double> edge_w;                 // effective weights w_ij
  std::vector<CellParam> params;              // in the model's table order
  std::vector<CellParam> initial;             // /initial/<state>: the state at the start, the model's order
  std::vector<double> conductance_factor;     // /cells/conductance_factor (empty: not written)
  std::vector<H5Variable> vars;               // recorded variables, in the order of the samples
  std::vector<std::pair<std::string, RunAttr>> attrs;  // root attributes but status
  bool float32 = false;                       // storage type of /data/<var> (record.dtype)
  std::size_t chunk_samples = 64;             // samples per HDF5 chunk along time
};

// The static part of the file run_to_file writes for `s`.
RunFileStatic file_static(const RunSetup& s, unsigned threads);

// Creates (truncates) the file at `path` with the static part `f` written,
// ready for append() and finish(). Throws InputError if it can't be created;
// after a write error while it is made, no file is left (H5Writer).
std::unique_ptr<H5Writer> open_run_file(const std::string& path, const RunFileStatic& f);

// Runs `s` writing the HDF5 file at `path` (layout: docs/hdf5-layout.md),
// refused (InputError) when `path` is one of its inputs or another run is
// writing it (an exclusive lock on the file while the run goes on). The
// complete state is saved at RunConfig::checkpoint_s and at the end. A
// write error (a full disk) ends the run with status "failed", the reason,
// and every sample before it in the file. `prefix`, for a continued run
// written to a new file, holds the samples it keeps (Python's in-memory
// result); otherwise they are read from s.continues. Such a new file is
// removed should anything throw before the run's first block is in it (a
// write error while the samples kept are copied). The
// file carries the resolved config, seed, version and integrator; its
// "status" attribute says whether the run completed. `also`, when given,
// receives every block of samples after it is in the file (Python keeps them
// in memory and calls its callback from there).
RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt,
                      SampleSink* also = nullptr, const H5Run* prefix = nullptr);

}  // namespace isletsim
