#include "isletsim/model.hpp"

#include <cmath>

#include "model/fastmath.hpp"

namespace isletsim {

namespace {
#define X(name, unit, value, doc) ParamInfo{#name, unit, value, doc},
constexpr ParamInfo kParams[] = {
#include "bertram2007_table.inc"
};
#undef X
#define X(name, unit, value, doc) StateInfo{#name, unit, value, doc},
constexpr StateInfo kStates[] = {
#include "bertram2007_states.inc"
};
#undef X
static_assert(std::size(kParams) == bertram::kNumParams);
static_assert(std::size(kStates) == bertram::kNumStates);
}  // namespace

std::span<const ParamInfo> model_params() { return kParams; }
std::span<const StateInfo> model_states() { return kStates; }

std::vector<std::string> model_param_names() {
  std::vector<std::string> v;
  for (const auto& p : kParams) v.emplace_back(p.name);
  return v;
}
std::vector<std::string> model_state_names() {
  std::vector<std::string> v;
  for (const auto& s : kStates) v.emplace_back(s.name);
  return v;
}
std::optional<int> find_param(const std::string& name) {
  for (int i = 0; i < bertram::kNumParams; ++i)
    if (name == kParams[i].name) return i;
  return std::nullopt;
}
std::optional<int> find_state(const std::string& name) {
  for (int i = 0; i < bertram::kNumStates; ++i)
    if (name == kStates[i].name) return i;
  return std::nullopt;
}

double glucokinase_factor(double G_mM) {
  constexpr double h = 1.7, K = 8.0, Gref = 11.1;
  if (!(G_mM > 0.0)) return 0.0;
  // x^h as exp(h log x) with our own functions: the same bits on every system.
  const auto pw = [](double x) { return fastmath::exp(h * fastmath::log(x)); };
  const double Kh = pw(K), Gh = pw(G_mM), Grefh = pw(Gref);
  return (Gh / (Kh + Gh)) / (Grefh / (Kh + Grefh));
}

}  // namespace isletsim
