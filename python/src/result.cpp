// isletsim.Result and isletsim.load: a run in memory, read from a file or
// written to one. Result.save writes with open_run_file, the function
// run_to_file writes every run's file with, so a saved Result is the file
// `islet run` writes.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "binding.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/h5io.hpp"

namespace isletsim::binding {

std::vector<std::string> IslResult::var_names() const {
  std::vector<std::string> names;
  for (const auto& v : vars) names.push_back(v.name);
  return names;
}

std::size_t IslResult::var_index(const std::string& name) const {
  for (std::size_t v = 0; v < vars.size(); ++v)
    if (vars[v].name == name) return v;
  const std::vector<std::string> names = var_names();
  std::string have;
  for (const auto& v : names) have += (have.empty() ? "" : ", ") + v;
  throw py::key_error("no variable '" + name + "' in this result" + did_you_mean(name, names) +
                      " (have: " + (have.empty() ? "none" : have) + ")");
}

std::string IslResult::attr_string(const std::string& name) const {
  for (const auto& [k, v] : attrs)
    if (k == name)
      if (auto s = std::get_if<std::string>(&v)) return *s;
  return "";
}

namespace {

// The size and modification time of `path`: a lazily loaded result reads
// from the file it was loaded from, not from another written there since.
std::string stamp_of(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return "?";
  const auto time = std::filesystem::last_write_time(path, ec);
  if (ec) return "?";
  return std::to_string(size) + "@" + std::to_string(time.time_since_epoch().count());
}

}  // namespace

void IslResult::ensure(std::size_t v) {
  if (in_memory(v)) return;
  if (!file_stamp.empty() && stamp_of(path) != file_stamp)
    throw std::runtime_error("'" + path + "' changed since this Result was loaded from it: load it again (or " +
                             "load with lazy=False to read everything at once)");
  if (as_float32) read_var(path, vars[v].name, first_sample, n_samples, all_cells, cells, data32[v]);
  else read_var(path, vars[v].name, first_sample, n_samples, all_cells, cells, data[v]);
  loaded[v] = 1;
}

namespace {

IslResult from_h5(H5Run&& run, const std::string& path) {
  IslResult r;
  const std::string model_name = run.attr("model");
  for (const ModelInfo* m : models())
    if (model_name == m->name) r.model = m;
  // Units and descriptions are the model's (a file of another program: its
  // names without them), as the file would be written again.
  const ModelInfo& m = r.model ? *r.model : default_model();
  r.time = std::move(run.time);
  r.glucose = std::move(run.glucose);
  for (const auto& name : run.var_names) {
    const auto k = find_state(m, name);
    r.vars.push_back(k ? H5Variable{name, m.states[*k].unit, m.states[*k].description} : H5Variable{name, "", ""});
  }
  r.data = std::move(run.data);
  r.n_samples = run.n_samples;
  r.n_cells = run.n_cells;
  r.x = std::move(run.x), r.y = std::move(run.y), r.z = std::move(run.z);
  r.edge_i = std::move(run.edge_i), r.edge_j = std::move(run.edge_j), r.edge_w = std::move(run.edge_w);
  // Parameters in the file's order (the model's table order, as written).
  for (auto& [name, v] : run.params) {
    const auto k = find_param(m, name);
    r.params.push_back({name, k ? m.params[*k].unit : "", k ? m.params[*k].description : "", std::move(v)});
  }
  for (auto& [k, v] : run.string_attrs) {
    if (k == "status") r.status = v;
    else if (k == "status_message") r.message = v;
    else r.attrs.emplace_back(k, v);
  }
  double record_interval_ms = 0;
  for (const auto& [k, v] : run.number_attrs) {
    // Integers (counts, seeds, ...) as Python ints, exactly; floats as floats.
    const auto i = std::find_if(run.integer_attrs.begin(), run.integer_attrs.end(),
                                [&k = k](const auto& kv) { return kv.first == k; });
    if (i != run.integer_attrs.end())
      r.attrs.emplace_back(k, i->second);
    else
      r.attrs.emplace_back(k, v);
    if (k == "record_interval_ms") record_interval_ms = v;
  }
  r.float32 = run.float32;  // stored again as it was
  // As run_to_file chunks a run of this size (dopri5: blocks that divide the samples between landings).
  const bool landing = r.attr_string("integrator") == "dopri5" && record_interval_ms > 0;
  r.chunk_samples = record_block_for(r.n_cells, r.vars.size(),
                                     landing ? landing_samples_for(record_interval_ms, r.n_cells) : 0);
  r.path = path;
  r.first_sample = run.first_sample;
  r.cells = std::move(run.cells);
  r.data.resize(r.vars.size());
  return r;
}

void save_result(const IslResult& r, const std::string& path) {
  if (!r.all_cells)
    throw py::value_error("Result.save: this Result holds only some cells of '" + r.path +
                          "' (load(..., cells=...)), which its stored config does not describe; save a Result "
                          "with every cell");
  std::unique_ptr<H5Writer> w;
  try {
    w = open_run_file(path, r);
  } catch (const InputError& e) {
    rethrow_input(e, {std::filesystem::path(path).parent_path().string()});
  }
  if (r.n_samples > 0 && !r.as_float32) {
    std::vector<const double*> d;
    for (const auto& v : r.data) d.push_back(v.data());
    w->append(r.n_samples, r.time.data(), r.glucose.data(), d);
  } else if (r.n_samples > 0) {  // float32 samples: converted a block of chunk_samples at a time
    const std::size_t block = std::max<std::size_t>(1, r.chunk_samples), n = r.n_cells;
    std::vector<std::vector<double>> buf(r.data32.size());
    std::vector<const double*> d(r.data32.size());
    for (std::size_t s0 = 0; s0 < r.n_samples; s0 += block) {
      const std::size_t k = std::min(block, r.n_samples - s0);
      for (std::size_t v = 0; v < buf.size(); ++v) {
        buf[v].assign(r.data32[v].begin() + static_cast<std::ptrdiff_t>(s0 * n),
                      r.data32[v].begin() + static_cast<std::ptrdiff_t>((s0 + k) * n));
        d[v] = buf[v].data();
      }
      w->append(k, r.time.data() + s0, r.glucose.data() + s0, d);
    }
  }
  w->finish(r.status, r.message);
}

// A read-only NumPy view of `v` (shape `shape`) that keeps `owner` alive.
template <class T>
py::array view(const std::vector<T>& v, std::vector<py::ssize_t> shape, py::handle owner) {
  static const T empty = 0;
  py::array a(py::dtype::of<T>(), shape, {}, v.empty() ? &empty : v.data(), owner);
  a.attr("flags").attr("writeable") = false;
  return a;
}

// Variable v of r (read now when it is lazy) as a read-only view.
py::array var_view(py::object self, std::size_t v) {
  auto& r = self.cast<IslResult&>();
  r.ensure(v);
  const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(r.n_samples), static_cast<py::ssize_t>(r.n_cells)};
  return r.as_float32 ? view(r.data32[v], shape, self) : view(r.data[v], shape, self);
}

// Rows with t >= from_s of variable `var`, as float64 for the C++ measures:
// {data, rows, from} with the measure taken over rows [from, rows).
struct Float64Rows {
  std::vector<double> copy;  // float32 samples: rows t >= from_s converted (then from = 0)
  const double* data = nullptr;
  std::size_t rows = 0, from = 0;
};
// A from_s that is not finite, or that leaves no sample, is a ValueError (not a measure of nothing).
Float64Rows float64_rows(IslResult& r, const std::string& var, double from_s) {
  const std::size_t v = r.var_index(var);
  const auto text = [](double x) { return py::repr(py::float_(x)).cast<std::string>(); };
  if (!std::isfinite(from_s)) throw py::value_error("from_s must be a finite number of seconds, got " + text(from_s));
  const auto from = static_cast<std::size_t>(std::lower_bound(r.time.begin(), r.time.end(), from_s) - r.time.begin());
  if (from >= r.n_samples)
    throw py::value_error("from_s = " + text(from_s) + " s leaves no samples: " +
                          (r.time.empty() ? std::string("this Result holds none")
                                          : "the recording ends at t = " + text(r.time.back()) + " s"));
  r.ensure(v);
  Float64Rows out;
  if (r.as_float32) {
    const auto& d = r.data32[v];
    out.copy.assign(d.begin() + static_cast<std::ptrdiff_t>(from * r.n_cells), d.end());
    out.data = out.copy.data();
    out.rows = r.n_samples - from;
  } else {
    out.data = r.data[v].data();
    out.rows = r.n_samples;
    out.from = from;
  }
  return out;
}

// isl.load's C++ half (isletsim.load, in __init__.py, turns its arguments into these).
IslResult load_part(const std::string& path, std::optional<std::vector<std::string>> vars, double t0, double t1,
                    std::optional<std::vector<std::size_t>> cells, std::optional<bool> float32, bool lazy) {
  H5Select sel;
  sel.t0 = t0, sel.t1 = t1;
  if (cells) sel.all_cells = false, sel.cells = std::move(*cells);
  H5Run run;
  {
    py::gil_scoped_release nogil;
    try {
      run = read_run(path, sel, false);
    } catch (const InputError& e) {
      rethrow_input(e, {path});
    }
  }
  if (vars) {  // only these, in this order (KeyError naming the recorded ones)
    for (const auto& v : *vars)
      if (std::find(run.var_names.begin(), run.var_names.end(), v) == run.var_names.end()) {
        std::string have;
        for (const auto& x : run.var_names) have += (have.empty() ? "" : ", ") + x;
        throw py::key_error("vars: '" + path + "' has no variable '" + v + "'" + did_you_mean(v, run.var_names) +
                            " (recorded: " + (have.empty() ? "none" : have) + ")");
      }
    run.var_names = *vars;
  }
  const bool stored32 = run.float32;
  IslResult r = from_h5(std::move(run), path);
  r.all_cells = !cells.has_value();
  r.as_float32 = float32.value_or(stored32);
  r.lazy = true;
  r.loaded.assign(r.vars.size(), 0);
  r.data.assign(r.vars.size(), {});
  r.data32.assign(r.vars.size(), {});
  if (lazy) {
    // A file still being written grows, but the samples loaded stay as they are.
    if (r.status != "running") r.file_stamp = stamp_of(path);
  } else {
    py::gil_scoped_release nogil;
    for (std::size_t v = 0; v < r.vars.size(); ++v) r.ensure(v);
  }
  return r;
}

}  // namespace

