#pragma once
// Right-hand side of the Bertram 2007 model over a block of cells, written as
// one plain loop the compiler vectorizes (see fastmath.hpp for exp).
//
// Every input is a pointer to `n` contiguous values for the block: state
// variables, parameters (a per-cell array, or a broadcast buffer holding one
// value repeated when the parameter is uniform), and the gap-junction terms
// already multiplied by their coefficients. The 11 derivatives (units per
// ms) are combined into the integrator's update inside the same loop (see
// Stage).
#include <cstddef>

#include "model/bertram2007/model.hpp"
#include "core/fastmath.hpp"
#include "model/model_abi.hpp"

namespace isletsim::bertram2007::kernel {

using model_abi::Isa;
using model_abi::kBlock;
using model_abi::Stage;
using model_abi::StageArgs;

// Quantities that depend only on parameters, computed once per cell (or
// once, when uniform) instead of at every step: reciprocals and products that
// would otherwise cost a division per cell-step.
// The PFK rate's 16 terms w(i,j,k,l) are products (AMP/k1)^i (FBP/k2)^j
// (F6P^2/k3)^k (ATP^2/k4)^l / (f13^ik f23^jk f41^il f42^jl f43^kl), so with
// a = AMP/k1 (a parameter) each group of four with the same (k, l) factors:
//   k=0,l=0: (1+a)(1+b)            k=0,l=1: t (1+a/f41)(1+b/f42)
//   k=1,l=0: f (1+a/f13)(1+b/f23)  k=1,l=1: (f t/f43)(1+a/(f13 f41))(1+b/(f23 f42))
// and the factors in a are derived parameters (pfk_*): see the kernel.
// (The expressions are evaluated in derive(), where P and pfk_a are defined.)
#define ISLET_DERIVED(D)                                                                                  \
  D(invCm, 1.0 / P[Cm]) D(inv_tau_n, 1.0 / P[tau_n]) D(kD2, P[kD] * P[kD]) D(inv_k2, 1.0 / P[k2])      \
  D(f_k3, 0.09 / P[k3]) D(inv_k4, 1.0 / P[k4]) D(pfk_A0, 1.0 + pfk_a)                           \
  D(pfk_A41, 1.0 + pfk_a / P[f41]) D(pfk_B41, (1.0 + pfk_a / P[f41]) / P[f42])              \
  D(pfk_A13, 1.0 + pfk_a / P[f13]) D(inv_f23, 1.0 / P[f23])                                       \
  D(pfk_Y, (1.0 + pfk_a / (P[f13] * P[f41])) / P[f43])                                             \
  D(pfk_X, (1.0 + pfk_a / (P[f13] * P[f41])) / (P[f23] * P[f42] * P[f43]))                         \
  D(pfk_c1110, pfk_a / (P[f13] * P[f23])) D(inv_p7, 1.0 / P[p7]) D(p6_p7, P[p6] / P[p7])          \
  D(inv_p11, 1.0 / P[p11]) D(p10_p11, P[p10] / P[p11]) D(inv_p15, 1.0 / P[p15])                          \
  D(p14_p15, P[p14] / P[p15]) D(inv_Cmito, 1.0 / P[Cmito]) D(half_FRT, 0.5 * P[FRT])                     \
  D(fer_Vc, P[fer] * P[Vc_Ver]) D(p16p13, P[p16] * P[p13]) D(oinf_d0, 1.0 + 0.05 * P[atot])             \
  D(katp_c0, 0.08 * P[gKATP]) D(katp_c1, 0.16 * P[gKATP]) D(katp_c2, 0.89 * P[gKATP])

ISLET_MODEL_DERIVED_ENUM(ISLET_DERIVED)

// Derived values of one cell from its parameter values P[kNumParams].
inline void derive(const double* P, double* out) {
  const double pfk_a = P[AMP] / P[k1];
  ISLET_MODEL_DERIVED_ASSIGN(ISLET_DERIVED)
}

// The kernel reads one block of up to kBlock cells from two arrays of rows
// of kBlock values: the state block (kNumStates rows: the engine stores
// states in this layout, blocks of kBlock cells with one row per variable,
// so the kernel reads them where they are) and a scratch block of
// parameters, derived parameters and the four gap-junction terms (Igj in
// fA, Jgj_c and Jgj_G6P in uM/ms, Jgj_ADPm in mM/ms). With base pointers and
// constant row offsets, every operand is a plain vector load. 32 cells: the
// scratch (97 rows, 25 KB) stays in L1 (64 cells: 50 KB; with 94 rows, 48 KB,
// an 8% slower kernel).
enum Row : std::size_t {
  kRowParam = 0,
  kRowDerived = kRowParam + kNumParams,
  kRowIgj = kRowDerived + derived::kNumDerived,
  kRowJc,
  kRowJg6p,
  kRowJadpm,
  kRows
};

// The stage functions (model_abi::StageTable: [variant][stage], variant 1 =
// shared respiration exp) for an instruction set (kernel.cpp).
model_abi::StageTable stage_table(Isa isa);

// Derivatives (units per ms) of cells [0, n) of the state block `st` with
// the scratch block `in` into d[state * kBlock + j]; n <= kBlock. gkf:
// glucokinase factor from the glucose protocol (1 = JGK as given).
// Dispatches to model_abi::active_isa()'s build.
void rhs(std::size_t n, const double* __restrict st, const double* __restrict in, double gkf, double* __restrict d);

// The same derivatives, combined as `stage` says (see Stage) into the
// blocks of `a`. `st` must not overlap the blocks written. shared_resp:
// every cell of the block has p6 == p10 and p7 == p11 (one exp fewer).
void stage(Stage stage, bool shared_resp, std::size_t n, const double* __restrict st, const double* __restrict in,
           double gkf, const StageArgs<double>& a);

// Single-precision kernel (issue 3, item 5, experiment): the same loop on
// float blocks (same rows), float derivatives. Not used by the engine;
// bench/float_check.cpp measures whether it would pass the reference checks.
void rhs_float(std::size_t n, const float* __restrict st, const float* __restrict in, float gkf,
               float* __restrict d);

// The loop itself on real type T (double: the engine; float: rhs_float),
// compiled once per instruction set in kernel.cpp. Every constant is T(...)
// so the float instantiation computes in float; for T = double the
// expressions are the same as before (same bits).
// SharedResp: p6 == p10 and p7 == p11 in every cell (the defaults), so the
// respiration and proton-pumping terms share one exp (the same value, so the
// same bits as computing it twice).
//
// Divisions (issue 13, item 3): 5 per cell evaluation, down from 11 (the
// float kernel keeps 8, below). A division is the slowest vector
// instruction (zmm vdivpd: one per ~16 cycles of the divider on Intel
// Skylake-SP / Cascade Lake, where the 11 divisions and the sqrt bounded the
// kernel); removing one costs multiplies, and where the mul/FMA pipes set
// the bound (AMD Zen 5) each multiply costs time. Merging all but one by a
// product tree (1/(xy) gives 1/x = y/(xy), 1/y = x/(xy)) cost 36 multiplies
// and made the kernel 6% slower on Zen 5, so only the cheaper merges are
// made, 2-4 multiplies each (18 in all for 6 divisions):
//   - two quotients summed over one denominator: the KATP and KCa
//     conductances (gKATP folded into the derived katp_c*): 2;
//   - two quotients with a common numerator factor, from one quotient of it
//     by the product of the denominators: JO and JHres (NADHm; with
//     SharedResp the common 1 + e_o is taken once): 2 (3 without
//     SharedResp); JPDH and JNaCa's Cam/c (Cam): 3;
//   - a product tree of the gating functions' and the F1F0 and ANT
//     denominators: 3 for the pair n_inf, m_inf, 8 more for F1F0 and ANT.
// Kept: PFK, and one division per merged group. Measured on Zen 5 (see
// BENCHMARKS.md): the AVX-512 kernel as fast as with 11, the AVX2 one ~6%
// slower; on Cascade Lake the divider should no longer set the bound.
// Overflow: a merged product overflows only where a factor holds an exp at
// its clamp (double: Psim above ~1900 mV or below ~-5600 mV, or V below
// ~-2500 mV: a blown-up state); then the quotients are 0 or NaN instead of the
// separate divisions' values. In float (range 3e38, exp clamped at 6e37)
// that would come much nearer, so the float kernel keeps the F1F0 and ANT
// divisions (their product grows with e_f1f0 alone) and, without
// SharedResp, the JO and JHres ones (two different exps); its other merged
// products grow only where both quotients tend to 0 together (n_den m_den
// for V below -330 mV; e_o), or not at all.
template <class T, Stage M, bool SharedResp = false>
[[gnu::always_inline]] static inline void rhs_body_t(std::size_t n, const T* __restrict st, const T* __restrict in,
                                                     T gkf, const StageArgs<T>& a) {
  using fastmath::exp;
  using std::fma;
  const auto sqrt_t = [](T x) -> T {
    if constexpr (sizeof(T) == sizeof(double)) return __builtin_sqrt(x);
    else return __builtin_sqrtf(x);
  };
  T* __restrict const ad = a.d;
  T* __restrict const ay = a.y;
  T* __restrict const aout = a.out;
  T* __restrict const aacc = a.acc;
  const T h = a.h, w = a.w;
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
#define STATE(name) st[std::size_t{State::name} * kBlock + j]
#define PRM(name) in[(kRowParam + std::size_t{Param::name}) * kBlock + j]
#define DRV(name) in[(kRowDerived + std::size_t{derived::name}) * kBlock + j]
    const T V = STATE(V), nn = STATE(n), G6P = STATE(G6P);
    const T FBP = STATE(FBP), NADHm = STATE(NADHm), Psim = STATE(Psim);
    const T Cam = STATE(Cam), ADPm = STATE(ADPm), ADP = STATE(ADP);
    const T c = STATE(c), cer = STATE(cer);
    const T igj = in[kRowIgj * kBlock + j], jgj_c = in[kRowJc * kBlock + j];
    const T jgj_g6p = in[kRowJg6p * kBlock + j], jgj_adpm = in[kRowJadpm * kBlock + j];
    // Explicit fused multiply-adds (fma: one rounding, the same bits in
    // every lane and on every instruction set; -ffp-contract=off forbids
    // the compiler's own).
    // The mitochondrial exps and the sqrt first: long dependency chains
    // (~40 cycles each) that the out-of-order window then overlaps with the
    // rest of the body (kernel 5.2 -> 5.0 ns per cell evaluation; putting
    // the gating exps, the glycolysis or the mitochondrial fluxes first too
    // was slower).
    const T e_o = exp(fma(Psim, DRV(inv_p7), -DRV(p6_p7)));  // (Psim - p6)/p7
    const T e_hres = SharedResp ? e_o : exp(fma(Psim, DRV(inv_p11), -DRV(p10_p11)));
    const T e_f1f0 = exp(fma(Psim, -DRV(inv_p15), DRV(p14_p15)));  // (p14 - Psim)/p15
    const T e_ant = exp(DRV(half_FRT) * Psim);
    const T e_naca = exp(PRM(p24) * Psim);
    const T sqrt_fbp = sqrt_t(FBP);
    // Electrical
    const T n_den = T(1) + exp(fma(V, T(-0.2), T(-3.2)));  // n_inf = 1/n_den, -(16 + V)/5
    const T m_den = T(1) + exp(fma(V, T(-1.0 / 12.0), T(-20.0 / 12.0)));  // m_inf = 1/m_den, -(20 + V)/12
    // F1F0's and ANT's denominators, p19 RATm/(RATm + p20) with RATm = ATPm/ADPm
    const T ATPm = PRM(Amtot) - ADPm;
    const T f1f0_den = (PRM(p13) + ATPm) * (T(1) + e_f1f0), ant_den = fma(PRM(p20), ADPm, ATPm);
    // r_nm = 1/(n_den m_den), 1/f1f0_den and 1/ant_den from one division
    // (product tree; three in float, see above)
    const T nm_den = n_den * m_den, fa_den = f1f0_den * ant_den;
    T r_nm, inv_f1f0, inv_ant;
    if constexpr (sizeof(T) == sizeof(double)) {
      const T r = T(1) / (nm_den * fa_den);
      r_nm = fa_den * r;
      const T r_fa = nm_den * r;
      inv_f1f0 = ant_den * r_fa;
      inv_ant = f1f0_den * r_fa;
    } else {
      r_nm = T(1) / nm_den;
      inv_f1f0 = T(1) / f1f0_den;
      inv_ant = T(1) / ant_den;
    }
    const T VmVK = V - PRM(VK);
    const T ICa = PRM(gCa) * (n_den * r_nm) * (V - PRM(VCa));
    const T c2 = c * c;
    const T ATP = PRM(atot) - ADP;
    // o_inf = (0.08 (1 + 2 mg) + 0.89 mg^2) / ((1 + mg)^2 (1 + ADP 0.135/26 + 0.05 ATP)), mg = 0.165 ADP/17;
    // katp_num = gKATP times that numerator (its coefficients times gKATP are derived: katp_c*).
    const T mg = ADP * T(0.165 / 17.0);
    const T katp_num = fma(mg, fma(mg, DRV(katp_c2), DRV(katp_c1)), DRV(katp_c0));
    const T o_1mg = T(1) + mg;
    const T o_den = o_1mg * o_1mg * fma(ADP, T(0.135 / 26.0 - 0.05), DRV(oinf_d0));  // 0.05 ATP = 0.05 atot - 0.05 ADP
    // K+ conductances, all driven by V - VK: delayed rectifier, KCa, KATP; the
    // last two over one denominator:
    // gKATP o_num/o_den + gKCa c2/kca_den = (katp_num kca_den + gKCa c2 o_den) / (o_den kca_den).
    const T kca_den = c2 + DRV(kD2);
    const T gKATP_KCa = fma(katp_num, kca_den, PRM(gKCa) * c2 * o_den) / (o_den * kca_den);
    const T gKsum = fma(PRM(gK), nn, gKATP_KCa);
    const T dV = -fma(gKsum, VmVK, ICa + igj) * DRV(invCm);
    const T dn = fma(m_den, r_nm, -nn) * DRV(inv_tau_n);  // (n_inf - n)/tau_n

    // Glycolysis: PFK after Smolen 1995, its 16 terms grouped as in
    // ISLET_DERIVED: b = FBP/k2, f = F6P^2/k3, t = ATP^2/k4.
    const T JGPDH = PRM(kGPDH) * sqrt_fbp;
    const T b = FBP * DRV(inv_k2), f = G6P * G6P * DRV(f_k3), t = ATP * ATP * DRV(inv_k4);
    // topa: the k=1 terms except w(1,1,1,0); w1110 = a b f/(f13 f23).
    const T topa = fma(f, fma(b, DRV(inv_f23), DRV(pfk_A13)), f * t * fma(b, DRV(pfk_X), DRV(pfk_Y)));
    const T w1110 = b * DRV(pfk_c1110) * f;
    const T bottom = fma(b, DRV(pfk_A0), DRV(pfk_A0)) + fma(t, fma(b, DRV(pfk_B41), DRV(pfk_A41)), topa + w1110);
    const T JPFK = PRM(VmaxPFK) * fma(PRM(lambda), topa, w1110) / bottom;
    const T kappa = PRM(kappa);
    const T dG6P = fma(kappa, fma(PRM(JGK), gkf, -JPFK), jgj_g6p);
    const T dFBP = fma(kappa, JPFK, T(-0.5) * JGPDH);

    // Mitochondria
    const T NADm = PRM(NADmtot) - NADHm;
    // JPDH = p1 NADm Cam (JGPDH + JGPDHbas) / pdh_den and JNaCa's Cam/c share
    // one division, both having Cam above: r_pc = Cam / (pdh_den c).
    const T pdh_den = fma(PRM(p2), NADm, NADHm) * (PRM(p3) + Cam);
    const T r_pc = Cam / (pdh_den * c);
    const T JPDH = PRM(p1) * NADm * (JGPDH + PRM(JGPDHbas)) * (c * r_pc);
    // JO = p4 NADHm / o_sat, JHres = p8 NADHm / h_sat share one division,
    // both having NADHm above: r_oh = NADHm / (o_sat h_sat). With SharedResp
    // the factor 1 + e_o is common and taken once: r_oh = NADHm / ((p5 +
    // NADHm)(p9 + NADHm)(1 + e_o)). The float kernel without SharedResp keeps
    // two divisions: there o_sat h_sat, with two exps each up to 6e37, could
    // overflow float's range (3e38) where each alone does not.
    const T e_o1 = T(1) + e_o;
    const T sat_o = PRM(p5) + NADHm, sat_h = PRM(p9) + NADHm;
    T JO, JHres;
    if constexpr (SharedResp) {
      const T r_oh = NADHm / (sat_o * sat_h * e_o1);
      JO = PRM(p4) * sat_h * r_oh;
      JHres = PRM(p8) * sat_o * r_oh;
    } else {
      const T o_sat = sat_o * e_o1, h_sat = sat_h * (T(1) + e_hres);
      if constexpr (sizeof(T) == sizeof(double)) {
        const T r_oh = NADHm / (o_sat * h_sat);
        JO = PRM(p4) * h_sat * r_oh;
        JHres = PRM(p8) * o_sat * r_oh;
      } else {
        JO = PRM(p4) * NADHm / o_sat;
        JHres = PRM(p8) * NADHm / h_sat;
      }
    }
    const T JF1F0 = DRV(p16p13) * inv_f1f0;
    const T JANT = PRM(p19) * ATPm * inv_ant * e_ant;
    const T Juni = fma(PRM(p21), Psim, -PRM(p22)) * c2;
    const T JNaCa = PRM(p23) * (pdh_den * r_pc) * e_naca;  // p23 (Cam/c) e_naca
    const T Jmito = JNaCa - Juni;
    const T gam = PRM(gamma);
    const T dNADHm = gam * (JPDH - JO);
    // JHres - 3 JF1F0 - JANT - (p17 Psim + p18) - JNaCa - 2 Juni
    const T hsum = fma(T(-3), JF1F0, JHres - JANT) - fma(PRM(p17), Psim, PRM(p18)) - fma(T(2), Juni, JNaCa);
    const T dPsim = hsum * DRV(inv_Cmito);
    const T dCam = -PRM(fmito) * Jmito;
    const T dADPm = fma(gam, JANT - JF1F0, jgj_adpm);
    const T delta = PRM(delta);
    const T dADP = fma(-delta, JANT, fma(PRM(khyd), c, PRM(khydbas)) * ATP);

    // Calcium
    const T Jmem = -fma(PRM(alpha), ICa, PRM(kPMCA) * (c - PRM(Cbas)));
    const T Jer = fma(PRM(pleak), cer - c, -PRM(kSERCA) * c);
    const T dc = fma(PRM(fcyt), fma(delta, Jmito, Jmem + Jer), jgj_c);
    const T dcer = -DRV(fer_Vc) * Jer;
#undef DRV
#undef PRM
#undef STATE
    const T d[kNumStates] = {dV, dn, dG6P, dFBP, dNADHm, dPsim, dCam, dADPm, dADP, dc, dcer};
    for (int k = 0; k < kNumStates; ++k) {
      const std::size_t i = k * kBlock + j;
      if constexpr (M == Stage::derivs) {
        ad[i] = d[k];
      } else if constexpr (M == Stage::euler) {
        aout[i] = fma(h, d[k], ay[i]);
      } else if constexpr (M == Stage::rk_first) {
        aacc[i] = d[k];
        aout[i] = fma(h, d[k], ay[i]);
      } else if constexpr (M == Stage::rk_mid) {
        aacc[i] = fma(w, d[k], aacc[i]);
        aout[i] = fma(h, d[k], ay[i]);
      } else {
        ay[i] = fma(h, aacc[i] + d[k], ay[i]);
      }
    }
  }
}

// The body as the model ABI names it (Variant 1: shared respiration exp).
template <class T, Stage M, int Variant>
[[gnu::always_inline]] inline void body(std::size_t n, const T* __restrict st, const T* __restrict in, T stim,
                                        const StageArgs<T>& a) {
  rhs_body_t<T, M, Variant == 1>(n, st, in, stim, a);
}

}  // namespace isletsim::bertram2007::kernel
