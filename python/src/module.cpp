// _isletsim: the pybind11 bindings behind the `isletsim` Python package.
//
// Config keeps the text it came from plus the list of "key=value" overrides,
// and re-resolves with parse_config(text, origin, overrides) on every set():
// Config.load(f).set(a).set(b) is exactly `islet run f --set a --set b`, with
// the same error messages. simulate() builds the run with build_setup, runs
// the engine with the GIL released into a MemorySink (or, with output=, into
// an HDF5 file like the CLI), and checks for Ctrl-C about every 1000 steps.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <toml++/toml.h>

#include "isletsim/analysis.hpp"
#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"
#include "isletsim/simulation.hpp"
#include "isletsim/sweep.hpp"

namespace py = pybind11;
using namespace isletsim;

namespace {

// An InputError about a file that does not exist: FileNotFoundError in Python.
struct MissingFile : InputError {
  using InputError::InputError;
};

// Re-throws `e` as MissingFile when one of `paths` does not exist.
[[noreturn]] void rethrow_input(const InputError& e, std::initializer_list<std::string> paths) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (!p.empty() && !std::filesystem::exists(p, ec)) throw MissingFile(e.what());
  }
  throw;
}

// ---------------------------------------------------------------- Config

struct IslConfig {
  std::string text;      // TOML the config came from ("" = built-in default)
  std::string origin;    // its name in messages
  std::string base_dir;  // relative paths in the config are resolved against this
  Overrides sets;        // "section.key=value", applied in order (as --set)
  RunConfig resolved;

  void resolve() {
    resolved = parse_config(text, origin, sets);
    resolved.base_dir = base_dir;
  }
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const std::string msg = "cannot open config file '" + path + "'";  // as load_config
    if (!std::filesystem::exists(path, ec)) throw MissingFile(msg);
    throw InputError(msg);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

IslConfig config_load(const std::string& path) {
  IslConfig c;
  if (ends_with(path, ".h5")) {  // an earlier output: its config attribute (as `islet run old.h5`)
    try {
      c.text = read_run(path, false).attr("config");
    } catch (const InputError& e) {
      rethrow_input(e, {path});
    }
    if (c.text.empty()) throw InputError("'" + path + "' holds no config attribute (not an isletsim output?)");
    c.origin = path + " (config attribute)";
  } else {
    c.text = read_text_file(path);
    c.origin = path;
  }
  c.base_dir = std::filesystem::path(path).parent_path().string();
  c.resolve();
  return c;
}

std::string toml_quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': q += "\\\""; break;
      case '\\': q += "\\\\"; break;
      case '\n': q += "\\n"; break;
      case '\t': q += "\\t"; break;
      case '\r': q += "\\r"; break;
      default: q += ch;
    }
  }
  return q + "\"";
}

// A Python value as the text after '=' in --set key=value. Top-level strings
// are passed as they are (as on the command line: TOML if it parses, else a
// string); strings inside lists and dicts are quoted.
std::string toml_value(py::handle v, bool top) {
  if (PyBool_Check(v.ptr())) return v.ptr() == Py_True ? "true" : "false";
  if (PyLong_Check(v.ptr())) return py::str(v).cast<std::string>();
  if (PyFloat_Check(v.ptr())) {
    const double d = v.cast<double>();
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    // shortest round trip, e.g. 120.0, 1e-05 (of a plain float: NumPy 2's repr of np.float64 differs)
    return py::repr(py::reinterpret_steal<py::object>(PyFloat_FromDouble(d))).cast<std::string>();
  }
  if (py::isinstance<py::str>(v)) return top ? v.cast<std::string>() : toml_quote(v.cast<std::string>());
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    std::string s = "[";
    bool first = true;
    for (auto item : v) {
      s += (first ? "" : ", ") + toml_value(item, false);
      first = false;
    }
    return s + "]";
  }
  if (py::isinstance<py::dict>(v)) {
    std::string s = "{";
    bool first = true;
    for (auto [k, item] : v.cast<py::dict>()) {
      s += (first ? "" : ", ") + py::str(k).cast<std::string>() + " = " + toml_value(item, false);
      first = false;
    }
    return s + "}";
  }
  if (py::hasattr(v, "__index__")) return py::str(py::int_(py::reinterpret_borrow<py::object>(v))).cast<std::string>();
  if (py::hasattr(v, "__float__"))
    return toml_value(py::float_(py::reinterpret_borrow<py::object>(v)), top);  // NumPy scalars
  throw py::type_error("Config.set: cannot use a value of type " +
                       py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>() +
                       " (use a number, bool, str, list or dict)");
}

void config_set(IslConfig& c, const std::string& key, py::handle value) {
  c.sets.push_back(key + "=" + toml_value(value, true));
  try {
    c.resolve();
  } catch (...) {
    c.sets.pop_back();
    c.resolve();
    throw;
  }
}

std::string config_repr(const IslConfig& c) {
  const RunConfig& r = c.resolved;
  std::string net = r.network == "sphere"    ? "sphere of " + std::to_string(r.n_cells) + " cells"
                    : r.network == "lattice" ? "lattice " + std::to_string(r.nx) + "x" + std::to_string(r.ny) + "x" +
                                                   std::to_string(r.nz)
                                             : "csv network";
  std::string s = "<isletsim.Config from " + c.origin + ", " + std::to_string(c.sets.size()) +
                  " override(s): " + net + ", " + py::repr(py::float_(r.duration_s)).cast<std::string>() + " s, " +
                  r.integrator + " dt " + py::repr(py::float_(r.dt_ms)).cast<std::string>() + " ms, model " + r.model +
                  ", seed " + std::to_string(r.seed) + ">";
  return s;
}

// ---------------------------------------------------------------- Result

using AttrValue = RunAttr;  // the file attributes run_to_file writes

struct IslResult {
  const ModelInfo* model = nullptr;  // nullptr: unknown (a file of another program)
  std::vector<double> time, glucose;
  std::vector<std::string> var_names;
  std::vector<std::vector<double>> data;  // per variable, samples x cells
  std::size_t n_samples = 0, n_cells = 0;
  std::vector<double> x, y, z;
  std::vector<std::uint32_t> edge_i, edge_j;
  std::vector<double> edge_w;
  std::vector<std::pair<std::string, std::vector<double>>> params;
  std::vector<std::pair<std::string, AttrValue>> attrs;  // root attributes but status
  std::string status = "complete", message;
  std::vector<std::vector<double>> final_state;  // [state][cell]; empty when loaded
  std::uint64_t steps_done = 0;
  double wall_s = 0;
  std::string path;  // the file it was loaded from or run into ("" = memory only)

