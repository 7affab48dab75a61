#pragma once
// `islet network` (src/cli/network_cmd.cpp): the network a run config builds,
// summarised or written out as cells.csv + edges.csv.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace isletsim::cli {

struct NetworkArgs {
  std::string config;                // TOML run config ("" = the built-in default)
  std::vector<std::string> sets;     // --set key=value
  std::vector<std::string> export_;  // cells.csv edges.csv (empty: summary only)
  bool quiet = false;
};

// Registers the subcommand on `app`; its options fill `a`.
CLI::App* add_network_command(CLI::App& app, NetworkArgs& a);
int cmd_network(const NetworkArgs& a);

}  // namespace isletsim::cli
