#pragma once
// What the files of the _isletsim module share: one file per concept
// (config.cpp, network.cpp, result.cpp, simulate.cpp, sweep.cpp, models.cpp,
// analysis_binding.cpp), each with a bind_* function that module.cpp calls.
// The types live in a named namespace so every file sees the same
// pybind11 registration.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "isletsim/config.hpp"
#include "isletsim/error.hpp"
#include "isletsim/model.hpp"
#include "isletsim/simulation.hpp"

void bind_analysis(pybind11::module_& m);  // analysis_binding.cpp

namespace isletsim::binding {

namespace py = pybind11;

void bind_config(py::module_& m);
void bind_network(py::module_& m);
void bind_result(py::module_& m);  // Result and load
void bind_simulate(py::module_& m);
void bind_sweep(py::module_& m);
void bind_models(py::module_& m);  // models, their parameters and states

// ---------------------------------------------------------------- errors

// An InputError about a file that does not exist: FileNotFoundError in Python.
struct MissingFile : InputError {
  using InputError::InputError;
};

// Re-throws `e` as MissingFile when one of `paths` does not exist, else as it is.
[[noreturn]] void rethrow_input(const InputError& e, std::initializer_list<std::string> paths);

// A Python exception taken out of the interpreter (PyErr_Fetch) to raise later.
struct PendingError {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  bool set() const { return type != nullptr; }
};
void fetch_into(PendingError& pe);  // takes the current Python error
void discard(PendingError& pe);

extern PyObject* g_simulation_error;  // isletsim.SimulationError (set at import; never freed)
extern PyObject* g_input_error;       // isletsim.InputError

// ---------------------------------------------------------------- Config

// Config keeps the text it came from plus the list of "key=value" overrides,
// and re-resolves with parse_config(text, origin, overrides) on every set():
// Config.load(f).set(a).set(b) is exactly `islet run f --set a --set b`, with
// the same error messages.
struct IslConfig {
  std::string text;      // TOML the config came from ("" = built-in default)
  std::string origin;    // its name in messages
  std::string base_dir;  // relative paths in the config are resolved against this
  Overrides sets;        // "section.key=value", applied in order (as --set)
  RunConfig resolved;

  std::string rerun_file;  // loaded from a run file: its stored arrays are re-used (build_setup)

  void resolve() {
    resolved = parse_config(text, origin, sets);
    resolved.base_dir = base_dir;
    resolved.rerun_file = rerun_file;
    resolved.source_path = rerun_file;
  }
};

std::string toml_quote(const std::string& s);
// A Python value as the text after '=' in --set key=value. Top-level strings
// are passed as they are (as on the command line: TOML if it parses, else a
// string); strings inside lists and dicts are quoted.
std::string toml_value(py::handle v, bool top);

// ---------------------------------------------------------------- Result

// A run in memory: the static part of its file (the same struct the file is
// written from) plus the samples and how the run ended.
struct IslResult : RunFileStatic {
  const ModelInfo* model = nullptr;  // nullptr: unknown (a file of another program)
  std::vector<double> time, glucose;
  std::vector<std::vector<double>> data;  // per variable (in the order of vars), samples x cells
  std::size_t n_samples = 0;
  std::string status = "complete", message;
  std::vector<std::vector<double>> final_state;  // [state][cell]; empty when loaded
  std::uint64_t steps_done = 0;
  std::uint64_t end_step = 0;  // the step final_state is at (absolute)
  double end_step_ms = 0;      // an adaptive integrator's next step there (0: none)
  double wall_s = 0;
  std::string path;  // the file it was loaded from or run into ("" = memory only)

  // isl.load(path, vars=, window=, cells=, dtype=, lazy=): a part of a file,
  // its samples read on first use. A result of simulate() has all its data
  // in `data` (lazy false).
  bool lazy = false;                // data[v] / data32[v] read from `path` on first use
  std::vector<char> loaded;         // lazy: per variable, read yet
  bool as_float32 = false;          // the samples are float32 (in data32) instead of float64 (in data)
  std::vector<std::vector<float>> data32;
  std::size_t first_sample = 0;     // the file's index of time[0]
  bool all_cells = true;            // every cell of the file, in its order
  std::vector<std::size_t> cells;   // the file's index of each cell (empty when simulated)
  std::string file_stamp;           // lazy: the file's size and time when loaded ("" = not checked)

  bool in_memory(std::size_t v) const { return !lazy || (v < loaded.size() && loaded[v]); }
  void ensure(std::size_t v);       // reads variable v now if it is not in memory yet

  std::vector<std::string> var_names() const;
  std::size_t var_index(const std::string& name) const;  // py::key_error when not recorded
  std::string attr_string(const std::string& name) const;  // "" when absent or not a string
};

}  // namespace isletsim::binding