  std::string attr_string(const std::string& name) const {
    for (const auto& [k, v] : attrs)
      if (k == name)
        if (auto s = std::get_if<std::string>(&v)) return *s;
    return "";
  }
  std::size_t var_index(const std::string& name) const {
    for (std::size_t v = 0; v < var_names.size(); ++v)
      if (var_names[v] == name) return v;
    std::string have;
    for (const auto& v : var_names) have += (have.empty() ? "" : ", ") + v;
    throw py::key_error("no variable '" + name + "' in this result" + did_you_mean(name, var_names) +
                        " (have: " + (have.empty() ? "none" : have) + ")");
  }
};

const char* status_name(RunResult::Status s) {
  return s == RunResult::Status::complete ? "complete" : s == RunResult::Status::interrupted ? "interrupted" : "failed";
}

// Samples per HDF5 chunk: the engine's record block (as build_setup sets it).
std::size_t chunk_samples(std::size_t cells, std::size_t vars) { return record_block_for(cells, vars); }

// The static part of a run's file, as run_to_file writes it.
void fill_static(IslResult& r, const RunSetup& s, unsigned threads) {
  const EngineProblem& p = s.problem;
  r.n_cells = p.n_cells;
  r.x = s.network.x, r.y = s.network.y, r.z = s.network.z;
  r.edge_i = s.network.edge_i, r.edge_j = s.network.edge_j, r.edge_w = s.network.edge_w;
  const ModelInfo& m = p.the_model();
  for (std::size_t k = 0; k < m.params.size(); ++k) {
    std::vector<double> v(p.n_cells);
    for (std::size_t i = 0; i < p.n_cells; ++i) v[i] = p.params[k].at(i);
    r.params.emplace_back(m.params[k].name, std::move(v));
  }
  for (int v : p.record_vars) r.var_names.push_back(m.states[v].name);
  r.model = &m;
  r.attrs = run_attributes(s, threads);
}

IslResult from_h5(H5Run&& run, const std::string& path) {
  IslResult r;
  r.time = std::move(run.time);
  r.glucose = std::move(run.glucose);
  r.var_names = std::move(run.var_names);
  r.data = std::move(run.data);
  r.n_samples = run.n_samples;
  r.n_cells = run.n_cells;
  r.x = std::move(run.x), r.y = std::move(run.y), r.z = std::move(run.z);
  r.edge_i = std::move(run.edge_i), r.edge_j = std::move(run.edge_j), r.edge_w = std::move(run.edge_w);
  // Parameters in the file's order (the model's table order, as written).
  for (auto& [name, v] : run.params) r.params.emplace_back(name, std::move(v));
  const std::string model_name = run.attr("model");
  for (const ModelInfo* m : models())
    if (model_name == m->name) r.model = m;
  for (auto& [k, v] : run.string_attrs) {
    if (k == "status") r.status = v;
    else if (k == "status_message") r.message = v;
    else r.attrs.emplace_back(k, v);
  }
  for (const auto& [k, v] : run.number_attrs) {
    const bool integer = k == "seed" || k == "n_cells" || k == "threads";
    if (integer) r.attrs.emplace_back(k, static_cast<std::int64_t>(v));
    else r.attrs.emplace_back(k, v);
  }
  r.path = path;
  return r;
}

// An HDF5 writer holding the static part of `r` (positions, edges, per-cell
// parameters, attributes), ready for append(): the file run_to_file writes.
std::unique_ptr<H5Writer> open_writer(const IslResult& r, const std::string& path, std::size_t chunk) {
  bool float32 = false;
  const std::string cfg_text = r.attr_string("config");
  if (!cfg_text.empty()) {
    try {
      float32 = parse_config(cfg_text, "<result config>").record_dtype == "float32";
    } catch (const InputError&) {
    }
  }
  H5WriterOptions wo;
  wo.path = path;
  wo.n_cells = r.n_cells;
  wo.float32 = float32;
  wo.chunk_samples = chunk;
  const ModelInfo& m = r.model ? *r.model : default_model();
  for (const auto& name : r.var_names) {
    const auto k = find_state(m, name);
    if (k) wo.vars.push_back({name, m.states[*k].unit, m.states[*k].description});
    else wo.vars.push_back({name, "", ""});
  }
  std::unique_ptr<H5Writer> w;
  try {
    w = std::make_unique<H5Writer>(wo);
  } catch (const InputError& e) {
    rethrow_input(e, {std::filesystem::path(path).parent_path().string()});
  }
  w->write_positions(r.x, r.y, r.z);
  w->write_edges(r.edge_i, r.edge_j, r.edge_w);
  for (const auto& [name, values] : r.params) {
    const auto k = find_param(m, name);
    w->write_cell_param(name, k ? m.params[*k].unit : "", k ? m.params[*k].description : "", values);
  }
  for (const auto& [k, v] : r.attrs) std::visit([&](const auto& x) { w->set_attr(k, x); }, v);
  return w;
}

void save_result(const IslResult& r, const std::string& path) {
  auto w = open_writer(r, path, chunk_samples(r.n_cells, r.var_names.size()));
  if (r.n_samples > 0) {
    std::vector<const double*> d;
    for (const auto& v : r.data) d.push_back(v.data());
    w->append(r.n_samples, r.time.data(), r.glucose.data(), d);
  }
  w->finish(r.status, r.message);
}

// A read-only NumPy view of `v` (shape `shape`) that keeps `owner` alive.
py::array view(const std::vector<double>& v, std::vector<py::ssize_t> shape, py::handle owner) {
  static const double empty = 0;
  py::array a(py::dtype::of<double>(), shape, {}, v.empty() ? &empty : v.data(), owner);
  a.attr("flags").attr("writeable") = false;
  return a;
}

// ---------------------------------------------------------------- simulate

struct PendingError {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  bool set() const { return type != nullptr; }
};

py::object make_result_object(IslResult&& r) { return py::cast(std::move(r)); }

// Raises the exception in `type` (a Python exception class or pending error)
// with .result set to the result object.
[[noreturn]] void raise_with_result(PendingError& pe, py::object result) {
  PyErr_NormalizeException(&pe.type, &pe.value, &pe.tb);
  if (pe.value) PyObject_SetAttrString(pe.value, "result", result.ptr());
  PyErr_Restore(pe.type, pe.value, pe.tb);
  throw py::error_already_set();
}

