// Bertram 2007's tables and descriptor (the kernel is in kernel.hpp/.cpp).
#include "model/bertram2007/model.hpp"

#include <cmath>

#include "model/bertram2007/kernel.hpp"
#include "core/fastmath.hpp"

namespace isletsim::bertram2007 {

namespace {
#define X(name, unit, value, domain, doc) ParamInfo{#name, unit, value, doc, Domain::domain},
constexpr ParamInfo kParams[] = {
#include "model/bertram2007/params.inc"
};
#undef X
#define X(name, unit, value, domain, doc) StateInfo{#name, unit, value, doc, Domain::domain},
constexpr StateInfo kStates[] = {
#include "model/bertram2007/states.inc"
};
#undef X
static_assert(std::size(kParams) == kNumParams);
static_assert(std::size(kStates) == kNumStates);

// Order = the kernel's coupling rows (kernel.hpp: Igj, Jgj_c, Jgj_G6P, Jgj_ADPm).
constexpr CoupledVarInfo kCoupled[] = {
    {"V", "gV", "pS", 1.0, CouplingForm::current, 120,
     "gap-junction conductance per unit weight: Igj = gV sum_j w_ij (V_i - V_j) (fA)"},
    {"c", "gc", "1/ms", 1.0, CouplingForm::diffusion, 0, "Ca2+ exchange rate: Jgj_c = gc sum_j w_ij (c_j - c_i)"},
    {"G6P", "gG6P", "1/ms", 0.3, CouplingForm::diffusion, 0,
     "G6P exchange rate: Jgj_G6P = gG6P sum_j w_ij 0.3 (G6P_j - G6P_i) (0.3: the G6P that is free)"},
    {"ADPm", "gADP", "1/ms", 1.0, CouplingForm::diffusion, 0,
     "ADP exchange rate: Jgj_ADPm = gADP sum_j w_ij (ADPm_j - ADPm_i)"},
};

// ~10% CV on channel conductances and total ATP, ~25% on glucokinase (the
// heterogeneity of published islet network models).
constexpr HeterogeneityInfo kHeterogeneity[] = {{"gKATP", 0.1, "normal"}, {"gKCa", 0.1, "normal"},
                                                {"gCa", 0.1, "normal"},   {"gK", 0.1, "normal"},
                                                {"atot", 0.1, "normal"},  {"JGK", 0.25, "normal"}};

// p6 == p10 and p7 == p11 (the defaults): one exp fewer (kernel variant 1).
int variant_of(const double* P) { return P[p6] == P[p10] && P[p7] == P[p11] ? 1 : 0; }

const model_abi::Kernel kKernel{kernel::derived::kNumDerived, kernel::derive, variant_of, kernel::stage_table};

// Error scales of the adaptive integrator, per state (states.inc order): the
// size below which a state's error counts absolutely, about 1% of its usual
// range (V 1 mV; n 0.01; c 1 nM).
constexpr double kErrorScale[] = {1.0, 0.01, 1.0, 0.01, 0.01, 1.0, 0.01, 0.1, 1.0, 0.001, 1.0};
static_assert(std::size(kErrorScale) == std::size(kStates), "one error scale per state");

const ModelInfo kModel{
    "bertram2007",
    "Bertram et al. 2007: integrated oscillator model (mouse beta cell)",
    "Bertram R, Satin LS, Pedersen MG, Luciani DS, Sherman A (2007) Interaction of glycolysis and mitochondrial "
    "respiration in metabolic oscillations of pancreatic islets. Biophys J 92:1544-1555",
    "10.1529/biophysj.106.097154",
    kStates,
    kParams,
    kCoupled,
    "V",
    -40.0,
    "c",
    "JGK is scaled by the glucokinase dose-response G^1.7/(8^1.7 + G^1.7), normalised to 1 at 11.1 mM",
    glucokinase_factor,
    0.5,
    0.1,
    &kKernel,
    1.0,  // glucose.mode = "fixed_jgk": JGK as given
    kHeterogeneity,
    kErrorScale,
    Integrator::dopri5,  // validated: docs/integrators.md
};
}  // namespace

const ModelInfo& model() { return kModel; }

double glucokinase_factor(double G_mM) {
  constexpr double h = 1.7, K = 8.0, Gref = 11.1;
  if (!(G_mM > 0.0)) return 0.0;
  // x^h as exp(h log x) with our own functions: the same bits on every system.
  const auto pw = [](double x) { return fastmath::exp(h * fastmath::log(x)); };
  const double Kh = pw(K), Gh = pw(G_mM), Grefh = pw(Gref);
  return (Gh / (Kh + Gh)) / (Grefh / (Kh + Grefh));
}

}  // namespace isletsim::bertram2007
