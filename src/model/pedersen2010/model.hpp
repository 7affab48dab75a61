#pragma once
// Pedersen (2010) human beta-cell model: 8 states, currents as densities
// (S/cm2, mA/cm2, uF/cm2), no intracellular calcium and no metabolism; the
// K_ATP conductance gKATP stands in for the glucose level.
// docs/models/pedersen2010.md describes it.
#include "isletsim/model.hpp"

namespace isletsim::pedersen2010 {

// The tables in one list each (name, unit, value, meaning), so the enums and
// the tables of model.cpp cannot disagree in order.
// clang-format off
#define ISLET_PEDERSEN2010_STATES(X)                                                          \
  X(V, "mV", -65.0, "membrane potential")                                                     \
  X(h_Na, "1", 0.9788208895449324, "Na+ channel inactivation")                                \
  X(h_CaL, "1", 0.9971011909789372, "L-type Ca2+ channel inactivation (voltage and current dependent)") \
  X(h_CaT, "1", 0.5312093733737563, "T-type Ca2+ channel inactivation")                       \
  X(m_Kv, "1", 0.00024845508183933427, "delayed-rectifier K+ channel activation")             \
  X(m_BK, "1", 0.0015011822567369917, "BK channel activation")                                \
  X(m_HERG, "1", 0.02931223075135632, "hERG K+ channel activation")                           \
  X(h_HERG, "1", 0.7882294272714777, "hERG K+ channel inactivation")

#define ISLET_PEDERSEN2010_PARAMS(X)                                                          \
  X(cm, "uF/cm2", 1.0, "membrane capacitance per area")                                       \
  X(gNa, "S/cm2", 0.4e-3, "Na+ conductance")                                                  \
  X(gCaL, "S/cm2", 0.14e-3, "L-type Ca2+ conductance")                                        \
  X(gCaT, "S/cm2", 0.05e-3, "T-type Ca2+ conductance")                                        \
  X(gCaPQ, "S/cm2", 0.17e-3, "P/Q-type Ca2+ conductance")                                     \
  X(gKv, "S/cm2", 1.0e-3, "delayed-rectifier K+ conductance")                                 \
  X(gBK, "S/cm2 per mA/cm2", 20e-3, "BK conductance, multiplied by the current bbk - I_Ca")   \
  X(gHERG, "S/cm2", 0.2e-3, "hERG K+ conductance")                                            \
  X(gKATP, "S/cm2", 0.015e-3, "K_ATP conductance (constant; stands in for the glucose level)") \
  X(gleak, "S/cm2", 0.015e-3, "leak conductance")                                             \
  X(Eleak, "mV", -30.0, "leak reversal potential")                                            \
  X(ENa, "mV", 70.0, "Na+ reversal potential")                                                \
  X(EK, "mV", -75.0, "K+ reversal potential")                                                 \
  X(ECa, "mV", 65.0, "Ca2+ reversal potential")                                               \
  X(bbk, "mA/cm2", 0.02, "BK offset current (B_BK)")                                          \
  X(Vm_Na, "mV", -18.0, "Na+ activation: half-activation voltage")                            \
  X(km_Na, "mV", -5.0, "Na+ activation: slope (negative: increasing)")                        \
  X(Vh_Na, "mV", -42.0, "Na+ inactivation: half voltage")                                     \
  X(kh_Na, "mV", 6.0, "Na+ inactivation: slope")                                              \
  X(tauh_Na, "ms", 2.0, "Na+ inactivation time constant")                                     \
  X(Vm_CaL, "mV", -25.0, "L-type activation: half-activation voltage")                        \
  X(km_CaL, "mV", -6.0, "L-type activation: slope")                                           \
  X(Phi_CaL, "mV", 57.0, "L-type current-dependent inactivation scale (Phi)")                 \
  X(tauh_CaL, "ms", 20.0, "L-type inactivation time constant")                                \
  X(Vm_CaT, "mV", -40.0, "T-type activation: half-activation voltage")                        \
  X(km_CaT, "mV", -4.0, "T-type activation: slope")                                           \
  X(Vh_CaT, "mV", -64.0, "T-type inactivation: half voltage")                                 \
  X(kh_CaT, "mV", 8.0, "T-type inactivation: slope")                                          \
  X(tauh_CaT, "ms", 7.0, "T-type inactivation time constant")                                 \
  X(Vm_CaPQ, "mV", -10.0, "P/Q-type activation (instantaneous): half-activation voltage")     \
  X(km_CaPQ, "mV", -10.0, "P/Q-type activation: slope")                                       \
  X(Vm_Kv, "mV", 18.0, "delayed rectifier activation: half-activation voltage")              \
  X(km_Kv, "mV", -10.0, "delayed rectifier activation: slope")                                \
  X(tau0_Kv, "ms", 2.0, "delayed rectifier activation: base time constant")                   \
  X(Vm_BK, "mV", 0.0, "BK activation: half-activation voltage")                               \
  X(km_BK, "mV", -10.0, "BK activation: slope")                                               \
  X(taum_BK, "ms", 2.0, "BK activation time constant")                                        \
  X(Vm_HERG, "mV", -30.0, "hERG activation: half-activation voltage")                         \
  X(km_HERG, "mV", -10.0, "hERG activation: slope")                                           \
  X(taum_HERG, "ms", 100.0, "hERG activation time constant")                                  \
  X(Vh_HERG, "mV", -42.0, "hERG inactivation: half voltage")                                  \
  X(kh_HERG, "mV", 17.5, "hERG inactivation: slope")                                          \
  X(tauh_HERG, "ms", 50.0, "hERG inactivation time constant")                                 \
  X(area_cm2, "cm2", 1.2566370614359173e-5, "membrane area (soma 20 um x 20 um): gap currents to densities")
// clang-format on

#define ISLET_PEDERSEN2010_ENUM(name, unit, value, doc) name,
enum State : int { ISLET_PEDERSEN2010_STATES(ISLET_PEDERSEN2010_ENUM) kNumStates };
enum Param : int { ISLET_PEDERSEN2010_PARAMS(ISLET_PEDERSEN2010_ENUM) kNumParams };
#undef ISLET_PEDERSEN2010_ENUM

const ModelInfo& model();

}  // namespace isletsim::pedersen2010
