// Pedersen (2010) human beta cell: the tables the engine, the config and the
// files use, and the kernel object.
#include "model/pedersen2010/model.hpp"

#include <iterator>

#include "model/model_abi.hpp"
#include "model/pedersen2010/kernel.hpp"

namespace isletsim::pedersen2010 {

model_abi::StageTable stage_table(model_abi::Isa isa);  // kernel.cpp

namespace {
#define ISLET_PEDERSEN2010_STATE(name, unit, value, domain, doc) StateInfo{#name, unit, value, doc, Domain::domain},
constexpr StateInfo kStates[] = {ISLET_PEDERSEN2010_STATES(ISLET_PEDERSEN2010_STATE)};
#undef ISLET_PEDERSEN2010_STATE
#define ISLET_PEDERSEN2010_PARAM(name, unit, value, domain, doc) ParamInfo{#name, unit, value, doc, Domain::domain},
constexpr ParamInfo kParams[] = {ISLET_PEDERSEN2010_PARAMS(ISLET_PEDERSEN2010_PARAM)};
#undef ISLET_PEDERSEN2010_PARAM
static_assert(std::size(kStates) == kNumStates);
static_assert(std::size(kParams) == kNumParams);

// The membrane potential, coupled by ohmic gap junctions. The engine hands the
// kernel gV sum_j w_ij (V_i - V_j) (pS x mV = fA), which the kernel divides by
// the cell's area (area_cm2) to a density. 120 pS: a mean gap-junction
// conductance per beta cell in islets.
constexpr CoupledVarInfo kCoupled[] = {
    {"V", "gV", "pS", 1.0, CouplingForm::current, 120.0, "gap-junction conductance per unit weight"},
};

const model_abi::Kernel kKernel{
    derived::kNumDerived,
    &derive,
    nullptr,
    &stage_table,
};

const ModelInfo kModel{
    "pedersen2010",
    "Pedersen 2010: human beta cell",
    "M. G. Pedersen, A biophysical model of electrical activity in human beta-cells, Biophysical Journal 99(10), "
    "3200-3207 (2010); as implemented for NEURON in bHub_sim (Fig. 4A set-up)",
    "10.1016/j.bpj.2010.09.004",
    kStates,
    kParams,
    kCoupled,
    "V",
    -25.0,
    "",
    "Glucose does not enter this model: it has no metabolism. The constant K_ATP conductance gKATP (S/cm2) sets "
    "the activity in its place (0.015e-3: bursting); set it, or make it heterogeneous, to vary the drive.",
    nullptr,
    // RK4 at 0.1 ms: 611/611 reference spikes within 0.002 ms over 60 s
    // (0.25 ms still within 0.04 ms). Forward Euler is first order and its
    // period error accumulates, ~4.9 ms over 60 s per 0.001 ms of step, so
    // it needs 0.00025 ms (1.2 ms) for the 2-ms tolerance: use RK4.
    0.1,
    0.00025,
    &kKernel,
};
}  // namespace

const ModelInfo& model() { return kModel; }

}  // namespace isletsim::pedersen2010
