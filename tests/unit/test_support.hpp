#pragma once
// Helpers shared by the unit tests.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "isletsim/engine.hpp"

namespace isletsim::test {

// A problem with the spec's defaults for n uncoupled cells (no edges).
inline EngineProblem default_problem(std::size_t n, Integrator integ, double dt_ms, double duration_ms) {
  EngineProblem p = EngineProblem::defaults(default_model());
  p.n_cells = n;
  p.graph.row_ptr.assign(n + 1, 0);
  p.glucose.fixed_jgk = true;
  p.integrator = integ;
  p.dt_ms = dt_ms;
  p.n_steps = static_cast<std::uint64_t>(duration_ms / dt_ms + 0.5);
  return p;
}

// Reads a CSV of numbers with one header line: columns[k][row].
// Opens a shared reference file or throws (the test then fails saying why).
inline std::ifstream open_reference(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot open reference file '" + path +
                             "' (the tests expect shared/ beside the repository; set -DISLET_SHARED_DIR=...)");
  return in;
}

inline std::vector<std::vector<double>> read_csv_columns(const std::string& path, std::vector<std::string>* header) {
  std::ifstream in = open_reference(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> cols;
  {
    std::stringstream ss(line);
    std::string name;
    while (std::getline(ss, name, ',')) {
      if (header) header->push_back(name);
      cols.emplace_back();
    }
  }
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f;
    for (auto& c : cols) {
      std::getline(ss, f, ',');
      c.push_back(std::stod(f));
    }
  }
  return cols;
}

// Reads a named array of numbers from the reference events JSON (flat format).
inline std::vector<double> json_array(const std::string& path, const std::string& key) {
  std::ifstream in = open_reference(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  const auto k = s.find("\"" + key + "\"");
  std::vector<double> out;
  if (k == std::string::npos) return out;
  auto i = s.find('[', k);
  const auto e = s.find(']', i);
  std::stringstream body(s.substr(i + 1, e - i - 1));
  std::string f;
  while (std::getline(body, f, ','))
    if (f.find_first_of("0123456789") != std::string::npos) out.push_back(std::stod(f));
  return out;
}

}  // namespace isletsim::test
