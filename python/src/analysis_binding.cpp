// The analysis pipeline for Python (isletsim.analyze, in analysis.py): the
// same C++ as `islet analyze`, its results handed over as NumPy arrays
// without copies (each array owns the vector it views).
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "binding.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"

namespace py = pybind11;
using namespace isletsim;

namespace {

template <class T>
py::array_t<T> own(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
  auto* p = new std::vector<T>(std::move(v));
  py::capsule owner(p, [](void* q) { delete static_cast<std::vector<T>*>(q); });
  if (shape.empty()) shape = {static_cast<py::ssize_t>(p->size())};
  return py::array_t<T>(shape, p->data(), owner);
}

template <class T>
py::array_t<T> copy(const std::vector<T>& v) {
  return own(std::vector<T>(v));
}

std::vector<double> doubles(py::handle a, const char* what, std::size_t want = 0) {
  if (a.is_none()) return {};
  auto arr = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!arr) throw InputError(std::string(what) + ": expected an array of numbers");
  std::vector<double> v(arr.data(), arr.data() + arr.size());
  if (want && v.size() != want)
    throw InputError(std::string(what) + ": " + std::to_string(v.size()) + " values, expected " + std::to_string(want));
  return v;
}

// (n, 2) or (n, 3) positions in um into the input.
void set_positions(analysis::Input& in, py::handle pos) {
  if (pos.is_none()) return;
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(pos);
  if (!a || a.ndim() != 2 || (a.shape(1) != 2 && a.shape(1) != 3))
    throw InputError("positions: expected an array of shape (cells, 2) or (cells, 3) in um");
  const auto n = static_cast<std::size_t>(a.shape(0)), k = static_cast<std::size_t>(a.shape(1));
  in.x.resize(n), in.y.resize(n), in.z.assign(n, 0.0);
  for (std::size_t c = 0; c < n; ++c) {
    in.x[c] = a.data()[c * k], in.y[c] = a.data()[c * k + 1];
    if (k == 3) in.z[c] = a.data()[c * k + 2];
  }
}

