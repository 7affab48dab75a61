// Sweep warnings: swept keys that cannot change some tasks' results (printed
// once per key when a sweep starts; nothing is refused).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::sweep {
namespace {

std::string q(const char* s) { return std::string("\"") + s + "\""; }

// Why `key` cannot change the results of a task with config c ("" when it can).
std::string inert_reason(const SweepSpec& spec, const std::string& key, const RunConfig& c) {
  const std::string sec = key.substr(0, key.find('.'));
  const std::string mode = "glucose.mode = " + q(to_string(c.glucose_mode));
  if (sec == "record") return "record.* keys change only what is written to the task files, not the simulated run";
  if (sec == "summary") return "summary.* keys change only the window of the summary metrics, not the simulated run";
  if (sec == "network" && spec.network) return "the tasks run on the network given, not on [network]";
  if (key == "glucose.level") {
    if (c.glucose_mode == GlucoseMode::fixed_jgk || c.glucose_mode == GlucoseMode::protocol)
      return mode + " does not use it";
    if (c.glucose_mode == GlucoseMode::step && c.t_step_s >= c.duration_s)
      return fmt::format(
          "the glucose step (glucose.t_step_s = {} s) is not before the end of the run "
          "(sim.duration_s = {} s)",
          c.t_step_s, c.duration_s);
  }
  if (key == "glucose.basal" && (c.glucose_mode == GlucoseMode::fixed_jgk || c.glucose_mode == GlucoseMode::constant))
    return mode + " does not use it";
  if (key == "glucose.t_step_s" || key == "glucose.tau_s") {
    if (c.glucose_mode != GlucoseMode::step) return mode + " does not use it (only \"step\" does)";
    if (c.t_step_s >= c.duration_s)
      return fmt::format(
          "the glucose step (glucose.t_step_s = {} s) is not before the end of the run "
          "(sim.duration_s = {} s)",
          c.t_step_s, c.duration_s);
  }
  if (key == "glucose.events" && c.glucose_mode != GlucoseMode::protocol)
    return mode + " does not use it (only \"protocol\" does)";
  if (sec == "heterogeneity" && key.size() > 5 && key.compare(key.size() - 5, 5, ".dist") == 0) {
    const std::string name = key.substr(14, key.size() - 14 - 5);
    double cv = 0;
    for (const auto& [n, d] : c.heterogeneity)
      if (n == name) cv = d.cv;
    if (cv == 0)
      return fmt::format("heterogeneity.{}.cv is 0: every cell gets factor 1 whatever the distribution", name);
  }
  if (key == "sim.seed") {
    bool random = !spec.network && c.network == NetworkKind::sphere;  // the packing
    random |= c.weights == WeightMode::per_cell && c.cell_conductance.cv > 0;
    for (const auto& [n, d] : c.heterogeneity) random |= d.cv > 0;
    if (!random)
      return "nothing in the run is random (no sphere packing, no per-cell conductance or heterogeneity with cv > 0)";
  }
  return "";
}

}  // namespace

std::vector<std::string> sweep_warnings(const SweepSpec& spec) {
  std::vector<std::string> out;
  const std::size_t n = spec.size();
  std::vector<RunConfig> cfgs;
  cfgs.reserve(n);
  try {
    for (std::size_t i = 0; i < n; ++i) cfgs.push_back(task_config(spec, i));
  } catch (const InputError&) {
    return out;  // a task that cannot be read fails on its own
  }
  for (const std::string& key : spec.keys) {
    std::size_t count = 0;
    std::string first;
    for (std::size_t i = 0; i < n; ++i) {
      std::string why = inert_reason(spec, key, cfgs[i]);
      if (why.empty()) continue;
      if (!count++) first = std::move(why);
    }
    if (count)
      out.push_back(fmt::format(
          "{} cannot change the results of {}: {}", key,
          count == n ? fmt::format("any of the {} task(s)", n) : fmt::format("{} of {} tasks", count, n), first));
  }
  // Tasks whose resolved configs are identical (record.file aside): the
  // same task hash, bit-identical results. Reported once per key whose
  // values differ between such tasks, else once for all.
  std::map<std::string, std::size_t> seen;
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_key;  // key -> first pair
  std::size_t repeats = 0;  // tasks with the very same swept values as an earlier one
  std::pair<std::size_t, std::size_t> first_same{0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    RunConfig c = cfgs[i];
    c.output.clear();
    const auto [it, fresh] = seen.emplace(to_toml(c), i);
    if (fresh) continue;
    const std::size_t j = it->second;
    bool differs = false;
    for (std::size_t k = 0; k < spec.keys.size(); ++k)
      if (spec.points[i][k].toml != spec.points[j][k].toml) {
        differs = true;
        by_key.emplace(spec.keys[k], std::make_pair(j, i));
      }
    if (!differs && !repeats++) first_same = {j, i};
  }
  for (const std::string& key : spec.keys) {
    const auto it = by_key.find(key);
    if (it == by_key.end()) continue;
    const auto [a, b] = it->second;
    const std::size_t k = static_cast<std::size_t>(std::find(spec.keys.begin(), spec.keys.end(), key) -
                                                   spec.keys.begin());
    out.push_back(
        fmt::format("{}: tasks {} and {} ({} = {} and {}) resolve to identical configs (the same task hash): "
                    "their results are bit-identical",
                    key, a, b, key, spec.points[a][k].display, spec.points[b][k].display));
  }
  if (repeats)
    out.push_back(
        fmt::format("{} task(s) repeat another task's swept values (e.g. tasks {} and {}: {}): their results "
                    "are bit-identical",
                    repeats, first_same.first, first_same.second, describe_point(spec, first_same.first)));
  return out;
}

}  // namespace isletsim::sweep
