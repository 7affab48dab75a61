#pragma once
// Bertram et al. 2007: the integrated oscillator model (docs/models/bertram2007.md).
#include "isletsim/model.hpp"

namespace isletsim::bertram2007 {

#define X(name, ...) name,
enum Param : int {
#include "model/bertram2007/params.inc"
  kNumParams
};
enum State : int {
#include "model/bertram2007/states.inc"
  kNumStates
};
#undef X

const ModelInfo& model();

// Glucokinase dose-response: the factor JGK(G)/JGK(11.1 mM), G^h/(K^h + G^h)
// normalised to 1 at 11.1 mM, h = 1.7, K = 8 mM (the model's stimulus).
double glucokinase_factor(double G_mM);

}  // namespace isletsim::bertram2007