py::dict to_python(analysis::Result&& r, analysis::Input&& in) {
  const auto n = static_cast<py::ssize_t>(in.data.cells), m = static_cast<py::ssize_t>(r.pre.time.size());
  py::dict d;
  d["source"] = in.source;
  d["variable"] = in.variable;
  d["options_toml"] = analysis_to_toml(r.options);
  d["rate_hz"] = r.pre.rate_hz;
  d["stimulus_s"] = r.stimulus_s;
  d["threshold"] = r.threshold;
  d["metrics"] = r.metrics();
  d["time"] = own(std::move(r.pre.time));
  d["signal"] = own(std::move(r.pre.signal.v), {m, n});
  d["binary"] = own(std::move(r.binary), {m, n});
  d["excluded"] = own(std::move(r.pre.excluded));
  auto& a = r.activity;
  py::dict act;
  act["relative_active_time"] = own(std::move(a.relative_active_time));
  act["frequency_hz"] = own(std::move(a.frequency_hz));
  act["mean_duration_s"] = own(std::move(a.mean_duration_s));
  act["mean_interval_s"] = own(std::move(a.mean_interval_s));
  act["interval_cv"] = own(std::move(a.interval_cv));
  act["n_oscillations"] = own(std::move(a.n_oscillations));
  act["first_onset_s"] = own(std::move(a.first_onset_s));
  act["response_latency_s"] = own(std::move(a.response_latency_s));
  act["time_to_plateau_s"] = own(std::move(a.time_to_plateau_s));
  d["activity"] = act;
  py::list onsets;
  for (auto& o : a.onsets) onsets.append(own(std::move(o)));
  d["onsets"] = onsets;
  d["corr"] = own(std::move(r.corr), {n, n});
  d["coactivity"] = own(std::move(r.coactivity), {n, n});
  py::dict bd;
  bd["bin_lo_um"] = own(std::move(r.by_distance.bin_lo_um));
  bd["mean"] = own(std::move(r.by_distance.mean));
  bd["sd"] = own(std::move(r.by_distance.sd));
  bd["pairs"] = own(std::move(r.by_distance.pairs));
  d["by_distance"] = bd;
  std::vector<std::uint32_t> edges(2 * r.network.i.size());
  for (std::size_t e = 0; e < r.network.i.size(); ++e) edges[2 * e] = r.network.i[e], edges[2 * e + 1] = r.network.j[e];
  d["edges"] = own(std::move(edges), {static_cast<py::ssize_t>(r.network.i.size()), 2});
  auto& nm = r.measures;
  py::dict net;
  net["degree"] = own(std::move(nm.degree));
  net["normalized_degree"] = own(std::move(nm.normalized_degree));
  net["clustering"] = own(std::move(nm.clustering));
  net["betweenness"] = own(std::move(nm.betweenness));
  net["closeness"] = own(std::move(nm.closeness));
  net["hub"] = own(std::move(nm.hub));
  net["community"] = own(std::move(nm.community));
  d["network"] = net;
  py::list waves;
  for (auto& w : r.waves.waves) {
    py::dict x;
    x["start_s"] = w.start_s, x["duration_s"] = w.duration_s, x["speed_um_s"] = w.speed_um_s;
    x["origin"] = w.origin, x["relative_size"] = w.relative_size;
    x["cells"] = own(std::move(w.cells));
    x["delays_s"] = own(std::move(w.delays_s));
    x["initiators"] = own(std::move(w.initiators));
    waves.append(x);
  }
  d["waves"] = waves;
  py::dict wc;
  wc["initiated"] = own(std::move(r.waves.initiated));
  wc["participated"] = own(std::move(r.waves.participated));
  wc["mean_rank"] = own(std::move(r.waves.mean_rank));
  wc["rank_sd"] = own(std::move(r.waves.rank_sd));
  d["wave_cells"] = wc;
  if (!in.x.empty()) {
    std::vector<double> xyz(3 * in.x.size());
    for (std::size_t c = 0; c < in.x.size(); ++c) xyz[3 * c] = in.x[c], xyz[3 * c + 1] = in.y[c], xyz[3 * c + 2] = in.z[c];
    d["positions"] = own(std::move(xyz), {n, 3});
  } else {
    d["positions"] = py::none();
  }
  if (!in.glucose.empty()) {
    d["glucose"] = py::make_tuple(own(std::move(in.time)), own(std::move(in.glucose)));
  } else {
    d["glucose"] = py::none();
  }
  if (!in.edge_i.empty()) {
    std::vector<std::uint32_t> se(2 * in.edge_i.size());
    for (std::size_t e = 0; e < in.edge_i.size(); ++e) se[2 * e] = in.edge_i[e], se[2 * e + 1] = in.edge_j[e];
    d["structural_edges"] = own(std::move(se), {static_cast<py::ssize_t>(in.edge_i.size()), 2});
  } else {
    d["structural_edges"] = py::none();
  }
  return d;
}

// threads= as simulate checks it (0: the library's default), before the GIL is released.
int blas_threads(std::optional<int> threads) {
  if (!threads) return 0;
  if (*threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
  env::check_thread_count(static_cast<unsigned>(*threads), "threads=");
  return *threads;
}

py::dict run(analysis::Input&& in, const analysis::Options& o, int threads) {
  analysis::Result r;
  {
    py::gil_scoped_release nogil;
    if (threads > 0) analysis::set_blas_threads(threads);
    r = analysis::analyze(in, o);
  }
  return to_python(std::move(r), std::move(in));
}

}  // namespace

