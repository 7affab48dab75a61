// isletsim.Config: a run's TOML with the CLI's --set overrides, resolved on
// every change with the CLI's parser (same checks, same messages).
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "binding.hpp"
#include "isletsim/h5io.hpp"

namespace isletsim::binding {

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

namespace {

// Lists and dicts nested deeper than this are refused (TOML values this deep
// mean nothing in a config; a list that contains itself would recurse forever).
constexpr int kMaxNesting = 32;

bool is_bare_key(const std::string& k) {
  if (k.empty()) return false;
  for (char ch : k)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) return false;
  return true;
}

std::string toml_value_at(py::handle v, bool top, int depth) {
  if (depth > kMaxNesting)
    throw InputError("lists or dicts nested more than " + std::to_string(kMaxNesting) +
                     " levels deep (or a list or dict that contains itself)");
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
      s += (first ? "" : ", ") + toml_value_at(item, false, depth + 1);
      first = false;
    }
    return s + "]";
  }
  if (py::isinstance<py::dict>(v)) {
    std::string s = "{";
    bool first = true;
    for (auto [k, item] : v.cast<py::dict>()) {
      const std::string key = py::str(k).cast<std::string>();
      s += (first ? "" : ", ") + (is_bare_key(key) ? key : toml_quote(key)) + " = " +
           toml_value_at(item, false, depth + 1);
      first = false;
    }
    return s + "}";
  }
  if (py::hasattr(v, "__index__")) return py::str(py::int_(py::reinterpret_borrow<py::object>(v))).cast<std::string>();
  if (py::hasattr(v, "__float__"))
    return toml_value_at(py::float_(py::reinterpret_borrow<py::object>(v)), top, depth);  // NumPy scalars
  throw py::type_error("cannot use a value of type " +
                       py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>() +
                       " (use a number, bool, str, list or dict)");
}

}  // namespace

std::string toml_value(py::handle v, bool top) { return toml_value_at(v, top, 0); }

namespace {

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
  check_not_directory(path);
  IslConfig c;
  if (ends_with(path, ".h5")) {  // an earlier output: its config attribute (as `islet run old.h5`)
    try {
      c.text = read_run(path, false).attr("config");
    } catch (const InputError& e) {
      rethrow_input(e, {path});
    }
    if (c.text.empty()) throw InputError("'" + path + "' holds no config attribute (not an isletsim output?)");
    c.origin = path + " (config attribute)";
    c.rerun_file = path;
  } else {
    c.text = read_text_file(path);
    c.origin = path;
  }
  c.base_dir = std::filesystem::path(path).parent_path().string();
  c.resolve();
  return c;
}

void config_set(IslConfig& c, const std::string& key, py::handle value) {
  std::string text;
  try {
    text = toml_value(value, true);
  } catch (const InputError& e) {
    throw InputError("Config.set('" + key + "'): " + e.what());
  } catch (const py::type_error& e) {
    throw py::type_error("Config.set('" + key + "'): " + e.what());
  }
  c.sets.push_back(key + "=" + text);
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
  std::string net = r.network == NetworkKind::sphere    ? "sphere of " + std::to_string(r.n_cells) + " cells"
                    : r.network == NetworkKind::lattice ? "lattice " + std::to_string(r.nx) + "x" + std::to_string(r.ny) + "x" +
                                                   std::to_string(r.nz)
                                             : "csv network";
  std::string s = "<isletsim.Config from " + c.origin + ", " + std::to_string(c.sets.size()) +
                  " override(s): " + net + ", " + py::repr(py::float_(r.duration_s)).cast<std::string>() + " s, " +
                  (is_adaptive(r.integrator)
                       ? to_string(r.integrator) + " tolerance " + py::repr(py::float_(r.tolerance)).cast<std::string>()
                       : to_string(r.integrator) + " dt " + py::repr(py::float_(r.dt_ms)).cast<std::string>() + " ms") +
                  ", model " + r.model +
                  ", seed " + std::to_string(r.seed) + ">";
  return s;
}
}  // namespace

void bind_config(py::module_& m) {
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
      .def_property_readonly("dt_ms", [](const IslConfig& c) { return c.resolved.dt_ms; },
                             "Time step (ms); for dopri5 its grid, the record interval.")
      .def_property_readonly("integrator", [](const IslConfig& c) { return to_string(c.resolved.integrator); },
                             "The integrator: 'dopri5', 'rk4' or 'euler' (the model's default unless set).")
      .def_property_readonly("tolerance", [](const IslConfig& c) { return c.resolved.tolerance; },
                             "dopri5's relative tolerance.")
      .def_property_readonly("seed", [](const IslConfig& c) { return c.resolved.seed; })
      .def_property_readonly("record_vars", [](const IslConfig& c) { return c.resolved.record_vars; },
                             "State variables recorded.")
      .def_property_readonly("output", [](const IslConfig& c) { return c.resolved.output; },
                             "record.file: where `islet run` would write.")
      .def("__repr__", &config_repr)
      .def("__str__", [](const IslConfig& c) { return to_toml(c.resolved); });
  py::class_<IslConfig> config = m.attr("Config");
  config.def(
      "to_toml", [](const IslConfig& c, bool every_key) { return to_toml(c.resolved, every_key); }, py::kw_only(),
      py::arg("every_key") = false,
      "The resolved config as TOML. Keys whose defaults come from the model (integrator, step or\n"
      "tolerance, coupling, heterogeneity, recorded variables) only where set, so that another\n"
      "model.name gets its own (the text run files store); every_key=True writes them too, as\n"
      "`islet run --print-config` prints it.");

  m.def("config_keys", &config_keys, "Every accepted config key, 'section.key'.");
}

}  // namespace isletsim::binding
