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
#include "isletsim/h5io.hpp"
#include "isletsim/network.hpp"

namespace isletsim {

struct RunSetup {
  RunConfig config;
  Network network;  // edge_w holds the effective weights w_ij
  EngineProblem problem;
};

// Throws InputError for anything inconsistent (files, sizes, values).
RunSetup build_setup(const RunConfig& cfg);
// The same with a network built elsewhere (e.g. in Python) instead of the
// config's [network] section; nullptr = build it from the config.
RunSetup build_setup(const RunConfig& cfg, const Network* network);

// Multiplicative factor (mean 1, coefficient of variation d.cv) for one cell,
// from the counter-based RNG: depends only on (seed, cell, stream, sub).
double draw_factor(const Distribution& d, std::uint64_t seed, std::uint64_t cell, std::uint32_t stream,
                   std::uint32_t sub);

std::string version();

// Samples per hand-over to the writer thread and per HDF5 chunk along time:
// about 1 MiB, a power of two, at most 1024.
std::size_t record_block_for(std::size_t n_cells, std::size_t n_vars);

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
  std::vector<H5Variable> vars;               // recorded variables, in the order of the samples
  std::vector<std::pair<std::string, RunAttr>> attrs;  // root attributes but status
  bool float32 = false;                       // storage type of /data/<var> (record.dtype)
  std::size_t chunk_samples = 64;             // samples per HDF5 chunk along time
};

// The static part of the file run_to_file writes for `s`.
RunFileStatic file_static(const RunSetup& s, unsigned threads);

// Creates (truncates) the file at `path` with the static part `f` written,
// ready for append() and finish(). Throws InputError if it can't be created.
std::unique_ptr<H5Writer> open_run_file(const std::string& path, const RunFileStatic& f);

// Runs `s` writing the HDF5 file at `path` (layout: docs/hdf5-layout.md). The
// file carries the resolved config, seed, version and integrator; its
// "status" attribute says whether the run completed. `also`, when given,
// receives every block of samples after it is in the file (Python keeps them
// in memory and calls its callback from there).
RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt,
                      SampleSink* also = nullptr);

}  // namespace isletsim
