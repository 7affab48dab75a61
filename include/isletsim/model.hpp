#pragma once
// Cell models: their tables (states, parameters, coupled variables,
// stimulus) and the registry of models (docs/models/).
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "isletsim/integrator.hpp"

namespace isletsim {

// The values a parameter or state variable may take (besides being finite).
// Each model's tables give one for every entry; a run's values (global,
// per cell, after heterogeneity, initial states) are checked against it
// before the run starts (check_domain).
enum class Domain {
  any,          // any finite number (potentials, offsets)
  nonzero,      // != 0 (slopes that divide: Boltzmann k of either sign)
  nonnegative,  // >= 0 (conductances, rates, permeabilities, concentrations)
  positive,     // > 0 (capacitances, time constants, volumes, constants that divide or enter a log)
  fraction,     // in (0, 1] (free fractions of a total)
  probability,  // in [0, 1] (gating variables, state occupancies)
};

// "a number > 0", "a number in [0, 1]", ...: what `d` expects, for messages.
const char* describe(Domain d);
// ">= 0", "(0, 1]", "any", ...: short form, for tables.
const char* short_name(Domain d);
bool in_domain(Domain d, double v);

struct ParamInfo {
  const char* name;
  const char* unit;
  double default_value;
  const char* description;
  Domain domain = Domain::any;
};

struct StateInfo {
  const char* name;
  const char* unit;
  double initial;
  const char* description;
  Domain domain = Domain::any;  // of initial values ([initial])
};

// InputError "<where>: cell <i>: <name> = <v> is not allowed: expected <domain>
// (<description>, <unit>)" for the first value outside the parameter's (or
// state's) domain. `values`: one per cell (cell i = index i) when per_cell,
// else one value for every cell (the message names no cell).
void check_domain(const ParamInfo& p, std::span<const double> values, const std::string& where, bool per_cell = true);
void check_domain(const StateInfo& s, std::span<const double> values, const std::string& where, bool per_cell = true);

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

// A default heterogeneity of a model: parameter `param` varies from cell to
// cell by a factor of mean 1 and coefficient of variation cv.
struct HeterogeneityInfo {
  const char* param;
  double cv;
  const char* dist;  // "normal", "lognormal" or "gamma"
};

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
  // The kernel's `stim` when the run has no glucose protocol (glucose.mode =
  // "fixed_jgk"); NaN: this model needs a glucose protocol.
  double stimulus_without_glucose = NAN;
  // The heterogeneity a run has unless its config says otherwise.
  std::span<const HeterogeneityInfo> default_heterogeneity = {};
  // Per state (table order): the size below which an adaptive integrator
  // measures the state's error absolutely (its error weight is
  // tolerance x (error_scale + |value|)). Empty: 1% of |initial value|, at
  // least 1e-6.
  std::span<const double> error_scale = {};
  // The integrator a run of this model uses unless sim.integrator says
  // otherwise (dopri5 where it is validated against the model's reference).
  Integrator default_integrator = Integrator::rk4;
};

// ---------------------------------------------------------------- the registry

// Every model, in registry order (src/model/registry.cpp); the first is the default.
std::span<const ModelInfo* const> models();
// Adds a model at run time (a plug-in built outside src/model/, e.g. a test's
// toy model); InputError when its name is taken or its tables are
// inconsistent (names, sizes, coupled states that do not exist).
void register_model(const ModelInfo& m);
const ModelInfo& default_model();  // Bertram 2007
// The model named `name`; InputError naming the closest name and listing them all.
const ModelInfo& find_model(const std::string& name);
// Models other than `m` that have a parameter (or state, or coupling key) of this name.
std::vector<std::string> models_with_param(const std::string& name);
std::vector<std::string> models_with_coupling_key(const std::string& name);

std::optional<int> find_param(const ModelInfo& m, const std::string& name);
std::optional<int> find_state(const ModelInfo& m, const std::string& name);
std::optional<int> find_coupled(const ModelInfo& m, const std::string& key);
std::vector<std::string> param_names(const ModelInfo& m);
std::vector<std::string> state_names(const ModelInfo& m);
std::vector<std::string> coupled_keys(const ModelInfo& m);

// The default model's tables (kept for callers that only know Bertram 2007).
std::span<const ParamInfo> model_params();
std::span<const StateInfo> model_states();
std::vector<std::string> model_param_names();
std::vector<std::string> model_state_names();
std::optional<int> find_param(const std::string& name);
std::optional<int> find_state(const std::string& name);

// Bertram 2007's glucokinase dose-response (its stimulus): the factor
// JGK(G)/JGK(11.1 mM), G^h/(K^h + G^h) normalised to 1 at 11.1 mM, h = 1.7,
// K = 8 mM.
double glucokinase_factor(double G_mM);

}  // namespace isletsim
