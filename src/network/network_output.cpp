// Writes a network as cells.csv + edges.csv, in the format load_network_csv
// reads (and [network] kind = "csv" uses): the numbers in their shortest
// decimal form that reads back to the same double, so a network survives the
// round trip bit for bit.
#include <charconv>
#include <stdexcept>
#include <string>

#include "isletsim/error.hpp"
#include "isletsim/network.hpp"

#include "io/write_atomically.hpp"

namespace isletsim {

namespace {

void put_number(std::string& out, double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace

void save_network_csv(const Network& net, const std::string& cells_csv, const std::string& edges_csv) {
  if (cells_csv.empty() || edges_csv.empty()) throw InputError("network export: two file names are needed");
  if (io::same_file(cells_csv, edges_csv))
    throw InputError("network export: the cells and edges files are the same file ('" + cells_csv + "')");
  validate_network(net, "network export");
  for (const auto& [name, values] : net.cell_params)
    if (values.size() != net.n_cells())
      throw InputError("network export: column '" + name + "' has " + std::to_string(values.size()) + " values for " +
                       std::to_string(net.n_cells()) + " cells");

  std::string cells = "id,x,y,z";
  for (const auto& [name, values] : net.cell_params) cells += "," + name;
  cells += '\n';
  for (std::size_t i = 0; i < net.n_cells(); ++i) {
    cells += std::to_string(i);
    for (const double v : {net.x[i], net.y[i], net.z[i]}) cells += ',', put_number(cells, v);
    for (const auto& [name, values] : net.cell_params) cells += ',', put_number(cells, values[i]);
    cells += '\n';
  }
  std::string edges = "i,j,weight\n";
  for (std::size_t e = 0; e < net.n_edges(); ++e) {
    edges += std::to_string(net.edge_i[e]) + ',' + std::to_string(net.edge_j[e]) + ',';
    put_number(edges, net.edge_w[e]);
    edges += '\n';
  }

  // Both files or neither: a failure leaves neither half-written, and what was there untouched.
  io::write_atomically({{cells_csv, [&](const std::string& tmp) { io::write_text(tmp, cells_csv, cells); }},
                        {edges_csv, [&](const std::string& tmp) { io::write_text(tmp, edges_csv, edges); }}});
}

}  // namespace isletsim
