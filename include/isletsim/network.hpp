#pragma once
// Cell networks: positions, undirected gap-junction edges with weights, and
// optional per-cell parameter columns; generators and CSV import.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace isletsim {

struct Network {
  // Cell positions in micrometres (id = index).
  std::vector<double> x, y, z;
  // Undirected edges, each stored once; weight >= 0 and finite, no self-loops.
  std::vector<std::uint32_t> edge_i, edge_j;
  std::vector<double> edge_w;
  // Per-cell parameter values loaded from cells.csv extra columns:
  // (parameter name, one value per cell).
  std::vector<std::pair<std::string, std::vector<double>>> cell_params;

  std::size_t n_cells() const { return x.size(); }
  std::size_t n_edges() const { return edge_i.size(); }
  double mean_degree() const { return n_cells() ? 2.0 * n_edges() / n_cells() : 0.0; }
};

// Compressed sparse rows of the symmetric adjacency: row i lists every
// neighbour j of i (both directions of every edge) sorted by j ascending.
// This fixed order is the summation order of the coupling terms.
struct Csr {
  std::vector<std::uint64_t> row_ptr;  // n_cells + 1
  std::vector<std::uint32_t> col;
  std::vector<double> w;
  std::size_t n_rows() const { return row_ptr.empty() ? 0 : row_ptr.size() - 1; }
};

Csr build_csr(const Network& net);

struct SphereOptions {
  std::size_t n_cells = 1000;
  std::uint64_t seed = 1;
  double cell_diameter_um = 12.0;  // hard-sphere diameter
  double contact_factor = 1.07;    // connect centres closer than contact_factor * diameter
  double oversample = 4.0;         // pack oversample * n_cells spheres, keep the n nearest the centre
};

// Spherical islet: random packing of non-overlapping spheres in a box, the
// n_cells nearest the centre kept (ids sorted by distance to the centre),
// cells closer than the contact distance connected with weight 1.
// Depends only on the options (seeded, reproducible).
Network make_sphere(const SphereOptions& opt);

// nx*ny*nz cubic lattice with 6-neighbour connectivity, weight 1; id = x + nx*(y + ny*z).
Network make_lattice(std::size_t nx, std::size_t ny, std::size_t nz, double spacing_um = 10.0);

// Loads cells.csv (header id,x,y,z[,param...]; ids 0..n-1, each once, any
// order) and edges.csv (header i,j,weight; undirected, each edge once).
// Extra cells.csv columns must be names in `param_names`. Throws InputError
// naming the file and line for anything malformed.
Network load_network_csv(const std::string& cells_csv, const std::string& edges_csv,
                         const std::vector<std::string>& param_names);

// Writes `net` as cells.csv (id,x,y,z[,its cell_params columns]) and
// edges.csv (i,j,weight: the network's weights as stored in edge_w), in the
// format load_network_csv reads back to the same values bit for bit. Both
// files or neither: each is written under a temporary name beside it, and
// renamed into place once both are complete; a failure leaves files of
// those names that were there as they were. Throws InputError (same file
// twice, unwritable folder, invalid network), std::runtime_error for a
// write error (full disk, file-size limit).
void save_network_csv(const Network& net, const std::string& cells_csv, const std::string& edges_csv);

// Checks a network built in memory (e.g. from Python): ids in range, finite
// non-negative weights, no self-loops, no duplicate edges. Throws InputError.
void validate_network(const Network& net, const std::string& origin);

}  // namespace isletsim
