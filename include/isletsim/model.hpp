#pragma once
// The cell model (Bertram et al. 2007): parameter and state tables.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace isletsim {

struct ParamInfo {
  const char* name;
  const char* unit;
  double default_value;
  const char* description;
};

struct StateInfo {
  const char* name;
  const char* unit;
  double initial;
  const char* description;
};

namespace bertram {
#define X(name, unit, value, doc) name,
enum Param : int {
#include "../../src/model/bertram2007_table.inc"
  kNumParams
};
enum State : int {
#include "../../src/model/bertram2007_states.inc"
  kNumStates
};
#undef X
}  // namespace bertram

std::span<const ParamInfo> model_params();
std::span<const StateInfo> model_states();
std::vector<std::string> model_param_names();
std::vector<std::string> model_state_names();
std::optional<int> find_param(const std::string& name);
std::optional<int> find_state(const std::string& name);

// Glucokinase dose-response (spec, "Glucose"): the factor JGK(G)/JGK(11.1 mM),
// G^h/(K^h + G^h) normalised to 1 at 11.1 mM, h = 1.7, K = 8 mM.
double glucokinase_factor(double G_mM);

}  // namespace isletsim
