// _isletsim: the pybind11 bindings behind the `isletsim` Python package.
//
// Config keeps the text it came from plus the list of "key=value" overrides,
// and re-resolves with parse_config(text, origin, overrides) on every set():
// Config.load(f).set(a).set(b) is exactly `islet run f --set a --set b`, with
// the same error messages. simulate() builds the run with build_setup, runs
// the engine with the GIL released into a MemorySink (or, with output=, into
// an HDF5 file like the CLI), and checks for Ctrl-C about every 1000 steps.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "isletsim/analysis.hpp"
#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"
#include "isletsim/simulation.hpp"

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
    return py::repr(v).cast<std::string>();  // shortest round trip, e.g. 120.0, 1e-05
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
                  r.integrator + " dt " + py::repr(py::float_(r.dt_ms)).cast<std::string>() + " ms, gV " +
                  py::repr(py::float_(r.gV)).cast<std::string>() + " pS, seed " + std::to_string(r.seed) + ">";
  return s;
}

// ---------------------------------------------------------------- Result

using AttrValue = std::variant<std::string, double, std::int64_t>;

struct IslResult {
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
std::size_t chunk_samples(std::size_t cells, std::size_t vars) {
  return std::bit_floor(std::clamp<std::size_t>((1u << 17) / std::max<std::size_t>(1, cells * vars), 1, 1024));
}

// The static part of a run's file, as run_to_file writes it.
void fill_static(IslResult& r, const RunSetup& s, unsigned threads) {
  const EngineProblem& p = s.problem;
  const RunConfig& c = s.config;
  r.n_cells = p.n_cells;
  r.x = s.network.x, r.y = s.network.y, r.z = s.network.z;
  r.edge_i = s.network.edge_i, r.edge_j = s.network.edge_j, r.edge_w = s.network.edge_w;
  for (int k = 0; k < bertram::kNumParams; ++k) {
    std::vector<double> v(p.n_cells);
    for (std::size_t i = 0; i < p.n_cells; ++i) v[i] = p.params[k].at(i);
    r.params.emplace_back(model_params()[k].name, std::move(v));
  }
  for (int v : p.record_vars) r.var_names.push_back(model_states()[v].name);
  r.attrs = {{"program", std::string("isletsim")},
             {"version", version()},
             {"model", std::string("Bertram et al. 2007 (shared/spec/bertram2007.md)")},
             {"config", to_toml(c)},
             {"seed", static_cast<std::int64_t>(c.seed)},
             {"integrator", c.integrator},
             {"dt_ms", c.dt_ms},
             {"record_interval_ms", c.record_interval_ms},
             {"n_cells", static_cast<std::int64_t>(p.n_cells)},
             {"glucose_protocol", p.glucose.describe()},
             {"threads", static_cast<std::int64_t>(threads)}};
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
  // Parameters in the table's order (as written), others after.
  for (const auto& info : model_params())
    for (auto& [name, v] : run.params)
      if (name == info.name) r.params.emplace_back(name, std::move(v));
  for (auto& [name, v] : run.params)
    if (!find_param(name)) r.params.emplace_back(name, std::move(v));
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

void save_result(const IslResult& r, const std::string& path) {
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
  wo.chunk_samples = chunk_samples(r.n_cells, r.var_names.size());
  for (const auto& name : r.var_names) {
    const auto k = find_state(name);
    if (k) wo.vars.push_back({name, model_states()[*k].unit, model_states()[*k].description});
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
    const auto k = find_param(name);
    w->write_cell_param(name, k ? model_params()[*k].unit : "", k ? model_params()[*k].description : "", values);
  }
  for (const auto& [k, v] : r.attrs) std::visit([&](const auto& x) { w->set_attr(k, x); }, v);
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

py::object simulate(const IslConfig& cfg, const Network* network, std::optional<int> threads,
                     std::optional<std::string> output) {
  RunConfig rc = cfg.resolved;
  if (output) rc.output = *output;
  unsigned nt;
  if (threads) {
    if (*threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
    nt = static_cast<unsigned>(*threads);
  } else {
    nt = env::detect_cores().cores;
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
        PyErr_Fetch(&pending.type, &pending.value, &pending.tb);
        stop.store(true);
      }
    } catch (...) {
      stop.store(true);
    }
  };

  RunResult rr;
  {
    py::gil_scoped_release nogil;
    RunSetup s = build_setup(rc, network);
    fill_static(res, s, nt);
    if (output) {
      try {
        rr = run_to_file(s, *output, opt);
      } catch (const InputError& e) {
        rethrow_input(e, {std::filesystem::path(*output).parent_path().string()});
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
      rr = run_engine(s.problem, &sink, opt);
      res.time = std::move(sink.time_s);
      res.glucose = std::move(sink.glucose_mM);
      res.data = std::move(sink.data);
      res.data.resize(res.var_names.size());
      res.n_samples = res.time.size();
    }
  }
  res.status = status_name(rr.status);
  res.message = rr.message;
  res.final_state = std::move(rr.final_state);
  res.steps_done = rr.steps_done;
  res.wall_s = rr.wall_s;
  const bool failed = rr.status == RunResult::Status::failed;
  py::object obj = make_result_object(std::move(res));
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

}  // namespace

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
            for (std::size_t k = 0; k < r.final_state.size() && k < model_states().size(); ++k)
              d[model_states()[k].name] = py::array_t<double>(r.final_state[k].size(), r.final_state[k].data());
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
        py::arg("output") = py::none(),
        R"doc(Run a simulation; returns a Result.

config: a Config. network: a Network to use instead of the config's [network]
section (None = build it from the config). threads: None = the cores this process
may use (as `islet info`). output: also write the HDF5 file there, as `islet run -o`.
The GIL is released while it runs. Ctrl-C stops it at the next sample and raises
KeyboardInterrupt with .result holding the data so far; a failed run (non-finite
state) raises SimulationError (a RuntimeError) with .result.)doc");

  m.def(
      "_params",
      [] {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : model_params()) v.emplace_back(p.name, p.unit, p.default_value, p.description);
        return v;
      },
      "Model parameters: (name, unit, default, description) tuples.");
  m.def(
      "_states",
      [] {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : model_states()) v.emplace_back(p.name, p.unit, p.initial, p.description);
        return v;
      },
      "State variables: (name, unit, initial, description) tuples.");
  m.def("config_keys", &config_keys, "Every accepted config key, 'section.key'.");
  m.def(
      "detect_cores", [] { return env::detect_cores().cores; },
      "Cores this process may use (affinity, cgroup quota, OMP_NUM_THREADS, batch allocations).");
  m.def(
      "core_report", [] { return env::format_core_report(env::detect_cores()); }, "The `islet info` table.");
}
