// Compressed sparse rows of a network and the cubic lattice generator.
#include <cmath>
#include <limits>
#include <string>

#include "isletsim/error.hpp"
#include "isletsim/network.hpp"

namespace isletsim {

Csr build_csr(const Network& net) {
  const std::size_t n = net.n_cells(), m = net.n_edges();
  if (net.edge_j.size() != m || net.edge_w.size() != m)
    throw InputError("build_csr: edge_i, edge_j and edge_w have different lengths (" +
                     std::to_string(m) + ", " + std::to_string(net.edge_j.size()) + ", " +
                     std::to_string(net.edge_w.size()) + ")");
  for (std::size_t e = 0; e < m; ++e)
    if (net.edge_i[e] >= n || net.edge_j[e] >= n)
      throw InputError("build_csr: edge " + std::to_string(e) + " (" + std::to_string(net.edge_i[e]) +
                       "-" + std::to_string(net.edge_j[e]) + ") refers to a cell >= n_cells = " +
                       std::to_string(n) + " (run validate_network first)");

  // Row sizes: both directions of every edge.
  Csr out;
  out.row_ptr.assign(n + 1, 0);
  for (std::size_t e = 0; e < m; ++e) {
    ++out.row_ptr[net.edge_i[e] + 1];
    ++out.row_ptr[net.edge_j[e] + 1];
  }
  for (std::size_t r = 0; r < n; ++r) out.row_ptr[r + 1] += out.row_ptr[r];

  // Pass 1: rows filled in edge order (columns unsorted).
  Csr unsorted = out;
  unsorted.col.resize(2 * m);
  unsorted.w.resize(2 * m);
  std::vector<std::uint64_t> fill(out.row_ptr.begin(), out.row_ptr.end() - 1);
  for (std::size_t e = 0; e < m; ++e) {
    const std::uint32_t i = net.edge_i[e], j = net.edge_j[e];
    unsorted.col[fill[i]] = j;
    unsorted.w[fill[i]++] = net.edge_w[e];
    unsorted.col[fill[j]] = i;
    unsorted.w[fill[j]++] = net.edge_w[e];
  }

  // Pass 2: transpose. Visiting the source rows r in ascending order and
  // appending r to row col appends to every row in ascending column order;
  // the matrix is symmetric, so its transpose is itself with sorted rows.
  // Two linear passes, no comparison sort; entries with equal columns (only
  // possible for unvalidated duplicate edges) keep their edge order.
  out.col.resize(2 * m);
  out.w.resize(2 * m);
  fill.assign(out.row_ptr.begin(), out.row_ptr.end() - 1);
  for (std::size_t r = 0; r < n; ++r)
    for (std::uint64_t k = unsorted.row_ptr[r]; k < unsorted.row_ptr[r + 1]; ++k) {
      const std::uint32_t c = unsorted.col[k];
      out.col[fill[c]] = static_cast<std::uint32_t>(r);
      out.w[fill[c]++] = unsorted.w[k];
    }
  return out;
}

Network make_lattice(std::size_t nx, std::size_t ny, std::size_t nz, double spacing_um) {
  if (nx == 0 || ny == 0 || nz == 0)
    throw InputError("lattice network: size " + std::to_string(nx) + "x" + std::to_string(ny) + "x" +
                     std::to_string(nz) + " has no cells (each dimension must be at least 1)");
  if (!(spacing_um > 0.0) || !std::isfinite(spacing_um))
    throw InputError("lattice network: spacing must be a positive number of micrometres, got " +
                     std::to_string(spacing_um));
  const double cells = static_cast<double>(nx) * static_cast<double>(ny) * static_cast<double>(nz);
  if (cells > static_cast<double>(std::numeric_limits<std::uint32_t>::max()))
    throw InputError("lattice network: " + std::to_string(nx) + "x" + std::to_string(ny) + "x" +
                     std::to_string(nz) + " is too many cells (at most " +
                     std::to_string(std::numeric_limits<std::uint32_t>::max()) + ")");

  Network net;
  const std::size_t n = nx * ny * nz;
  net.x.resize(n);
  net.y.resize(n);
  net.z.resize(n);
  net.edge_i.reserve(3 * n);
  net.edge_j.reserve(3 * n);
  // Each cell links to its +x, +y and +z neighbours, so every edge appears
  // once, ordered by its lower id.
  for (std::size_t z = 0; z < nz; ++z)
    for (std::size_t y = 0; y < ny; ++y)
      for (std::size_t x = 0; x < nx; ++x) {
        const auto id = static_cast<std::uint32_t>(x + nx * (y + ny * z));
        net.x[id] = spacing_um * static_cast<double>(x);
        net.y[id] = spacing_um * static_cast<double>(y);
        net.z[id] = spacing_um * static_cast<double>(z);
        const auto link = [&](std::size_t step) {
          net.edge_i.push_back(id);
          net.edge_j.push_back(static_cast<std::uint32_t>(id + step));
        };
        if (x + 1 < nx) link(1);
        if (y + 1 < ny) link(nx);
        if (z + 1 < nz) link(nx * ny);
      }
  net.edge_w.assign(net.edge_i.size(), 1.0);
  return net;
}

}  // namespace isletsim