PyObject* g_simulation_error = nullptr;  // isletsim.SimulationError (set at import; never freed)
PyObject* g_input_error = nullptr;       // isletsim.InputError

// Per-cell values from Python: (model index, values), checked for length
// once the network (and so n_cells) is known.
struct PerCell {
  std::string what;  // "params['gKATP']", for messages
  int index = 0;
  std::vector<double> values;
};

std::vector<PerCell> per_cell_arrays(py::object dict, bool params, const ModelInfo& m) {
  std::vector<PerCell> out;
  if (dict.is_none()) return out;
  if (!py::isinstance<py::dict>(dict))
    throw py::type_error(std::string(params ? "params" : "initial") + " must be a dict {name: array}");
  std::vector<std::string> names;
  if (params)
    for (const auto& p : m.params) names.push_back(p.name);
  else
    for (const auto& st : m.states) names.push_back(st.name);
  for (auto [k, v] : dict.cast<py::dict>()) {
    const std::string name = py::str(k).cast<std::string>();
    PerCell pc;
    pc.what = std::string(params ? "params" : "initial") + "['" + name + "']";
    const auto idx = params ? find_param(m, name) : find_state(m, name);
    if (!idx)
      throw py::key_error(pc.what + ": model " + m.name + " has no " + (params ? "parameter" : "state variable") +
                          " '" + name + "'" + did_you_mean(name, names) + " (see isletsim." +
                          (params ? "params" : "states") + "('" + m.name + "'))");
    pc.index = static_cast<int>(*idx);
    auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(v);
    if (!a) {
      PyErr_Clear();
      throw py::type_error(pc.what + ": expected an array of numbers, one per cell");
    }
    if (a.ndim() != 1)
      throw py::value_error(pc.what + ": expected a 1-D array (one value per cell), got " + std::to_string(a.ndim()) +
                            "-D");
    pc.values.assign(a.data(), a.data() + a.shape(0));
    for (std::size_t i = 0; i < pc.values.size(); ++i)
      if (!std::isfinite(pc.values[i]))
        throw py::value_error(pc.what + ": value " + py::repr(py::float_(pc.values[i])).cast<std::string>() +
                              " at cell " + std::to_string(i) + " is not finite");
    out.push_back(std::move(pc));
  }
  return out;
}

void apply_per_cell(std::vector<Column>& params, std::vector<Column>& initial,
                    const std::vector<PerCell>& ps, const std::vector<PerCell>& is, std::size_t n_cells) {
  for (const auto* list : {&ps, &is})
    for (const auto& pc : *list)
      if (pc.values.size() != n_cells)
        throw py::value_error(pc.what + ": " + std::to_string(pc.values.size()) + " values, but the network has " +
                              std::to_string(n_cells) + " cells");
  for (const auto& pc : ps) params[pc.index].values = pc.values;
  for (const auto& pc : is) initial[pc.index].values = pc.values;
}

void fetch_into(PendingError& pe) { PyErr_Fetch(&pe.type, &pe.value, &pe.tb); }
void discard(PendingError& pe) {
  Py_XDECREF(pe.type), Py_XDECREF(pe.value), Py_XDECREF(pe.tb);
  pe = {};
}

// Passes each block of recorded samples on to `inner` (memory or HDF5), then
// to the Python callback, with the GIL taken: write() runs on the engine's
// writer thread while the calling thread runs the engine with the GIL
// released. A callback that raises (or returns True) sets `stop`: the engine
// stops at its next sample, and simulate() re-raises after the run.
struct CallbackSink : SampleSink {
  SampleSink* inner = nullptr;
  py::handle callback;
  std::vector<std::string> names;
  std::size_t n_cells = 0;
  std::atomic<bool>* stop = nullptr;
  PendingError error;          // what the callback raised
  bool stop_requested = false;  // the callback returned True
  std::size_t calls = 0;

  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    if (inner) inner->write(n, t, g, d);  // may throw (HDF5): the engine reports it as a failed run
    if (error.set() || stop_requested) return;
    py::gil_scoped_acquire gil;
    try {
      py::array_t<double> ta(static_cast<py::ssize_t>(n));
      std::copy(t, t + n, ta.mutable_data());
      py::dict data;
      for (std::size_t v = 0; v < d.size() && v < names.size(); ++v) {
        py::array_t<double> a({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(n_cells)});
        std::copy(d[v], d[v] + n * n_cells, a.mutable_data());
        data[py::str(names[v])] = std::move(a);
      }
      ++calls;
      py::object r = callback(ta, data);
      if (r.ptr() == Py_True) {
        stop_requested = true;
        stop->store(true);
      }
    } catch (py::error_already_set& e) {
      e.restore();
      fetch_into(error);
      stop->store(true);
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      fetch_into(error);
      stop->store(true);
    }
  }
};

struct H5Sink : SampleSink {
  H5Writer& w;
  explicit H5Sink(H5Writer& writer) : w(writer) {}
  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    w.append(n, t, g, d);
  }
};

