// Cha et al. 2011 mouse beta-cell model: tables, stimulus and kernel object.
#include "model/cha2011/model.hpp"

#include <iterator>

#include "model/cha2011/kernel.hpp"

namespace isletsim::cha2011 {

namespace {
#define X(name, unit, value, domain, doc) StateInfo{#name, unit, value, doc, Domain::domain},
constexpr StateInfo kStates[] = {
#include "model/cha2011/states.inc"
};
#undef X
#define X(name, unit, value, domain, doc) ParamInfo{#name, unit, value, doc, Domain::domain},
constexpr ParamInfo kParams[] = {
#include "model/cha2011/params.inc"
};
#undef X
static_assert(std::size(kStates) == kNumStates);
static_assert(std::size(kParams) == kNumParams);

// The membrane potential is coupled by gap junctions: the engine's term
// gV sum_j w_ij (V_i - V_j) (pS mV = fA) enters dV/dt as a non-specific
// current (the kernel converts fA to the model's pA).
constexpr CoupledVarInfo kCoupled[] = {
    {"V", "gV", "pS", 1.0, CouplingForm::current, 120.0, "gap-junction conductance per unit weight"},
};

// Glucose enters the equations themselves (the glycolytic flux and the Na/K
// pump), so the kernel's stimulus is G in mM.
double stimulus_of_glucose(double G_mM) { return G_mM; }

const model_abi::Kernel kKernel{derived::kNumDerived, derive, nullptr, stage_table};

const ModelInfo kModel{
    "cha2011",
    "Cha et al. 2011: mouse beta cell (Cha-Noma)",
    "Cha CY, Nakamura Y, Himeno Y, Wang J, Fujimoto S, Inagaki N, Earm YE, Noma A. Ionic mechanisms and Ca2+ "
    "dynamics underlying the glucose response of pancreatic beta cells: a simulation study. J Gen Physiol "
    "138(1):21-37 (2011)",
    "10.1085/jgp.201110611",
    kStates,
    kParams,
    kCoupled,
    "V",
    -40.0,
    "Cai",
    "glucose G (mM) from the islet's [glucose] section drives glycolysis (fGlu ~ G^hgl/(Kg^hgl + G^hgl)) and "
    "scales the Na/K pump by 0.4 + 0.6 exp(-G/5.84 mM); bursting at 8 mM",
    stimulus_of_glucose,
    // RK4 at 0.1 ms: every spike of the reference's 60 s within 0.008 ms
    // (stable to about 0.25 ms). Forward Euler is first order: at 0.01 ms
    // the spikes drift by up to 55 ms over 60 s (2 ms would need about
    // 0.0003 ms), so 0.01 ms is a compromise, not an accurate default.
    0.1,
    0.01,
    &kKernel,
};
}  // namespace

const ModelInfo& model() { return kModel; }

}  // namespace isletsim::cha2011
