// The network CSV reader (load_network_csv): cells.csv, a line "%%", then
// edges.csv. Extra cells.csv columns may be Bertram 2007 parameters. A
// network it accepts must pass validate_network (the rules of in-memory
// networks are the same).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "isletsim/error.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> params = isletsim::param_names(isletsim::find_model("bertram2007"));
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parts = fuzz::split_parts(input, 2);
  const std::string cells = fuzz::write_file("cells.csv", parts[0]);
  const std::string edges = fuzz::write_file("edges.csv", parts.size() > 1 ? parts[1] : std::string_view());
  isletsim::Network net;
  try {
    net = isletsim::load_network_csv(cells, edges, params);
  } catch (const isletsim::InputError&) {
    return 0;
  }
  try {
    isletsim::validate_network(net, "loaded network");
  } catch (const isletsim::InputError& e) {
    std::fprintf(stderr, "load_network_csv accepted a network validate_network refuses: %s\n", e.what());
    std::abort();
  }
  return 0;
}
