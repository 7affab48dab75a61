#pragma once
// Right-hand side of the Pedersen (2010) human beta-cell model over a block
// of cells (model_abi.hpp describes the rows): one plain loop the compiler
// vectorises. Densities throughout (S/cm2, mA/cm2, uF/cm2); t in ms, V in mV.
#include <cstddef>

#include "model/model_abi.hpp"
#include "model/pedersen2010/model.hpp"

namespace isletsim::pedersen2010 {

// Per-cell constants, computed once per run (Kernel::derive) so the loop
// divides only where the state enters. Each Boltzmann curve
// 1/(1 + exp((V - Vx)/k)) is evaluated as 1/(1 + exp(V ik + b)) with
// ik = 1/k, b = -Vx/k (one fma instead of a subtraction and a division).
// clang-format off
#define ISLET_PEDERSEN2010_DERIVED(D)                                                     \
  D(neg1000_cm, -1000.0 / P[cm])        /* (mA/cm2)/(uF/cm2) -> mV/ms, sign: outward */   \
  D(gap_scale, 1e-12 / P[area_cm2])     /* fA -> mA/cm2 */                               \
  D(ik_mNa, 1.0 / P[km_Na]) D(b_mNa, -P[Vm_Na] / P[km_Na])                               \
  D(ik_hNa, 1.0 / P[kh_Na]) D(b_hNa, -P[Vh_Na] / P[kh_Na])                               \
  D(ik_mCaL, 1.0 / P[km_CaL]) D(b_mCaL, -P[Vm_CaL] / P[km_CaL])                          \
  D(ik_mCaT, 1.0 / P[km_CaT]) D(b_mCaT, -P[Vm_CaT] / P[km_CaT])                          \
  D(ik_hCaT, 1.0 / P[kh_CaT]) D(b_hCaT, -P[Vh_CaT] / P[kh_CaT])                          \
  D(ik_mCaPQ, 1.0 / P[km_CaPQ]) D(b_mCaPQ, -P[Vm_CaPQ] / P[km_CaPQ])                     \
  D(ik_mKv, 1.0 / P[km_Kv]) D(b_mKv, -P[Vm_Kv] / P[km_Kv])                               \
  D(ik_mBK, 1.0 / P[km_BK]) D(b_mBK, -P[Vm_BK] / P[km_BK])                               \
  D(ik_mHERG, 1.0 / P[km_HERG]) D(b_mHERG, -P[Vm_HERG] / P[km_HERG])                     \
  D(ik_hHERG, 1.0 / P[kh_HERG]) D(b_hHERG, -P[Vh_HERG] / P[kh_HERG])                     \
  D(inv_Phi_CaL, 1.0 / P[Phi_CaL])                                                        \
  D(r_hNa, 1.0 / P[tauh_Na]) D(r_hCaL, 1.0 / P[tauh_CaL]) D(r_hCaT, 1.0 / P[tauh_CaT])  \
  D(r_mBK, 1.0 / P[taum_BK]) D(r_mHERG, 1.0 / P[taum_HERG]) D(r_hHERG, 1.0 / P[tauh_HERG])
// clang-format on

ISLET_MODEL_DERIVED_ENUM(ISLET_PEDERSEN2010_DERIVED)

// Derived values of one cell from its parameters P[kNumParams].
inline void derive(const double* P, double* out) {
  ISLET_MODEL_DERIVED_ASSIGN(ISLET_PEDERSEN2010_DERIVED)
}

// The body (model_abi.hpp). The kernel ignores `stim`: glucose does not enter
// this model (gKATP stands for it). One coupled row: the engine's
// gap-junction term gV sum_j w_ij (V_i - V_j) in pS mV = fA, outward.
template <class T, model_abi::Stage M, int Variant>
[[gnu::always_inline]] inline void body(std::size_t n, const T* __restrict st, const T* __restrict in, T stim,
                                        const model_abi::StageArgs<T>& a) {
  using fastmath::exp;
  using model_abi::kBlock;
  using std::fma;
  (void)stim;
  constexpr std::size_t P = kNumParams, D = derived::kNumDerived;
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
#define STATE(k) st[std::size_t{k} * kBlock + j]
#define PRM(k) in[std::size_t{k} * kBlock + j]
#define DRV(k) in[(P + std::size_t{derived::k}) * kBlock + j]
    const T v = STATE(V), hNa = STATE(h_Na), hCaL = STATE(h_CaL), hCaT = STATE(h_CaT);
    const T mKv = STATE(m_Kv), mBK = STATE(m_BK), mHERG = STATE(m_HERG), hHERG = STATE(h_HERG);
    const T igap = in[(P + D) * kBlock + j];

    // The 10 Boltzmann denominators 1 + exp(V ik + b) and the Kv time constant.
    const T d_mNa = T(1) + exp(fma(v, DRV(ik_mNa), DRV(b_mNa)));
    const T d_hNa = T(1) + exp(fma(v, DRV(ik_hNa), DRV(b_hNa)));
    const T d_mCaL = T(1) + exp(fma(v, DRV(ik_mCaL), DRV(b_mCaL)));
    const T d_mCaT = T(1) + exp(fma(v, DRV(ik_mCaT), DRV(b_mCaT)));
    const T d_hCaT = T(1) + exp(fma(v, DRV(ik_hCaT), DRV(b_hCaT)));
    const T d_mCaPQ = T(1) + exp(fma(v, DRV(ik_mCaPQ), DRV(b_mCaPQ)));
    const T d_mKv = T(1) + exp(fma(v, DRV(ik_mKv), DRV(b_mKv)));
    const T d_mBK = T(1) + exp(fma(v, DRV(ik_mBK), DRV(b_mBK)));
    const T d_mHERG = T(1) + exp(fma(v, DRV(ik_mHERG), DRV(b_mHERG)));
    const T d_hHERG = T(1) + exp(fma(v, DRV(ik_hHERG), DRV(b_hHERG)));
    // tau_Kv = tau0 + 10 exp((-20 - V)/6) above -26.6 mV, tau0 + 30 below (a
    // 0.04 ms jump at -26.6 mV, as published). Bounded in [tau0, tau0 + 30.04].
    // A select of constants and an fma blend (exact for above = 0, within an
    // ulp for 1): with a select of the two values, GCC 12 moves the exp into
    // a branch and then vectorises nothing for SSE2 (nor for AVX2 when an arm
    // alone loads a row).
    const T tau0Kv = PRM(tau0_Kv);
    const T tauKv_high = fma(T(10), exp(fma(v, T(-1.0 / 6.0), T(-20.0 / 6.0))), tau0Kv);
    const T above = v > T(-26.6) ? T(1) : T(0);
    const T tauKv = fma(above, tauKv_high - (tau0Kv + T(30)), tau0Kv + T(30));

    // Reciprocals two at a time, 1/x = y/(x y) and 1/y = x/(x y): 6 divisions
    // instead of 11 (a vector division costs several fmas; ~8% faster kernel).
    // Pairs: an activation curve (large at very negative V) with an
    // inactivation curve (large at very positive V), or with the bounded
    // tau_Kv, or two activation curves; x y overflows only for |V| beyond
    // ~3500 mV, far outside any trajectory.
    const T r1 = T(1) / (d_mNa * d_hNa);
    const T mNa = d_hNa * r1, hNa_inf = d_mNa * r1;
    const T r2 = T(1) / (d_mCaT * d_hCaT);
    const T mCaT = d_hCaT * r2, hCaT_inf = d_mCaT * r2;
    const T r3 = T(1) / (d_mHERG * d_hHERG);
    const T mHERG_inf = d_hHERG * r3, hHERG_inf = d_mHERG * r3;
    const T r4 = T(1) / (d_mCaL * tauKv);
    const T mCaL = tauKv * r4, rKv = d_mCaL * r4;
    const T r5 = T(1) / (d_mCaPQ * d_mKv);
    const T mCaPQ = d_mKv * r5, mKv_inf = d_mCaPQ * r5;
    const T mBK_inf = T(1) / d_mBK;

    // L-type inactivation depends on the L-type current's driving force:
    // clip(1 + m_CaL (V - ECa)/Phi, 0, 1).
    const T vCa = v - PRM(ECa);
    const T hCaL_lin = fma(mCaL * vCa, DRV(inv_Phi_CaL), T(1));
    const T hCaL_pos = hCaL_lin > T(0) ? hCaL_lin : T(0);
    const T hCaL_inf = hCaL_pos < T(1) ? hCaL_pos : T(1);

    // Currents (mA/cm2, outward positive).
    const T gCa = fma(PRM(gCaL) * mCaL, hCaL, fma(PRM(gCaT) * mCaT, hCaT, PRM(gCaPQ) * mCaPQ));
    const T ICa = gCa * vCa;
    // K+ conductances sharing V - EK; BK is scaled by the current bbk - I_Ca.
    const T gK = fma(PRM(gKv), mKv, fma(PRM(gBK) * mBK, PRM(bbk) - ICa, fma(PRM(gHERG) * mHERG, hHERG, PRM(gKATP))));
    const T INa = PRM(gNa) * mNa * hNa * (v - PRM(ENa));
    const T Ileak = PRM(gleak) * (v - PRM(Eleak));
    const T Isum = fma(gK, v - PRM(EK), fma(igap, DRV(gap_scale), INa + ICa + Ileak));

    const T dV = Isum * DRV(neg1000_cm);
    const T dhNa = (hNa_inf - hNa) * DRV(r_hNa);
    const T dhCaL = (hCaL_inf - hCaL) * DRV(r_hCaL);
    const T dhCaT = (hCaT_inf - hCaT) * DRV(r_hCaT);
    const T dmKv = (mKv_inf - mKv) * rKv;
    const T dmBK = (mBK_inf - mBK) * DRV(r_mBK);
    const T dmHERG = (mHERG_inf - mHERG) * DRV(r_mHERG);
    const T dhHERG = (hHERG_inf - hHERG) * DRV(r_hHERG);
#undef DRV
#undef PRM
#undef STATE
    model_abi::store<M>(a, std::size_t{V} * kBlock + j, dV);
    model_abi::store<M>(a, std::size_t{h_Na} * kBlock + j, dhNa);
    model_abi::store<M>(a, std::size_t{h_CaL} * kBlock + j, dhCaL);
    model_abi::store<M>(a, std::size_t{h_CaT} * kBlock + j, dhCaT);
    model_abi::store<M>(a, std::size_t{m_Kv} * kBlock + j, dmKv);
    model_abi::store<M>(a, std::size_t{m_BK} * kBlock + j, dmBK);
    model_abi::store<M>(a, std::size_t{m_HERG} * kBlock + j, dmHERG);
    model_abi::store<M>(a, std::size_t{h_HERG} * kBlock + j, dhHERG);
  }
}

}  // namespace isletsim::pedersen2010