void bind_analysis(py::module_& m) {
  m.def(
      "_analysis_options",
      [](const std::string& config_toml, const std::string& origin, const std::vector<std::string>& sets) {
        const analysis::Options o = resolve_analysis_options(config_toml, origin, sets);
        return py::make_tuple(analysis_to_toml(o), o.variable);
      },
      "([analysis] TOML, variable) of a config text with analysis.* overrides.");
  m.def(
      "_analyze_file",
      [](const std::string& path, const std::vector<std::string>& sets, const std::string& positions_path,
         py::object positions, double sampling_hz, bool time_column, std::optional<int> threads) {
        const int nt = blas_threads(threads);
        const bool is_run = path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0;
        analysis::Options o;
        analysis::Input in;
        {
          py::gil_scoped_release nogil;
          try {
            o = resolve_analysis_options(is_run ? stored_config(path) : std::string(),
                                         is_run ? path + " (config attribute)" : "<isletsim.analyze>", sets);
            in = is_run ? analysis_input_from_run(path, o.variable, positions_path)
                        : analysis_input_from_text(path, positions_path, sampling_hz, time_column);
          } catch (const InputError& e) {
            isletsim::binding::rethrow_input(e, {path, positions_path});  // a missing file: FileNotFoundError
          }
        }
        set_positions(in, positions);
        return run(std::move(in), o, nt);
      },
      py::arg("path"), py::arg("sets"), py::arg("positions_path"), py::arg("positions"), py::arg("sampling_hz"),
      py::arg("time_column"), py::arg("threads"));
  m.def(
      "_read_positions",
      [](const std::string& positions_path, std::size_t cells, const std::string& source) {
        analysis::Input in;
        in.source = source;
        in.data.cells = cells;
        try {
          read_positions_file(positions_path, in);
        } catch (const InputError& e) {
          isletsim::binding::rethrow_input(e, {positions_path});  // a missing file: FileNotFoundError
        }
        std::vector<double> xyz(3 * cells);
        for (std::size_t c = 0; c < cells; ++c)
          xyz[3 * c] = in.x[c], xyz[3 * c + 1] = in.y[c], xyz[3 * c + 2] = in.z[c];
        return own(std::move(xyz), {static_cast<py::ssize_t>(cells), 3});
      },
      "(cells, 3) positions (um) from an 'x y [z]' text file, one row per cell of `source`.", py::arg("path"),
      py::arg("cells"), py::arg("source"));
  m.def(
      "_analyze_arrays",
      [](py::object time, py::object data, py::object glucose, py::object positions, py::object edges,
         const std::string& config_toml, const std::vector<std::string>& sets, const std::string& source,
         std::optional<int> threads) {
        const int nt = blas_threads(threads);
        const analysis::Options o = resolve_analysis_options(config_toml, source, sets);
        auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
        if (!a || a.ndim() != 2) throw InputError("data: expected a 2-D array (samples, cells)");
        analysis::Input in;
        in.source = source;
        in.variable = o.variable;
        in.data = analysis::Series(static_cast<std::size_t>(a.shape(0)), static_cast<std::size_t>(a.shape(1)));
        std::copy(a.data(), a.data() + a.size(), in.data.v.begin());
        in.time = doubles(time, "time", in.data.samples);
        std::vector<double> g = doubles(glucose, "glucose", in.data.samples);
        if (std::any_of(g.begin(), g.end(), [](double x) { return std::isfinite(x); })) in.glucose = std::move(g);
        set_positions(in, positions);
        if (!edges.is_none()) {
          auto e = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(edges);
          if (!e || e.ndim() != 2 || e.shape(1) != 2) throw InputError("edges: expected an array of shape (edges, 2)");
          for (py::ssize_t k = 0; k < e.shape(0); ++k) {
            const auto i = e.data()[2 * k], j = e.data()[2 * k + 1];
            if (i < 0 || j < 0) throw InputError("edges: negative cell index");
            in.edge_i.push_back(static_cast<std::uint32_t>(i)), in.edge_j.push_back(static_cast<std::uint32_t>(j));
          }
        }
        return run(std::move(in), o, nt);
      },
      py::arg("time"), py::arg("data"), py::arg("glucose"), py::arg("positions"), py::arg("edges"),
      py::arg("config_toml"), py::arg("sets"), py::arg("source"), py::arg("threads"));
}
