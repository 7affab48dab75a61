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

// How the engine couples a state variable between neighbouring cells i, j
// (weights w_ij of the network, coefficient g from [coupling]):
//   current:   the term g sum_j w_ij (x_i - x_j) (e.g. a gap-junction current:
//              conductance x voltage), which the model's kernel enters into
//              its own current balance;
//   diffusion: the term g factor sum_j w_ij (x_j - x_i) (a flux in the
//              state's units per ms), which the kernel adds to dx/dt.
enum class CouplingForm { current, diffusion };

struct CoupledVarInfo {
  const char* state;        // the coupled state variable
  const char* key;          // its coefficient's config key, [coupling] <key>
  const char* unit;         // the coefficient's unit
  double factor;            // diffusion: multiplies (x_j - x_i); current: 1
  CouplingForm form;
  double default_value;     // the coefficient when the config gives none
  const char* description;
};

namespace model_abi {
struct Kernel;
}

// A cell model: everything the engine, the config, the files and the Python
// module need to know about it (docs/models/adding.md). One per folder
// src/model/<name>/, listed in src/model/registry.cpp.
struct ModelInfo {
  const char* name;        // [model] name = "cha2011"
  const char* title;       // "Cha et al. 2011: mouse beta cell (Cha-Noma)"
  const char* citation;    // the reference, in words
  const char* doi;         // "10.xxxx/..."
  std::span<const StateInfo> states;
  std::span<const ParamInfo> params;
  std::span<const CoupledVarInfo> coupled;
  const char* spike_state;  // the state whose upward crossings of spike_threshold are spikes ("V")
  double spike_threshold;
  const char* calcium;      // the cytosolic calcium state ("c"), or "" when the model has none
  const char* stimulus;     // how glucose reaches the model, in words
  double (*stimulus_of_glucose)(double G_mM);  // the kernel's `stim` for glucose G; nullptr: glucose unused
  double dt_ms_rk4, dt_ms_euler;               // default time steps
  const model_abi::Kernel* kernel;
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
