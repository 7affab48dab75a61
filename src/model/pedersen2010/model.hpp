#pragma once
// Pedersen (2010) human beta-cell model: 8 states, currents as densities
// (S/cm2, mA/cm2, uF/cm2), no intracellular calcium and no metabolism; the
// K_ATP conductance gKATP stands in for the glucose level.
// docs/models/pedersen2010.md describes it.
#include "isletsim/model.hpp"

namespace isletsim::pedersen2010 {

// The tables in one list each (name, unit, value, domain, meaning), so the enums and
// the tables of model.cpp cannot disagree in order.
// clang-format off
#define ISLET_PEDERSEN2010_STATES(X)                                                                                   \
  X(V, "mV", -65.0, any, "membrane potential")                                                                         \
  X(h_Na, "1", 0.9788208895449324, probability, "Na+ channel inactivation")                                            \
  X(h_CaL, "1", 0.9971011909789372, probability, "L-type Ca2+ channel inactivation (voltage and current dependent)")   \
  X(h_CaT, "1", 0.5312093733737563, probability, "T-type Ca2+ channel inactivation")                                   \
  X(m_Kv, "1", 0.00024845508183933427, probability, "delayed-rectifier K+ channel activation")                         \
  X(m_BK, "1", 0.0015011822567369917, probability, "BK channel activation")                                            \
  X(m_HERG, "1", 0.02931223075135632, probability, "hERG K+ channel activation")                                       \
  X(h_HERG, "1", 0.7882294272714777, probability, "hERG K+ channel inactivation")

#define ISLET_PEDERSEN2010_PARAMS(X)                                                                                   \
  X(cm, "uF/cm2", 1.0, positive, "membrane capacitance per area")                                                      \
  X(gNa, "S/cm2", 0.4e-3, nonnegative, "Na+ conductance")                                                              \
  X(gCaL, "S/cm2", 0.14e-3, nonnegative, "L-type Ca2+ conductance")                                                    \
  X(gCaT, "S/cm2", 0.05e-3, nonnegative, "T-type Ca2+ conductance")                                                    \
  X(gCaPQ, "S/cm2", 0.17e-3, nonnegative, "P/Q-type Ca2+ conductance")                                                 \
  X(gKv, "S/cm2", 1.0e-3, nonnegative, "delayed-rectifier K+ conductance")                                             \
  X(gBK, "S/cm2 per mA/cm2", 20e-3, nonnegative, "BK conductance, multiplied by the current bbk - I_Ca")               \
  X(gHERG, "S/cm2", 0.2e-3, nonnegative, "hERG K+ conductance")                                                        \
  X(gKATP, "S/cm2", 0.015e-3, nonnegative, "K_ATP conductance (constant; stands in for the glucose level)")            \
  X(gleak, "S/cm2", 0.015e-3, nonnegative, "leak conductance")                                                         \
  X(Eleak, "mV", -30.0, any, "leak reversal potential")                                                                \
  X(ENa, "mV", 70.0, any, "Na+ reversal potential")                                                                    \
  X(EK, "mV", -75.0, any, "K+ reversal potential")                                                                     \
  X(ECa, "mV", 65.0, any, "Ca2+ reversal potential")                                                                   \
  X(bbk, "mA/cm2", 0.02, any, "BK offset current (B_BK)")                                                              \
  X(Vm_Na, "mV", -18.0, any, "Na+ activation: half-activation voltage")                                                \
  X(km_Na, "mV", -5.0, nonzero, "Na+ activation: slope (negative: increasing)")                                        \
  X(Vh_Na, "mV", -42.0, any, "Na+ inactivation: half voltage")                                                         \
  X(kh_Na, "mV", 6.0, nonzero, "Na+ inactivation: slope")                                                              \
  X(tauh_Na, "ms", 2.0, positive, "Na+ inactivation time constant")                                                    \
  X(Vm_CaL, "mV", -25.0, any, "L-type activation: half-activation voltage")                                            \
  X(km_CaL, "mV", -6.0, nonzero, "L-type activation: slope")                                                           \
  X(Phi_CaL, "mV", 57.0, nonzero, "L-type current-dependent inactivation scale (Phi)")                                 \
  X(tauh_CaL, "ms", 20.0, positive, "L-type inactivation time constant")                                               \
  X(Vm_CaT, "mV", -40.0, any, "T-type activation: half-activation voltage")                                            \
  X(km_CaT, "mV", -4.0, nonzero, "T-type activation: slope")                                                           \
  X(Vh_CaT, "mV", -64.0, any, "T-type inactivation: half voltage")                                                     \
  X(kh_CaT, "mV", 8.0, nonzero, "T-type inactivation: slope")                                                          \
  X(tauh_CaT, "ms", 7.0, positive, "T-type inactivation time constant")                                                \
  X(Vm_CaPQ, "mV", -10.0, any, "P/Q-type activation (instantaneous): half-activation voltage")                         \
  X(km_CaPQ, "mV", -10.0, nonzero, "P/Q-type activation: slope")                                                       \
  X(Vm_Kv, "mV", 18.0, any, "delayed rectifier activation: half-activation voltage")                                   \
  X(km_Kv, "mV", -10.0, nonzero, "delayed rectifier activation: slope")                                                \
  X(tau0_Kv, "ms", 2.0, positive, "delayed rectifier activation: base time constant")                                  \
  X(Vm_BK, "mV", 0.0, any, "BK activation: half-activation voltage")                                                   \
  X(km_BK, "mV", -10.0, nonzero, "BK activation: slope")                                                               \
  X(taum_BK, "ms", 2.0, positive, "BK activation time constant")                                                       \
  X(Vm_HERG, "mV", -30.0, any, "hERG activation: half-activation voltage")                                             \
  X(km_HERG, "mV", -10.0, nonzero, "hERG activation: slope")                                                           \
  X(taum_HERG, "ms", 100.0, positive, "hERG activation time constant")                                                 \
  X(Vh_HERG, "mV", -42.0, any, "hERG inactivation: half voltage")                                                      \
  X(kh_HERG, "mV", 17.5, nonzero, "hERG inactivation: slope")                                                          \
  X(tauh_HERG, "ms", 50.0, positive, "hERG inactivation time constant")                                                \
  X(area_cm2, "cm2", 1.2566370614359173e-5, positive, "membrane area (soma 20 um x 20 um): gap currents to densities")
// clang-format on

#define ISLET_PEDERSEN2010_ENUM(name, ...) name,
enum State : int { ISLET_PEDERSEN2010_STATES(ISLET_PEDERSEN2010_ENUM) kNumStates };
enum Param : int { ISLET_PEDERSEN2010_PARAMS(ISLET_PEDERSEN2010_ENUM) kNumParams };
#undef ISLET_PEDERSEN2010_ENUM

const ModelInfo& model();

}  // namespace isletsim::pedersen2010
