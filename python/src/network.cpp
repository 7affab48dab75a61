// isletsim.Network: cells and gap-junction edges, built as the config's
// [network] section would (sphere, lattice, CSV) or from arrays.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "binding.hpp"
#include "isletsim/network.hpp"

namespace isletsim::binding {

namespace {

// Network.from_arrays' edges, (m, 2) cell ids, row after row: whole numbers in 0..n_cells-1 (a float id
// is refused, not truncated; ids up to n_cells-1 are checked by validate_network, with the others).
std::vector<std::int64_t> edge_ids(const py::object& edges, std::size_t n_cells) {
  const py::array a = py::module_::import("numpy").attr("asarray")(edges);
  if (a.ndim() != 2 || (a.shape(1) != 2 && a.shape(0) != 0))
    throw py::value_error("edges must be an (m, 2) integer array of cell ids");
  const auto fail = [&](py::ssize_t k, const std::string& what) {
    throw InputError("Network.from_arrays: edge " + std::to_string(k / 2) + ": cell id " + what);
  };
  const auto out_of_range = [&](py::ssize_t k, const std::string& id) {
    fail(k, id + " out of range (the network has " + std::to_string(n_cells) + " cells" +
                (n_cells ? ", ids 0.." + std::to_string(n_cells - 1) : std::string()) + ")");
  };
  std::vector<std::int64_t> ids;
  const char kind = a.dtype().kind();
  if (kind == 'f' || kind == 'c') {  // floats: whole numbers only
    auto f = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!f) throw py::value_error("edges must be an (m, 2) integer array of cell ids");
    for (py::ssize_t k = 0; k < f.size(); ++k) {
      const double x = f.data()[k];
      const std::string text = py::repr(py::float_(x)).cast<std::string>();
      if (!std::isfinite(x) || x != std::floor(x))
        fail(k, text + " is not a whole number (edges hold integer cell ids)");
      if (x < 0 || x > 4294967295.0) out_of_range(k, text);
      ids.push_back(static_cast<std::int64_t>(x));
    }
    return ids;
  }
  auto i = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!i) throw py::value_error("edges must be an (m, 2) integer array of cell ids");
  for (py::ssize_t k = 0; k < i.size(); ++k) {
    const std::int64_t x = i.data()[k];
    if (x < 0 || x > 0xffffffffLL) out_of_range(k, std::to_string(x));
    ids.push_back(x);
  }
  return ids;
}

}  // namespace

void bind_network(py::module_& m) {
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
          [](py::array_t<double, py::array::c_style | py::array::forcecast> pos, const py::object& edges_in,
             py::object weights) {
            if (pos.ndim() != 2 || pos.shape(1) != 3) throw py::value_error("positions must be an (n, 3) array (um)");
            Network net;
            const auto n = static_cast<std::size_t>(pos.shape(0));
            for (std::size_t i = 0; i < n; ++i) {
              net.x.push_back(pos.at(i, 0));
              net.y.push_back(pos.at(i, 1));
              net.z.push_back(pos.at(i, 2));
            }
            const std::vector<std::int64_t> ids = edge_ids(edges_in, n);
            const std::size_t m = ids.size() / 2;
            for (std::size_t e = 0; e < m; ++e) {
              net.edge_i.push_back(static_cast<std::uint32_t>(ids[2 * e]));
              net.edge_j.push_back(static_cast<std::uint32_t>(ids[2 * e + 1]));
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
      .def(
          "to_csv",
          [](const Network& n, const py::object& cells, const py::object& edges) {
            const auto fspath = py::module_::import("os").attr("fspath");
            const auto c = fspath(cells).cast<std::string>(), e = fspath(edges).cast<std::string>();
            py::gil_scoped_release nogil;
            save_network_csv(n, c, e);
          },
          py::arg("cells"), py::arg("edges"),
          "Write cells.csv (id,x,y,z[,cell_params columns]) and edges.csv (i,j,weight: this network's\n"
          "weights, before per-cell conductance factors), the files Network.from_csv and [network]\n"
          "kind = 'csv' read back to the same values. Both are written under temporary names first;\n"
          "raises isletsim.InputError if a file can't be written.")
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
}

}  // namespace isletsim::binding
