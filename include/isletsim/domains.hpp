#pragma once
// The check of a run's parameter and initial values against the domains of
// its model's tables (model.hpp: Domain), with messages that say where each
// value came from (docs/config.md, "Ranges").
#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/network.hpp"

namespace isletsim {

// Checks every parameter and initial value of `p` (uniform and per cell,
// after heterogeneity) against its model's domains; InputError naming the
// source (the config key, the cells file and column, or the network's
// per-cell column when `given_network`: a network built in code), the cell,
// the value and what was expected. `net` is the run's network (its
// cell_params are the per-cell columns).
void check_param_domains(const EngineProblem& p, const RunConfig& cfg, const Network& net, bool given_network);

}  // namespace isletsim
