// isletsim.Result and isletsim.load: a run in memory, read from a file or
// written to one. Result.save writes with open_run_file, the function
// run_to_file writes every run's file with, so a saved Result is the file
// `islet run` writes.
#include <algorithm>
#include <filesystem>
#include <memory>
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
  for (const auto& [k, v] : run.number_attrs) {
    const bool integer = k == "seed" || k == "n_cells" || k == "threads";
    if (integer) r.attrs.emplace_back(k, static_cast<std::int64_t>(v));
    else r.attrs.emplace_back(k, v);
  }
  r.float32 = run.float32;  // stored again as it was
  r.chunk_samples = record_block_for(r.n_cells, r.vars.size());  // as run_to_file chunks a run of this size
  r.path = path;
  return r;
}

void save_result(const IslResult& r, const std::string& path) {
  std::unique_ptr<H5Writer> w;
  try {
    w = open_run_file(path, r);
  } catch (const InputError& e) {
    rethrow_input(e, {std::filesystem::path(path).parent_path().string()});
  }
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
      .def("__contains__", [](const IslResult& r, const std::string& k) {
        return std::any_of(r.vars.begin(), r.vars.end(), [&](const H5Variable& v) { return v.name == k; });
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
            for (const auto& p : r.params) d[py::str(p.name)] = py::array_t<double>(p.values.size(), p.values.data());
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
          "config_toml", [](const IslResult& r) { return r.attr_string("config"); },
          "The run's resolved config (TOML).")
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
        for (const auto& v : r.vars) vars += (vars.empty() ? "" : ",") + v.name;
        return "<isletsim.Result " + r.status + ": " + std::to_string(r.n_samples) + " samples x " +
               std::to_string(r.n_cells) + " cells of " + vars +
               (r.time.empty() ? std::string()
                               : ", t = 0.." + py::repr(py::float_(r.time.back())).cast<std::string>() + " s") +
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
}

}  // namespace isletsim::binding
