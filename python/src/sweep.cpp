// isletsim.sweep's C++ half: the sweep file `islet sweep` would read, built
// from Python dicts, run by the C++ sweep engine while Ctrl-C is watched.
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <toml++/toml.h>

#include "binding.hpp"
#include "isletsim/env.hpp"
#include "isletsim/network.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::binding {

namespace {

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
                   bool overwrite, bool progress, const Network* network) {
  if (out_dir.empty()) throw py::value_error("out_dir must name a directory");
  if (threads && *threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
  if (threads_per_task < 1)
    throw py::value_error("threads_per_task must be at least 1, got " + std::to_string(threads_per_task));
  env::check_thread_count(static_cast<unsigned>(threads_per_task), "threads_per_task=");
  if (threads) env::check_thread_count(static_cast<unsigned>(*threads), "threads=");
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
  std::error_code ec;
  if (std::filesystem::is_regular_file(cfg.origin, ec)) spec.base_file = cfg.origin;  // a Config.load'ed file
  spec.base_dir = cfg.base_dir;
  if (network) spec.network = std::make_shared<const Network>(*network);
  // Keys that cannot change some results: Python warnings (UserWarning), one per key,
  // pointing at the caller of isletsim.sweep.
  for (const std::string& w : sweep::sweep_warnings(spec))
    if (PyErr_WarnEx(PyExc_UserWarning, ("isl.sweep: " + w).c_str(), 2) != 0) throw py::error_already_set();
  opt.notes = false;  // re-run reasons: returned, warned by the Python wrapper
  opt.exec.cores = threads ? static_cast<unsigned>(*threads) : env::detect_cores().cores;
  opt.exec.threads_per_task = static_cast<unsigned>(threads_per_task);
  std::atomic<bool> stop{false};
  opt.exec.stop = &stop;
  opt.resume = resume;
  opt.overwrite = overwrite;
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
    try {
      std::rethrow_exception(failure);
    } catch (const InputError& e) {  // the CLI's option names, as this function's arguments
      std::string msg = e.what();
      for (const auto& [cli, arg] : {std::pair{"--resume", "resume=True"}, std::pair{"--overwrite", "overwrite=True"}})
        for (std::size_t at = msg.find(cli); at != std::string::npos; at = msg.find(cli, at))
          msg.replace(at, std::strlen(cli), arg);
      throw InputError(msg);
    }
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
  out["reruns"] = outcome.reruns;
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

void bind_sweep(py::module_& m) {
  m.def("_sweep", &sweep_run, py::arg("config"), py::arg("grid"), py::arg("zip"), py::arg("sample"), py::arg("out_dir"),
        py::arg("executor"), py::arg("threads"), py::arg("threads_per_task"), py::arg("resume"), py::arg("overwrite"),
        py::arg("progress"), py::arg("network") = nullptr, "Runs a sweep (use isletsim.sweep).");
}

}  // namespace isletsim::binding
