#pragma once
// A toy cell model for the plug-in test: FitzHugh-Nagumo, two variables,
// defined entirely in this folder (tables, kernel body, descriptor) and
// registered at run time (register_model), as a plug-in would be.
//   dv/dt = (v - v^3/3 - w + I + stim - Igap) / tau
//   dw/dt = eps (v + a - b w) / tau
// with stim = kG * G (glucose, mM) and Igap = g sum_j w_ij (v_i - v_j).
#include <cstddef>

#include "isletsim/model.hpp"
#include "model/model_abi.hpp"

namespace toy_fhn {

using isletsim::model_abi::kBlock;
using isletsim::model_abi::Stage;
using isletsim::model_abi::StageArgs;

enum State : int { v, w };
enum Param : int { a, b, eps, I, kG, tau };
constexpr int kParams = 6, kDerived = 1;  // derived: 1/tau

template <class T, Stage M, int Variant>
inline void body(std::size_t n, const T* __restrict st, const T* __restrict in, T stim, const StageArgs<T>& args) {
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
    const T V = st[v * kBlock + j], W = st[w * kBlock + j];
    const T inv_tau = in[(kParams + 0) * kBlock + j];
    const T igap = in[(kParams + kDerived + 0) * kBlock + j];
    const T I_ext = in[I * kBlock + j] + in[kG * kBlock + j] * stim;
    const T dv = (V - V * V * V / T(3) - W + I_ext - igap) * inv_tau;
    const T dw = in[eps * kBlock + j] * (V + in[a * kBlock + j] - in[b * kBlock + j] * W) * inv_tau;
    isletsim::model_abi::store<M>(args, v * kBlock + j, dv);
    isletsim::model_abi::store<M>(args, w * kBlock + j, dw);
  }
}

ISLET_MODEL_KERNEL_TABLE(body, 1)

inline void derive(const double* P, double* D) { D[0] = 1.0 / P[tau]; }
inline double stimulus(double G_mM) { return G_mM; }

// The resting state at I = 0.2: v - v^3/3 - w + I = 0, v + a - b w = 0.
using isletsim::Domain;
constexpr isletsim::StateInfo kStates[] = {{"v", "1", -1.0655, "fast (voltage-like) variable", Domain::any},
                                           {"w", "1", -0.45688, "slow recovery variable", Domain::any}};
constexpr isletsim::ParamInfo kParamTable[] = {{"a", "1", 0.7, "recovery offset", Domain::any},
                                               {"b", "1", 0.8, "recovery slope", Domain::any},
                                               {"eps", "1", 0.08, "time-scale ratio", Domain::nonnegative},
                                               {"I", "1", 0.2, "drive without glucose", Domain::any},
                                               {"kG", "1/mM", 0.03, "drive per mM glucose", Domain::any},
                                               {"tau", "ms", 20.0, "time unit", Domain::positive}};
constexpr isletsim::CoupledVarInfo kCoupled[] = {
    {"v", "g", "1", 1.0, isletsim::CouplingForm::current, 0.05, "diffusive coupling of v"}};
inline const isletsim::model_abi::Kernel kKernel{kDerived, derive, nullptr, stage_table};
inline const isletsim::ModelInfo kModel{"fhn_toy",     "FitzHugh-Nagumo toy cell (tests)", "FitzHugh R (1961) Biophys J 1:445",
                                        "10.1016/S0006-3495(61)86902-6", kStates, kParamTable, kCoupled, "v", 1.0,
                                        "", "I + kG G", stimulus, 0.5, 0.1, &kKernel};

}  // namespace toy_fhn