py::object simulate(const IslConfig& cfg, const Network* network, std::optional<int> threads,
                    std::optional<std::string> output, py::object params_in, py::object initial_in,
                    py::object callback, std::optional<double> callback_interval_s) {
  RunConfig rc = cfg.resolved;
  if (output) rc.output = *output;
  unsigned nt;
  if (threads) {
    if (*threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
    nt = static_cast<unsigned>(*threads);
  } else {
    nt = env::detect_cores().cores;
  }
  const ModelInfo& model = find_model(rc.model);
  const std::vector<PerCell> per_param = per_cell_arrays(params_in, true, model);
  const std::vector<PerCell> per_initial = per_cell_arrays(initial_in, false, model);
  const bool with_callback = !callback.is_none();
  if (with_callback && !PyCallable_Check(callback.ptr()))
    throw py::type_error("callback must be callable: f(t, data) with t (n,) s and data {var: (n, cells) array}");
  if (callback_interval_s) {
    if (!with_callback) throw py::value_error("callback_interval_s needs a callback");
    if (!(*callback_interval_s > 0) || !std::isfinite(*callback_interval_s))
      throw py::value_error("callback_interval_s must be a positive number of seconds");
  }

  IslResult res;
  PendingError pending;
  std::atomic<bool> stop{false};
  RunOptions opt;
  opt.threads = nt;
  opt.stop = &stop;
  using Clock = std::chrono::steady_clock;
  auto last_check = Clock::now();
  // Called by the engine's thread 0 (the calling thread) about every 1000
  // steps: at most every 50 ms, take the GIL and run Python's signal handlers.
  opt.progress = [&](const Progress&) {
    if (stop.load(std::memory_order_relaxed)) return;
    const auto now = Clock::now();
    if (now - last_check < std::chrono::milliseconds(50)) return;
    last_check = now;
    try {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        fetch_into(pending);
        stop.store(true);
      }
    } catch (...) {
      stop.store(true);
    }
  };

  CallbackSink cb;
  cb.callback = callback;
  cb.stop = &stop;
  RunResult rr;
  {
    py::gil_scoped_release nogil;
    RunSetup s = build_setup(rc, network);
    if (!per_param.empty() || !per_initial.empty()) {
      apply_per_cell(s.problem.params, s.problem.initial, per_param, per_initial, s.problem.n_cells);
      check_problem(s.problem);
    }
    if (callback_interval_s) {
      // Samples per block handed to the sink = per callback call.
      const double sample_s = static_cast<double>(s.problem.record_every) * s.problem.dt_ms * 1e-3;
      const double k = std::ceil(*callback_interval_s / sample_s - 1e-9);
      const double samples = static_cast<double>(s.problem.n_steps / std::max<std::uint64_t>(1, s.problem.record_every) + 1);
      s.problem.record_block = static_cast<std::size_t>(std::clamp(k, 1.0, samples));
    }
    fill_static(res, s, nt);
    cb.names = res.var_names;
    cb.n_cells = s.problem.n_cells;
    if (output) {
      if (with_callback) {
        std::unique_ptr<H5Writer> w;
        try {
          w = open_writer(res, *output, chunk_samples(res.n_cells, res.var_names.size()));  // as run_to_file
        } catch (const InputError& e) {
          rethrow_input(e, {std::filesystem::path(*output).parent_path().string()});
        }
        H5Sink hs(*w);
        cb.inner = &hs;
        rr = run_engine(s.problem, &cb, opt);
        w->finish(status_name(rr.status), rr.message);
      } else {
        try {
          rr = run_to_file(s, *output, opt);
        } catch (const InputError& e) {
          rethrow_input(e, {std::filesystem::path(*output).parent_path().string()});
        }
      }
      H5Run run = read_run(*output);
      IslResult loaded = from_h5(std::move(run), *output);
      res.time = std::move(loaded.time);
      res.glucose = std::move(loaded.glucose);
      res.data = std::move(loaded.data);
      res.n_samples = loaded.n_samples;
      res.path = *output;
    } else {
      MemorySink sink(s.problem.n_cells);
      if (with_callback) {
        cb.inner = &sink;
        rr = run_engine(s.problem, &cb, opt);
      } else {
        rr = run_engine(s.problem, &sink, opt);
      }
      res.time = std::move(sink.time_s);
      res.glucose = std::move(sink.glucose_mM);
      res.data = std::move(sink.data);
      res.data.resize(res.var_names.size());
      res.n_samples = res.time.size();
    }
  }
  res.status = status_name(rr.status);
  res.message = rr.message;
  if (cb.stop_requested && rr.status == RunResult::Status::interrupted)
    res.message = "stopped by the callback: " + rr.message;
  res.final_state = std::move(rr.final_state);
  res.steps_done = rr.steps_done;
  res.wall_s = rr.wall_s;
  const bool failed = rr.status == RunResult::Status::failed;
  py::object obj = make_result_object(std::move(res));
  if (cb.error.set()) {
    discard(pending);
    raise_with_result(cb.error, obj);
  }
  if (pending.set()) raise_with_result(pending, obj);
  if (failed) {
    PendingError pe;
    Py_INCREF(g_simulation_error);
    pe.type = g_simulation_error;
    pe.value = py::str(rr.message).release().ptr();
    raise_with_result(pe, obj);
  }
  return obj;
}

// ---------------------------------------------------------------- sweep

// The text of a sweep-file table ([grid], [zip], [sample]) from a dict, keys
// quoted, in the dict's order (the first grid axis varies slowest).
std::string sweep_table(const char* name, py::object d) {
  if (d.is_none()) return "";
  if (!py::isinstance<py::dict>(d))
    throw py::type_error(std::string(name) + " must be a dict {\"section.key\": [values...]}");
  std::string s = std::string("[") + name + "]\n";
  for (auto [k, v] : d.cast<py::dict>()) {
    py::object val = py::reinterpret_borrow<py::object>(v);
    // NumPy arrays, ranges, ... -> lists (strings and dicts stay as they are).
    if (!py::isinstance<py::str>(val) && !py::isinstance<py::dict>(val) && py::hasattr(val, "__iter__"))
      val = py::list(val);
    s += toml_quote(py::str(k).cast<std::string>()) + " = " + toml_value(val, false) + "\n";
  }
  return s;
}

// A Python value from a sweep value's TOML literal.
py::object sweep_value(const sweep::Value& v) {
  const std::string& t = v.toml;
  if (!t.empty() && t[0] == '"') return py::str(v.display);
  if (t == "true" || t == "false") return py::bool_(t == "true");
  if (t.find_first_of(".eEn") == std::string::npos) {  // an integer literal
    try {
      return py::int_(std::stoll(t));
    } catch (const std::exception&) {
    }
  }
  return py::float_(std::stod(t));
}

