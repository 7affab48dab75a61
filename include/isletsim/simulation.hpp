#pragma once
// From a RunConfig to a finished run: builds the network, the per-cell
// parameters (heterogeneity), the coupling weights and the glucose protocol,
// then runs the engine into an HDF5 file.
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
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
// seed, integrator, ...), as run_to_file writes them; the Python module
// writes the same list.
using RunAttr = std::variant<std::string, double, std::int64_t>;
std::vector<std::pair<std::string, RunAttr>> run_attributes(const RunSetup& s, unsigned threads);

// Runs `s` writing the HDF5 file at `path` (layout: docs/hdf5-layout.md). The
// file carries the resolved config, seed, version and integrator; its
// "status" attribute says whether the run completed.
RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt);

}  // namespace isletsim