void bind_result(py::module_& m) {
  py::class_<IslResult>(m, "Result", R"doc(A finished (or stopped) run: what the HDF5 output holds, in memory.

res.time (s), res.glucose (mM), res["c"] -> (samples, cells) float64 array (read-only view),
res.vars, res.status ('complete', 'interrupted', 'failed'), res.message, res.final_state,
res.positions, res.edges, res.weights, res.params, res.attrs, res.config; res.save(path).)doc")
      .def_property_readonly(
          "time",
          [](py::object self) {
            auto& r = self.cast<IslResult&>();
            return view(r.time, {static_cast<py::ssize_t>(r.time.size())}, self);
          },
          "Sample times (s), (samples,) float64.")
      .def_property_readonly(
          "glucose",
          [](py::object self) {
            auto& r = self.cast<IslResult&>();
            return view(r.glucose, {static_cast<py::ssize_t>(r.glucose.size())}, self);
          },
          "Glucose at each sample (mM; NaN when JGK is fixed), (samples,) float64.")
      .def_property_readonly("vars", [](const IslResult& r) { return r.var_names(); }, "Recorded variable names.")
      .def("keys", [](const IslResult& r) { return r.var_names(); }, "Recorded variable names.")
      .def(
          "__getitem__",
          [](py::object self, const std::string& name) {
            return var_view(self, self.cast<IslResult&>().var_index(name));
          },
          py::arg("var"),
          "Recorded variable `var` (e.g. 'c' in uM, 'V' in mV): (samples, cells) C-contiguous read-only\n"
          "view sharing memory with the result; float64 (float32 when loaded so). KeyError if not recorded.")
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
            for (const auto& p : r.params) d[py::str(p.name)] = py::array_t<double>(p.values.size(), p.values.data());
            return d;
          },
          "Per-cell parameter values {name: (cells,) array} (heterogeneity applied).")
      .def_property_readonly(
          "attrs",
          [](const IslResult& r) {
            py::dict d;
            for (const auto& kv : r.attrs) std::visit([&](const auto& x) { d[py::str(kv.first)] = x; }, kv.second);
            d["status"] = r.status;
            d["status_message"] = r.message;
            return d;
          },
          "Root attributes of the output file (config, seed, version, integrator, dt_ms, ...).")
      .def_property_readonly(
          "config_toml", [](const IslResult& r) { return r.attr_string("config"); },
          "The run's resolved config (TOML).")
      .def(
          "save",
          [](IslResult& r, const std::string& path) {
            for (std::size_t v = 0; v < r.vars.size(); ++v) r.ensure(v);  // with the GIL: no two threads read
            py::gil_scoped_release nogil;
            save_result(r, path);
          },
          py::arg("path"),
          "Write the HDF5 file `islet run` writes for this run (docs/hdf5-layout.md); record.dtype of the\n"
          "config decides float32/float64 storage.")
      .def_property_readonly(
          "cells",
          [](const IslResult& r) {
            py::array_t<std::int64_t> a(static_cast<py::ssize_t>(r.n_cells));
            for (std::size_t c = 0; c < r.n_cells; ++c)
              a.mutable_data()[c] = static_cast<std::int64_t>(c < r.cells.size() ? r.cells[c] : c);
            return a;
          },
          "The index of each cell in the run (the file's column), (cells,) int64: 0..n-1 unless loaded\n"
          "with cells=.")
      .def_property_readonly("first_sample", [](const IslResult& r) { return r.first_sample; },
                             "The run's index of the first sample held (0 unless loaded with window=).")
      .def_property_readonly(
          "dtype", [](const IslResult& r) { return r.as_float32 ? py::dtype::of<float>() : py::dtype::of<double>(); },
          "NumPy dtype of res[var]: float64, or float32 when loaded so (load(dtype=None) of a float32 file).")
      .def_property_readonly(
          "in_memory",
          [](const IslResult& r) {
            std::vector<std::string> names;
            for (std::size_t v = 0; v < r.vars.size(); ++v)
              if (r.in_memory(v)) names.push_back(r.vars[v].name);
            return names;
          },
          "Variables whose samples are in memory (a lazily loaded Result reads each on first use).")
      .def("__len__", [](const IslResult& r) { return r.n_samples; })
      .def("__repr__", [](const IslResult& r) {
        std::string vars;
        for (const auto& v : r.vars) vars += (vars.empty() ? "" : ",") + v.name;
        return "<isletsim.Result " + r.status + ": " + std::to_string(r.n_samples) + " samples x " +
               std::to_string(r.n_cells) + " cells of " + vars +
               (r.time.empty() ? std::string()
                               : ", t = 0.." + py::repr(py::float_(r.time.back())).cast<std::string>() + " s") +
               (r.path.empty() ? std::string() : ", " + r.path) + ">";
      });

  // `"c" in res`, its parameter named (as the stubs name it) for inspect.signature; the measures.
  py::class_<IslResult> result = m.attr("Result");
  result
      .def(
          "__contains__",
          [](const IslResult& r, const std::string& var) {
            return std::any_of(r.vars.begin(), r.vars.end(), [&](const H5Variable& v) { return v.name == var; });
          },
          py::arg("var"), "Whether variable `var` was recorded.")
      .def(
          "synchrony",
          [](py::object self, const std::string& var, double from_s) {
            auto& r = self.cast<IslResult&>();
            const Float64Rows x = float64_rows(r, var, from_s);
            return analysis::mean_pairwise_correlation({x.data, x.rows, r.n_cells}, x.from);
          },
          py::arg("var") = "c", py::arg("from_s") = 0.0,
          "Synchrony index: mean pairwise Pearson correlation of `var` over samples with t >= from_s.\n"
          "ValueError when from_s is not finite or no sample has t >= from_s.")
      .def(
          "duty_cycle",
          [](py::object self, const std::string& var, double from_s) {
            auto& r = self.cast<IslResult&>();
            const Float64Rows x = float64_rows(r, var, from_s);
            const auto d = analysis::duty_cycle({x.data, x.rows, r.n_cells}, x.from);
            return py::array_t<double>(d.size(), d.data());
          },
          py::arg("var") = "c", py::arg("from_s") = 0.0,
          "Fraction of samples (t >= from_s) each cell is active (above half its own amplitude), (cells,).\n"
          "ValueError when from_s is not finite or no sample has t >= from_s.");

  m.def("_load", &load_part, py::arg("path"), py::arg("vars"), py::arg("t0"), py::arg("t1"), py::arg("cells"),
        py::arg("float32"), py::arg("lazy"), "Reads (part of) a run file (use isletsim.load).");
  m.def(
      "_file_shape",
      [](const std::string& path) {
        H5Run run;
        {
          py::gil_scoped_release nogil;
          try {
            run = read_run(path, false);
          } catch (const InputError& e) {
            rethrow_input(e, {path});
          }
        }
        return py::make_tuple(run.n_samples, run.n_cells);
      },
      py::arg("path"), "(samples, cells) of a run file.");
}

}  // namespace isletsim::binding