// Runs a sweep of `cfg` with the C++ sweep engine (as `islet sweep`), in a
// helper thread while this one, GIL released, checks for Ctrl-C every 50 ms.
// Returns what the Python wrapper needs to build the table.
py::dict sweep_run(const IslConfig& cfg, py::object grid, py::object zip, py::object sample, const std::string& out_dir,
                   const std::string& executor, std::optional<int> threads, int threads_per_task, bool resume,
                   bool progress) {
  if (out_dir.empty()) throw py::value_error("out_dir must name a directory");
  if (threads && *threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
  if (threads_per_task < 1)
    throw py::value_error("threads_per_task must be at least 1, got " + std::to_string(threads_per_task));
  const std::string base_toml = to_toml(cfg.resolved);
  // The sweep file `islet sweep` would read: out_dir, the axes, then the
  // base config as an inline [base] table (for checking every value).
  std::string text = "out_dir = " + toml_quote(std::filesystem::absolute(out_dir).lexically_normal().string()) + "\n";
  text += sweep_table("grid", grid) + sweep_table("zip", zip) + sweep_table("sample", sample);
  {
    toml::table base;
    try {
      base = toml::parse(base_toml, cfg.origin);
    } catch (const toml::parse_error& e) {
      throw InputError(std::string("internal: cannot re-read the resolved config: ") + std::string(e.description()));
    }
    std::stringstream ss;
    ss << toml::table{{"base", std::move(base)}} << "\n";
    text += ss.str();
  }
  sweep::SweepSpec spec;
  sweep::SweepOptions opt;
  try {
    spec = sweep::parse_sweep(text, "isl.sweep", cfg.base_dir);
    opt.exec.kind = sweep::executor_from_string(executor);
  } catch (const InputError& e) {
    // Line and column refer to the generated text: leave them out.
    throw InputError(std::regex_replace(e.what(), std::regex("^isl\\.sweep:\\d+:\\d+: "), "isl.sweep: "));
  }
  if (spec.keys.empty()) throw py::value_error("isl.sweep: nothing to sweep: give grid=, zip= or sample=");
  // The tasks run the resolved config exactly as `islet sweep` with
  // base = "<file holding cfg.to_toml()>" would.
  spec.base_text = base_toml;
  spec.base_origin = cfg.origin;
  spec.base_dir = cfg.base_dir;
  opt.exec.cores = threads ? static_cast<unsigned>(*threads) : 0;
  opt.exec.threads_per_task = static_cast<unsigned>(threads_per_task);
  std::atomic<bool> stop{false};
  opt.exec.stop = &stop;
  opt.resume = resume;
  opt.progress = progress;
  opt.quiet = !progress;

  PendingError pending;
  sweep::SweepOutcome outcome;
  std::exception_ptr failure;
  {
    py::gil_scoped_release nogil;
    std::atomic<bool> done{false};
    std::thread worker([&] {
      try {
        outcome = sweep::run_sweep(spec, opt);
      } catch (...) {
        failure = std::current_exception();
      }
      done.store(true);
    });
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (done.load() || stop.load()) continue;
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        fetch_into(pending);
        stop.store(true);
      }
    }
    worker.join();
  }
  if (failure) {
    discard(pending);
    std::rethrow_exception(failure);
  }
  py::list points;
  for (const auto& row : spec.points) {
    py::list r;
    for (const auto& v : row) r.append(sweep_value(v));
    points.append(std::move(r));
  }
  py::dict out;
  out["keys"] = spec.keys;
  out["points"] = std::move(points);
  out["out_dir"] = spec.out_dir;
  out["table"] = outcome.table;
  py::dict counts;
  counts["total"] = outcome.total, counts["selected"] = outcome.selected, counts["skipped"] = outcome.skipped;
  counts["ok"] = outcome.ok, counts["failed"] = outcome.failed, counts["interrupted"] = outcome.interrupted;
  out["counts"] = std::move(counts);
  out["wall_s"] = outcome.wall_s;
  if (pending.set()) {
    PyErr_NormalizeException(&pending.type, &pending.value, &pending.tb);
    if (pending.tb) PyException_SetTraceback(pending.value, pending.tb);
    out["error"] = py::reinterpret_borrow<py::object>(pending.value);
    discard(pending);
  } else {
    out["error"] = py::none();
  }
  return out;
}

}  // namespace

void bind_analysis(py::module_& m);  // analysis_binding.cpp

