#pragma once
// Cha et al. 2011 mouse beta-cell model (Cha-Noma): tables and kernel
// (docs/models/cha2011.md).
#include "isletsim/model.hpp"
#include "model/model_abi.hpp"

namespace isletsim::cha2011 {

#define X(name, ...) name,
enum State : int {
#include "model/cha2011/states.inc"
  kNumStates
};
enum Param : int {
#include "model/cha2011/params.inc"
  kNumParams
};
#undef X

const ModelInfo& model();

// The stage functions of the kernel body for an instruction set (kernel.cpp).
model_abi::StageTable stage_table(model_abi::Isa isa);

// Constants of the model (not parameters): Faraday's constant as F' =
// F 1e-3 in pA ms/(mM fL), and the gas constant (NEURON 8.2's values, 2019 SI).
constexpr double kFaraday = 96485.33212331001 * 1e-3;
constexpr double kGasR = 8.31446261815324;

}  // namespace isletsim::cha2011
