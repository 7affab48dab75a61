// Parameter and state domains (model.hpp: Domain) and the check of a run's
// values against them (domains.hpp).
#include "isletsim/domains.hpp"

#include <cmath>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "isletsim/error.hpp"
#include "isletsim/model.hpp"

namespace isletsim {

const char* describe(Domain d) {
  switch (d) {
    case Domain::nonzero: return "a number other than 0";
    case Domain::nonnegative: return "a number >= 0";
    case Domain::positive: return "a number > 0";
    case Domain::fraction: return "a fraction in (0, 1]";
    case Domain::probability: return "a number in [0, 1]";
    default: return "a finite number";
  }
}

const char* short_name(Domain d) {
  switch (d) {
    case Domain::nonzero: return "!= 0";
    case Domain::nonnegative: return ">= 0";
    case Domain::positive: return "> 0";
    case Domain::fraction: return "(0, 1]";
    case Domain::probability: return "[0, 1]";
    default: return "any";
  }
}

bool in_domain(Domain d, double v) {
  if (!std::isfinite(v)) return false;
  switch (d) {
    case Domain::nonzero: return v != 0;
    case Domain::nonnegative: return v >= 0;
    case Domain::positive: return v > 0;
    case Domain::fraction: return v > 0 && v <= 1;
    case Domain::probability: return v >= 0 && v <= 1;
    default: return true;
  }
}

namespace {
template <class Info>
void check_values(const Info& x, Domain d, std::span<const double> values, const std::string& where, bool per_cell) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (in_domain(d, values[i])) continue;
    throw InputError(fmt::format("{}: {}{} = {} is not allowed: expected {} ({}, {})", where,
                                 per_cell ? fmt::format("cell {}: ", i) : std::string(), x.name, values[i],
                                 describe(d), x.description, x.unit));
  }
}
}  // namespace

void check_domain(const ParamInfo& p, std::span<const double> values, const std::string& where, bool per_cell) {
  check_values(p, p.domain, values, where, per_cell);
}
void check_domain(const StateInfo& s, std::span<const double> values, const std::string& where, bool per_cell) {
  check_values(s, s.domain, values, where, per_cell);
}

void check_param_domains(const EngineProblem& p, const RunConfig& cfg, const Network& net, bool given_network) {
  const ModelInfo& m = p.the_model();
  if (p.params.size() != m.params.size() || p.initial.size() != m.states.size()) return;  // check_problem says
  const auto has = [](const auto& list, const std::string& name) {
    for (const auto& [n, v] : list)
      if (n == name) return true;
    return false;
  };
  std::string cells_file = cfg.cells_csv;
  if (!cells_file.empty() && !std::filesystem::path(cells_file).is_absolute() && !cfg.base_dir.empty())
    cells_file = (std::filesystem::path(cfg.base_dir) / cells_file).string();
  for (std::size_t k = 0; k < m.params.size(); ++k) {
    const ParamInfo& info = m.params[k];
    const Column& col = p.params[k];
    const std::string name = info.name;
    // Where this parameter's values come from, most specific first.
    std::string where;
    const bool column = has(net.cell_params, name);
    if (column)
      where = given_network ? fmt::format("network: per-cell parameter '{}'", name)
                            : fmt::format("{}: column '{}'", cells_file.empty() ? "cells file" : cells_file, name);
    else if (has(cfg.params, name))
      where = "params." + name;
    else
      where = fmt::format("model {}: default of {}", m.name, name);
    for (const auto& [h, d] : cfg.heterogeneity)
      if (h == name && d.cv > 0) where += fmt::format(" times its heterogeneity factor (heterogeneity.{})", name);
    if (col.per_cell())
      check_domain(info, col.values, where, true);
    else
      check_domain(info, std::span<const double>(&col.uniform, 1), where, false);
  }
  for (std::size_t k = 0; k < m.states.size(); ++k) {
    const StateInfo& info = m.states[k];
    const Column& col = p.initial[k];
    const std::string where = has(cfg.initial, info.name) ? std::string("initial.") + info.name
                                                          : fmt::format("model {}: initial {}", m.name, info.name);
    if (col.per_cell())
      check_domain(info, col.values, where, true);
    else
      check_domain(info, std::span<const double>(&col.uniform, 1), where, false);
  }
}

}  // namespace isletsim