PYBIND11_MODULE(_isletsim, m) {
  m.doc() = "isletsim: coupled pancreatic beta-cell islets (Bertram et al. 2007). Use the `isletsim` package.";

  // Leaked on purpose: nothing may be released after the interpreter is gone.
  auto& input_error = *new py::exception<InputError>(m, "InputError", PyExc_ValueError);
  input_error.doc() = "Bad input (config key or value, file content); a ValueError. The message is the CLI's.";
  auto& sim_error = *new py::exception<SimulationError>(m, "SimulationError", PyExc_RuntimeError);
  sim_error.doc() =
      "The simulation failed (e.g. a non-finite state); a RuntimeError. .result holds the data recorded so far.";
  g_simulation_error = sim_error.ptr();
  g_input_error = input_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const MissingFile& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(g_input_error, e.what());
    } catch (const SimulationError& e) {
      PyErr_SetString(g_simulation_error, e.what());
    }
  });

  m.attr("__version__") = version();
  bind_analysis(m);

  // ---- Config
  py::class_<IslConfig>(m, "Config", R"doc(A run configuration: the TOML of `islet run` (docs/config.md).

Make one with Config.default(), Config.load(path) or Config.from_toml(text);
change it with set("section.key", value), exactly like the CLI's
--set section.key=value (same checks, same error messages).)doc")
      .def_static(
          "default",
          [] {
            IslConfig c;
            c.origin = "<built-in default>";
            c.resolve();
            return c;
          },
          "The built-in default run (`islet run` with no file): 1000-cell sphere, 600 s, glucose 2 -> 11 mM.")
      .def_static("load", &config_load, py::arg("path"),
                  "Load a TOML config file, or the config stored in an earlier output .h5 (as `islet run old.h5`).\n"
                  "Relative network file paths are resolved against the file's directory.\n"
                  "Raises FileNotFoundError if the file does not exist, ValueError (InputError) if it is invalid.")
      .def_static(
          "from_toml",
          [](const std::string& text, const std::string& origin, const std::string& base_dir) {
            IslConfig c;
            c.text = text;
            c.origin = origin;
            c.base_dir = base_dir;
            c.resolve();
            return c;
          },
          py::arg("text"), py::arg("origin") = "<string>", py::arg("base_dir") = "",
          "A config from TOML text. origin names it in error messages; base_dir resolves relative paths.")
      .def(
          "set",
          [](py::object self, const std::string& key, py::handle value) {
            config_set(self.cast<IslConfig&>(), key, value);
            return self;
          },
          py::arg("key"), py::arg("value"),
          "Override one value, as the CLI's --set key=value: set('coupling.gV', 60),\n"
          "set('sim.integrator', 'euler'), set('record.vars', ['c', 'V']). Returns self.\n"
          "Raises ValueError (InputError) with the CLI's message for a bad key or value.")
      .def(
          "heterogeneity",
          [](py::object self, const std::string& name, double cv, const std::string& dist) {
            py::dict d;
            d["cv"] = cv;
            d["dist"] = dist;
            config_set(self.cast<IslConfig&>(), "heterogeneity." + name, d);
            return self;
          },
          py::arg("name"), py::arg("cv"), py::arg("dist") = "normal",
          "Per-cell variability of model parameter `name`: multiplicative factor with mean 1 and\n"
          "coefficient of variation cv (dimensionless); dist 'normal' (truncated > 0), 'lognormal' or\n"
          "'gamma'. cv = 0 removes it. Returns self.")
      .def("to_toml", [](const IslConfig& c) { return to_toml(c.resolved); },
           "The fully resolved config as TOML (every key explicit), as `islet run --print-config`.")
      .def("copy", [](const IslConfig& c) { return c; }, "An independent copy.")
      .def("__copy__", [](const IslConfig& c) { return c; })
      .def("__deepcopy__", [](const IslConfig& c, py::handle) { return c; }, py::arg("memo"))
      .def_property_readonly("origin", [](const IslConfig& c) { return c.origin; },
                             "Where the config came from (file, '<built-in default>', ...).")
      .def_property_readonly("overrides", [](const IslConfig& c) { return c.sets; },
                             "The set() calls so far, as --set texts 'key=value'.")
      .def_property_readonly("base_dir", [](const IslConfig& c) { return c.base_dir; })
      .def_property_readonly("duration_s", [](const IslConfig& c) { return c.resolved.duration_s; },
                             "Simulated time (s).")
      .def_property_readonly("dt_ms", [](const IslConfig& c) { return c.resolved.dt_ms; }, "Time step (ms).")
      .def_property_readonly("seed", [](const IslConfig& c) { return c.resolved.seed; })
      .def_property_readonly("record_vars", [](const IslConfig& c) { return c.resolved.record_vars; },
                             "State variables recorded.")
      .def_property_readonly("output", [](const IslConfig& c) { return c.resolved.output; },
                             "record.file: where `islet run` would write.")
      .def("__repr__", &config_repr)
      .def("__str__", [](const IslConfig& c) { return to_toml(c.resolved); });

  // ---- Network
  py::class_<Network>(m, "Network", R"doc(Cells (positions in um) and undirected gap-junction edges with weights.

Build with Network.sphere(n), Network.lattice(nx, ny, nz), Network.from_csv(cells, edges)
or Network.from_arrays(positions, edges, weights); pass to simulate(cfg, network=...).)doc")
      .def_static(
          "sphere",
          [](std::size_t n_cells, std::uint64_t seed, double cell_diameter_um, double contact_factor,
             double oversample) {
            SphereOptions o;
            o.n_cells = n_cells;
            o.seed = seed;
            o.cell_diameter_um = cell_diameter_um;
            o.contact_factor = contact_factor;
            o.oversample = oversample;
            py::gil_scoped_release nogil;
            return make_sphere(o);
          },
          py::arg("n_cells") = 1000, py::arg("seed") = 1, py::arg("cell_diameter_um") = 12.0,
          py::arg("contact_factor") = 1.07, py::arg("oversample") = 4.0,
          "Spherical islet: n_cells non-overlapping spheres (diameter in um) packed at random,\n"
          "connected (weight 1) when centres are closer than contact_factor diameters.\n"
          "Same network as [network] kind = 'sphere' with the same seed.")
      .def_static("lattice", &make_lattice, py::arg("nx"), py::arg("ny"), py::arg("nz"), py::arg("spacing_um") = 10.0,
                  "nx*ny*nz cubic lattice (spacing in um), 6 neighbours, weight 1; id = x + nx*(y + ny*z).")
      .def_static(
          "from_csv",
          [](const std::string& cells, const std::string& edges) {
            try {
              return load_network_csv(cells, edges, model_param_names());
            } catch (const InputError& e) {
              rethrow_input(e, {cells, edges});
            }
          },
          py::arg("cells"), py::arg("edges"),
          "Load cells.csv (id,x,y,z[,model parameter columns]) and edges.csv (i,j,weight).\n"
          "Raises FileNotFoundError for a missing file, ValueError naming file and line otherwise.")
      .def_static(
          "from_arrays",
          [](py::array_t<double, py::array::c_style | py::array::forcecast> pos,
             py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> edges, py::object weights) {
            if (pos.ndim() != 2 || pos.shape(1) != 3) throw py::value_error("positions must be an (n, 3) array (um)");
            if (edges.ndim() != 2 || (edges.shape(1) != 2 && edges.shape(0) != 0))
              throw py::value_error("edges must be an (m, 2) integer array of cell ids");
            Network net;
            const auto n = static_cast<std::size_t>(pos.shape(0));
            for (std::size_t i = 0; i < n; ++i) {
              net.x.push_back(pos.at(i, 0));
              net.y.push_back(pos.at(i, 1));
              net.z.push_back(pos.at(i, 2));
            }
            const auto m = static_cast<std::size_t>(edges.shape(0));
            for (std::size_t e = 0; e < m; ++e) {
              const auto i = edges.at(e, 0), j = edges.at(e, 1);
              if (i < 0 || j < 0 || i > 0xffffffffLL || j > 0xffffffffLL)
                throw InputError("edge " + std::to_string(e) + ": cell id out of range");
              net.edge_i.push_back(static_cast<std::uint32_t>(i));
              net.edge_j.push_back(static_cast<std::uint32_t>(j));
            }
            if (weights.is_none()) {
              net.edge_w.assign(m, 1.0);
            } else {
              auto w = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(weights);
              if (!w || w.ndim() != 1 || static_cast<std::size_t>(w.shape(0)) != m)
                throw py::value_error("weights must be a 1-D array with one value per edge");
              net.edge_w.assign(w.data(), w.data() + m);
            }
            validate_network(net, "Network.from_arrays");
            return net;
          },
          py::arg("positions"), py::arg("edges"), py::arg("weights") = py::none(),
          "A network from positions (n, 3) in um, edges (m, 2) cell ids (each undirected edge once)\n"
          "and optional weights (m,) >= 0 (default 1).")
      .def_property_readonly("n_cells", &Network::n_cells)
      .def_property_readonly("n_edges", &Network::n_edges)
      .def_property_readonly("mean_degree", &Network::mean_degree)
      .def_property_readonly(
          "positions",
          [](const Network& n) {
            py::array_t<double> a({static_cast<py::ssize_t>(n.n_cells()), py::ssize_t{3}});
            auto r = a.mutable_unchecked<2>();
            for (std::size_t i = 0; i < n.n_cells(); ++i) r(i, 0) = n.x[i], r(i, 1) = n.y[i], r(i, 2) = n.z[i];
            return a;
          },
          "Cell centres, (n_cells, 3) float64 array in um (a copy).")
      .def_property_readonly(
          "edges",
          [](const Network& n) {
            py::array_t<std::uint32_t> a({static_cast<py::ssize_t>(n.n_edges()), py::ssize_t{2}});
            auto r = a.mutable_unchecked<2>();
            for (std::size_t e = 0; e < n.n_edges(); ++e) r(e, 0) = n.edge_i[e], r(e, 1) = n.edge_j[e];
            return a;
          },
          "Undirected edges (i, j), (n_edges, 2) uint32 array, each edge once (a copy).")
      .def_property_readonly(
          "weights", [](const Network& n) { return py::array_t<double>(n.edge_w.size(), n.edge_w.data()); },
          "Edge weights (dimensionless, before per-cell conductance factors), (n_edges,) float64.")
      .def_property_readonly(
          "cell_params",
          [](const Network& n) {
            py::dict d;
            for (const auto& [k, v] : n.cell_params) d[py::str(k)] = py::array_t<double>(v.size(), v.data());
            return d;
          },
          "Per-cell parameter columns from cells.csv: {name: (n_cells,) array}.")
      .def("__repr__", [](const Network& n) {
        return "<isletsim.Network: " + std::to_string(n.n_cells()) + " cells, " + std::to_string(n.n_edges()) +
               " edges, mean degree " + py::repr(py::float_(n.mean_degree())).cast<std::string>() + ">";
      });

  // ---- Result
  py::class_<IslResult>(m, "Result", R"doc(A finished (or stopped) run: what the HDF5 output holds, in memory.

res.time (s), res.glucose (mM), res["c"] -> (samples, cells) float64 array (read-only view),
res.vars, res.status ('complete', 'interrupted', 'failed'), res.message, res.final_state,
res.positions, res.edges, res.weights, res.params, res.attrs, res.config; res.save(path).)doc")
      .def_property_readonly(
          "time", [](py::object self) { return view(self.cast<IslResult&>().time, {static_cast<py::ssize_t>(self.cast<IslResult&>().time.size())}, self); },
          "Sample times (s), (samples,) float64.")
      .def_property_readonly(
          "glucose",
          [](py::object self) {
            auto& r = self.cast<IslResult&>();
            return view(r.glucose, {static_cast<py::ssize_t>(r.glucose.size())}, self);
          },
          "Glucose at each sample (mM; NaN when JGK is fixed), (samples,) float64.")
      .def_property_readonly("vars", [](const IslResult& r) { return r.var_names; }, "Recorded variable names.")
      .def("keys", [](const IslResult& r) { return r.var_names; }, "Recorded variable names.")
      .def("__contains__", [](const IslResult& r, const std::string& k) {
        return std::find(r.var_names.begin(), r.var_names.end(), k) != r.var_names.end();
      })
      .def(
          "__getitem__",
          [](py::object self, const std::string& name) {
            auto& r = self.cast<IslResult&>();
            const std::size_t v = r.var_index(name);
            return view(r.data[v], {static_cast<py::ssize_t>(r.n_samples), static_cast<py::ssize_t>(r.n_cells)}, self);
          },
          py::arg("var"),
          "Recorded variable `var` (e.g. 'c' in uM, 'V' in mV): (samples, cells) float64 C-contiguous,\n"
          "read-only view sharing memory with the result. KeyError if not recorded.")
      .def_property_readonly("n_samples", [](const IslResult& r) { return r.n_samples; })
      .def_property_readonly("n_cells", [](const IslResult& r) { return r.n_cells; })
      .def_property_readonly("status", [](const IslResult& r) { return r.status; },
                             "'complete', 'interrupted' (Ctrl-C) or 'failed' (see message).")
      .def_property_readonly("message", [](const IslResult& r) { return r.message; }, "Why the run stopped early.")
      .def_property_readonly("steps_done", [](const IslResult& r) { return r.steps_done; })
      .def_property_readonly("wall_s", [](const IslResult& r) { return r.wall_s; }, "Wall time of the run (s).")
      .def_property_readonly("path", [](const IslResult& r) -> py::object {
        return r.path.empty() ? py::none() : py::object(py::str(r.path));
      }, "The HDF5 file it was loaded from / run into, or None.")
      .def_property_readonly(
          "final_state",
          [](const IslResult& r) {
            py::dict d;
            const ModelInfo& m = r.model ? *r.model : default_model();
            for (std::size_t k = 0; k < r.final_state.size() && k < m.states.size(); ++k)
              d[m.states[k].name] = py::array_t<double>(r.final_state[k].size(), r.final_state[k].data());
            return d;
          },
          "State of every cell at the end: {state name: (cells,) array}; empty for a loaded file.")
      .def_property_readonly(
          "positions",
          [](const IslResult& r) {
            py::array_t<double> a({static_cast<py::ssize_t>(r.x.size()), py::ssize_t{3}});
            auto w = a.mutable_unchecked<2>();
            for (std::size_t i = 0; i < r.x.size(); ++i) w(i, 0) = r.x[i], w(i, 1) = r.y[i], w(i, 2) = r.z[i];
            return a;
          },
          "Cell centres (cells, 3), um.")
      .def_property_readonly(
          "edges",
          [](const IslResult& r) {
            py::array_t<std::uint32_t> a({static_cast<py::ssize_t>(r.edge_i.size()), py::ssize_t{2}});
            auto w = a.mutable_unchecked<2>();
            for (std::size_t e = 0; e < r.edge_i.size(); ++e) w(e, 0) = r.edge_i[e], w(e, 1) = r.edge_j[e];
            return a;
          },
          "Edges (i, j), (edges, 2) uint32.")
      .def_property_readonly(
          "weights", [](const IslResult& r) { return py::array_t<double>(r.edge_w.size(), r.edge_w.data()); },
          "Effective coupling weights w_ij (dimensionless), (edges,).")
      .def_property_readonly(
          "params",
          [](const IslResult& r) {
            py::dict d;
            for (const auto& [k, v] : r.params) d[py::str(k)] = py::array_t<double>(v.size(), v.data());
            return d;
          },
          "Per-cell parameter values {name: (cells,) array} (heterogeneity applied).")
      .def_property_readonly(
          "attrs",
          [](const IslResult& r) {
            py::dict d;
            for (const auto& [k, v] : r.attrs) std::visit([&](const auto& x) { d[py::str(k)] = x; }, v);
            d["status"] = r.status;
            d["status_message"] = r.message;
            return d;
          },
          "Root attributes of the output file (config, seed, version, integrator, dt_ms, ...).")
      .def_property_readonly(
          "config_toml", [](const IslResult& r) { return r.attr_string("config"); }, "The run's resolved config (TOML).")
      .def(
          "synchrony",
          [](py::object self, const std::string& var, double from_s) {
            auto& r = self.cast<IslResult&>();
            const std::size_t v = r.var_index(var);
            const auto from = static_cast<std::size_t>(
                std::lower_bound(r.time.begin(), r.time.end(), from_s) - r.time.begin());
            return analysis::mean_pairwise_correlation({r.data[v].data(), r.n_samples, r.n_cells}, from);
          },
          py::arg("var") = "c", py::arg("from_s") = 0.0,
          "Synchrony index: mean pairwise Pearson correlation of `var` over samples with t >= from_s.")
      .def(
          "duty_cycle",
          [](py::object self, const std::string& var, double from_s) {
            auto& r = self.cast<IslResult&>();
            const std::size_t v = r.var_index(var);
            const auto from = static_cast<std::size_t>(
                std::lower_bound(r.time.begin(), r.time.end(), from_s) - r.time.begin());
            const auto d = analysis::duty_cycle({r.data[v].data(), r.n_samples, r.n_cells}, from);
            return py::array_t<double>(d.size(), d.data());
          },
          py::arg("var") = "c", py::arg("from_s") = 0.0,
          "Fraction of samples (t >= from_s) each cell is active (above half its own amplitude), (cells,).")
      .def(
          "save",
          [](const IslResult& r, const std::string& path) {
            py::gil_scoped_release nogil;
            save_result(r, path);
          },
          py::arg("path"),
          "Write the HDF5 file `islet run` writes for this run (docs/hdf5-layout.md); record.dtype of the\n"
          "config decides float32/float64 storage.")
      .def("__len__", [](const IslResult& r) { return r.n_samples; })
      .def("__repr__", [](const IslResult& r) {
        std::string vars;
        for (const auto& v : r.var_names) vars += (vars.empty() ? "" : ",") + v;
        return "<isletsim.Result " + r.status + ": " + std::to_string(r.n_samples) + " samples x " +
               std::to_string(r.n_cells) + " cells of " + vars +
               (r.time.empty() ? std::string() : ", t = 0.." + py::repr(py::float_(r.time.back())).cast<std::string>() + " s") +
               (r.path.empty() ? std::string() : ", " + r.path) + ">";
      });

  m.def(
      "load",
      [](const std::string& path) {
        H5Run run;
        {
          py::gil_scoped_release nogil;
          try {
            run = read_run(path);
          } catch (const InputError& e) {
            rethrow_input(e, {path});
          }
        }
        return from_h5(std::move(run), path);
      },
      py::arg("path"), "Read an isletsim HDF5 output (from `islet run` or Result.save) into a Result.");

  m.def("simulate", &simulate, py::arg("config"), py::arg("network") = nullptr, py::arg("threads") = py::none(),
        py::arg("output") = py::none(), py::kw_only(), py::arg("params") = py::none(),
        py::arg("initial") = py::none(), py::arg("callback") = py::none(),
        py::arg("callback_interval_s") = py::none(),
        R"doc(Run a simulation; returns a Result.

config: a Config. network: a Network to use instead of the config's [network]
section (None = build it from the config). threads: None = the cores this process
may use (as `islet info`). output: also write the HDF5 file there, as `islet run -o`.

params: {parameter name: (n_cells,) array} per-cell parameter values (units of
isletsim.params()). They are the final values: they replace whatever the config
gives that parameter (global value, cells.csv column, heterogeneity factors).
initial: {state name: (n_cells,) array} per-cell initial states (isletsim.states()).
Arrays are read as float64 and must have one finite value per cell (ValueError
naming the parameter and both lengths otherwise; KeyError for an unknown name).

callback: f(t, data) called during the run for online analysis, once per block
of recorded samples: t the block's sample times, (n,) float64 s; data {var:
(n, n_cells) float64} for each recorded variable (record.vars). Both are fresh
C-contiguous copies the callback may keep. The samples are those of the result
(every record.interval_ms); callback_interval_s sets the block length (None =
the engine's block, up to 1024 samples; the last block may be shorter). It runs
with the GIL held on the engine's writer thread while the simulation goes on
(the engine waits for it only when the next block is ready). If it returns True
the run stops (status 'interrupted'); if it raises, the run stops within a block
and the exception propagates with .result holding the data so far.

The GIL is released while it runs. Ctrl-C stops it at the next sample and raises
KeyboardInterrupt with .result holding the data so far; a failed run (non-finite
state) raises SimulationError (a RuntimeError) with .result.)doc");

  m.def("_sweep", &sweep_run, py::arg("config"), py::arg("grid"), py::arg("zip"), py::arg("sample"),
        py::arg("out_dir"), py::arg("executor"), py::arg("threads"), py::arg("threads_per_task"),
        py::arg("resume"), py::arg("progress"), "Runs a sweep (use isletsim.sweep).");

  m.def(
      "_params",
      [](const std::string& model) {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : find_model(model).params) v.emplace_back(p.name, p.unit, p.default_value, p.description);
        return v;
      },
      py::arg("model") = "bertram2007", "Model parameters: (name, unit, default, description) tuples.");
  m.def(
      "_states",
      [](const std::string& model) {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : find_model(model).states) v.emplace_back(p.name, p.unit, p.initial, p.description);
        return v;
      },
      py::arg("model") = "bertram2007", "State variables: (name, unit, initial, description) tuples.");
  m.def(
      "_models",
      [] {
        py::list out;
        for (const ModelInfo* x : models()) {
          py::dict d;
          d["name"] = x->name, d["title"] = x->title, d["citation"] = x->citation, d["doi"] = x->doi;
          d["n_states"] = x->states.size(), d["n_params"] = x->params.size();
          py::list cpl;
          for (const auto& c : x->coupled)
            cpl.append(py::make_tuple(c.key, c.state, c.unit, c.default_value, c.description));
          d["coupling"] = cpl;
          d["spike_state"] = x->spike_state, d["spike_threshold"] = x->spike_threshold;
          d["calcium"] = x->calcium, d["stimulus"] = x->stimulus;
          d["dt_ms_rk4"] = x->dt_ms_rk4, d["dt_ms_euler"] = x->dt_ms_euler;
          out.append(d);
        }
        return out;
      },
      "The cell models: one dict each (name, title, citation, doi, coupling, ...).");
  m.def("config_keys", &config_keys, "Every accepted config key, 'section.key'.");
  m.def(
      "detect_cores", [] { return env::detect_cores().cores; },
      "Cores this process may use (affinity, cgroup quota, OMP_NUM_THREADS, batch allocations).");
  m.def(
      "core_report", [] { return env::format_core_report(env::detect_cores()); }, "The `islet info` table.");
}
