// `islet network [config.toml] [--set k=v ...] [--export cells.csv edges.csv]`:
// builds the network the config's [network] section describes (sphere,
// lattice or csv; the same network `islet run` would use) and prints a
// summary, or writes it in the CSV format [network] kind = "csv" reads.
// Exported weights are the network's own (the `weight` column), before the
// per-cell conductance factors of coupling.weights = "per_cell".
#include "cli/network_cmd.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/output_file.hpp"
#include "isletsim/config.hpp"
#include "isletsim/error.hpp"
#include "isletsim/network.hpp"
#include "isletsim/simulation.hpp"

namespace isletsim::cli {

namespace {

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

std::string resolve(const RunConfig& c, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute() || c.base_dir.empty()) return p;
  return (std::filesystem::path(c.base_dir) / p).string();
}

}  // namespace

CLI::App* add_network_command(CLI::App& app, NetworkArgs& a) {
  auto* cmd = app.add_subcommand(
      "network", "the network a run config builds: a summary, or --export cells.csv edges.csv (README.md)");
  cmd->add_option("config", a.config, "TOML run configuration (default: the built-in default run)");
  cmd->add_option("--set", a.sets, "override a config value, e.g. --set network.n_cells=200 (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--export", a.export_,
                  "write the network as CELLS EDGES (CSV files for [network] kind = \"csv\"; the network's own "
                  "weights, before per-cell conductance factors)")
      ->expected(2);
  cmd->add_flag("-q,--quiet", a.quiet, "no summary");
  return cmd;
}

int cmd_network(const NetworkArgs& a) {
  if (a.config.size() > 3 && a.config.compare(a.config.size() - 3, 3, ".h5") == 0)
    throw InputError("islet network: '" + a.config +
                     "': expected a TOML run config (a run's file holds its network "
                     "in /cells/position, /network/edges and /network/weight)");
  RunConfig cfg = a.config.empty() ? parse_config("", "<built-in default>", a.sets) : load_config(a.config, a.sets);
  // Never overwrite an input: the config itself, or the CSV files it reads.
  if (!a.export_.empty()) {
    std::vector<std::pair<std::string, std::string>> inputs;
    if (!a.config.empty()) inputs.emplace_back(a.config, "the config file");
    if (cfg.network == NetworkKind::csv) {
      inputs.emplace_back(resolve(cfg, cfg.cells_csv), "the config's network.cells");
      inputs.emplace_back(resolve(cfg, cfg.edges_csv), "the config's network.edges");
    }
    for (const std::string& out : a.export_)
      for (const auto& [in, what] : inputs)
        if (same_file(out, in))
          throw InputError(
              fmt::format("islet network --export: '{}' is {}; refusing to overwrite an input", out, what));
    // Both targets checked before anything is written: a directory, a FIFO
    // or a device is never replaced, and a failure leaves neither file.
    for (const std::string& out : a.export_) check_output_file(out, "islet network --export");
  }
  // The network build_setup starts from: with weights = "network" the edge
  // weights stay the network's own (no per-cell conductance factors).
  cfg.weights = WeightMode::network;
  const RunSetup s = build_setup(cfg);
  const Network& net = s.network;

  // A write error (full disk, file-size limit) leaves neither file and exits 1
  // with the reason (save_network_csv).
  if (!a.export_.empty()) save_network_csv(net, a.export_[0], a.export_[1]);
  if (a.quiet) return 0;
  std::vector<std::size_t> degree(net.n_cells(), 0);
  for (std::size_t e = 0; e < net.n_edges(); ++e) ++degree[net.edge_i[e]], ++degree[net.edge_j[e]];
  const auto [dmin, dmax] = std::minmax_element(degree.begin(), degree.end());
  const auto [wmin, wmax] = std::minmax_element(net.edge_w.begin(), net.edge_w.end());
  const auto isolated = std::count(degree.begin(), degree.end(), std::size_t{0});
  std::string columns;
  for (const auto& [name, v] : net.cell_params) columns += (columns.empty() ? "" : ",") + name;
  fmt::print(
      "islet network: {} ({}): {} cells, {} edges, mean degree {:.2f} (min {}, max {}), {} isolated; "
      "weights {}; per-cell columns: {}{}\n",
      to_string(cfg.network), a.config.empty() ? std::string("built-in default") : a.config, net.n_cells(),
      net.n_edges(), net.mean_degree(), *dmin, *dmax, isolated,
      net.n_edges() ? fmt::format("{:g}..{:g}", *wmin, *wmax) : std::string("none"), columns.empty() ? "none" : columns,
      a.export_.empty() ? std::string() : fmt::format(" -> {}, {}", a.export_[0], a.export_[1]));
  return 0;
}

}  // namespace isletsim::cli
