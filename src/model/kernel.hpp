#pragma once
// Right-hand side of the Bertram 2007 model over a block of cells, written as
// one plain loop the compiler vectorizes (see fastmath.hpp for exp).
//
// Every input is a pointer to `n` contiguous values for the block: state
// variables, parameters (a per-cell array, or a broadcast buffer holding one
// value repeated when the parameter is uniform), and the gap-junction terms
// already multiplied by their coefficients. The 11 derivatives (units per
// ms) go to dout[k][j]; integrators combine them in separate simple loops.
#include <cstddef>

#include "isletsim/model.hpp"
#include "model/fastmath.hpp"

namespace isletsim::kernel {

// Quantities that depend only on parameters, computed once per cell (or
// once, when uniform) instead of at every step: reciprocals and products that
// would otherwise cost a division per cell-step.
#define ISLET_DERIVED(D)                                                                               \
  D(invCm, 1.0 / P[Cm]) D(inv_tau_n, 1.0 / P[tau_n]) D(kD2, P[kD] * P[kD]) D(a_amp, P[AMP] / P[k1]) \
  D(inv_k2, 1.0 / P[k2]) D(inv_k3, 1.0 / P[k3]) D(inv_k4, 1.0 / P[k4]) D(inv_f41, 1.0 / P[f41])      \
  D(inv_f42, 1.0 / P[f42]) D(inv_f41f42, 1.0 / (P[f41] * P[f42])) D(inv_f13, 1.0 / P[f13])           \
  D(inv_f23, 1.0 / P[f23]) D(inv_f13f23, 1.0 / (P[f13] * P[f23])) D(inv_f43, 1.0 / P[f43])           \
  D(inv_f13f41f43, 1.0 / (P[f13] * P[f41] * P[f43])) D(inv_f23f42f43, 1.0 / (P[f23] * P[f42] * P[f43])) \
  D(inv_fall, 1.0 / (P[f13] * P[f23] * P[f41] * P[f42] * P[f43])) D(inv_p7, 1.0 / P[p7])             \
  D(inv_p11, 1.0 / P[p11]) D(inv_p15, 1.0 / P[p15]) D(inv_Cmito, 1.0 / P[Cmito])                      \
  D(half_FRT, 0.5 * P[FRT]) D(fer_Vc, P[fer] * P[Vc_Ver]) D(p16p13, P[p16] * P[p13])

namespace derived {
#define ISLET_ENUM(name, expr) name,
enum Derived : int { ISLET_DERIVED(ISLET_ENUM) kNumDerived };
#undef ISLET_ENUM
}  // namespace derived

// Derived values of one cell from its parameter values P[kNumParams].
inline void derive(const double* P, double* out) {
  using namespace bertram;
#define ISLET_EVAL(name, expr) out[derived::name] = (expr);
  ISLET_DERIVED(ISLET_EVAL)
#undef ISLET_EVAL
}

// The kernel reads one block of up to kBlock cells from two arrays of rows
// of kBlock values: the state block (kNumStates rows: the engine stores
// states in this layout, blocks of kBlock cells with one row per variable,
// so the kernel reads them where they are) and a scratch block of
// parameters, derived parameters and the four gap-junction terms (Igj in
// fA, Jgj_c and Jgj_G6P in uM/ms, Jgj_ADPm in mM/ms). With base pointers and
// constant row offsets, every operand is a plain vector load. 32 cells: the
// scratch (94 rows, 24 KB) stays in L1 (64 cells: 48 KB, 8% slower kernel).
constexpr std::size_t kBlock = 32;
enum Row : std::size_t {
  kRowParam = 0,
  kRowDerived = kRowParam + bertram::kNumParams,
  kRowIgj = kRowDerived + derived::kNumDerived,
  kRowJc,
  kRowJg6p,
  kRowJadpm,
  kRows
};

// What a kernel call does with the derivatives d (per variable k, cell j,
// rows of kBlock values): the integrators' update loops fused into the
// kernel, so the derivatives never go through memory. Each formula is the
// integrator's own (same operations, same order: same bits as separate loops).
enum class Stage {
  derivs,    // a.d = d
  euler,     // a.out = a.y + a.h d
  rk_first,  // a.acc = d;            a.out = a.y + a.h d
  rk_mid,    // a.acc = a.acc + a.w d; a.out = a.y + a.h d
  rk_last,   // a.y = a.y + a.h (a.acc + d)   (in place)
};
template <class T>
struct StageArgs {
  T* d = nullptr;          // derivs
  T* y = nullptr;          // base state block (written by rk_last only)
  T* out = nullptr;        // next state block
  T* acc = nullptr;        // RK4 accumulator block
  T h = 0, w = 0;
};

// Instruction sets the kernel is compiled for (kernel.cpp); the best one the
// CPU has is used unless forced. Every one gives the same bits.
enum class Isa { baseline, avx2, avx512 };
const char* isa_name(Isa);
Isa best_isa();          // what this CPU supports
Isa active_isa();        // what rhs() runs
void force_isa(Isa isa); // tests and benchmarks; throws if the CPU lacks it

// Derivatives (units per ms) of cells [0, n) of the state block `st` with
// the scratch block `in` into d[state * kBlock + j]; n <= kBlock. gkf:
// glucokinase factor from the glucose protocol (1 = JGK as given).
// Dispatches to active_isa()'s build.
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
template <class T, Stage M, bool SharedResp = false>
[[gnu::always_inline]] static inline void rhs_body_t(std::size_t n, const T* __restrict st, const T* __restrict in,
                                                     T gkf, const StageArgs<T>& a) {
  using namespace bertram;
  using fastmath::exp;
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
    // Electrical
    const T n_inf = T(1) / (T(1) + exp((T(16) + V) * T(-0.2)));
    const T m_inf = T(1) / (T(1) + exp((T(20) + V) * T(-1.0 / 12.0)));
    const T VK = PRM(VK);
    const T IK = PRM(gK) * nn * (V - VK);
    const T ICa = PRM(gCa) * m_inf * (V - PRM(VCa));
    const T c2 = c * c;
    const T IKCa = PRM(gKCa) * c2 / (c2 + DRV(kD2)) * (V - VK);
    const T ATP = PRM(atot) - ADP;
    const T mg = ADP * T(0.165 / 17.0);  // MgADP / 17
    const T o_inf = (T(0.08) * (T(1) + T(2) * mg) + T(0.89) * (mg * mg)) /
                         ((T(1) + mg) * (T(1) + mg) * (T(1) + ADP * T(0.135 / 26.0) + T(0.05) * ATP));
    const T IKATP = PRM(gKATP) * o_inf * (V - VK);
    const T dV = -(IK + ICa + IKCa + IKATP + igj) * DRV(invCm);
    const T dn = (n_inf - nn) * DRV(inv_tau_n);

    // Glycolysis: PFK after Smolen 1995, the 16 w(i,j,k,l) enumerated.
    const T F6P = T(0.3) * G6P;
    const T JGPDH = PRM(kGPDH) * sqrt_t(FBP);
    const T a = DRV(a_amp), b = FBP * DRV(inv_k2), f = F6P * F6P * DRV(inv_k3), t = ATP * ATP * DRV(inv_k4);
    const T ab = a * b, ft = f * t;
    const T w1001 = a * t * DRV(inv_f41), w0101 = b * t * DRV(inv_f42), w1101 = ab * t * DRV(inv_f41f42);
    const T w1010 = a * f * DRV(inv_f13), w0110 = b * f * DRV(inv_f23), w1110 = ab * f * DRV(inv_f13f23);
    const T w0011 = ft * DRV(inv_f43), w1011 = a * ft * DRV(inv_f13f41f43);
    const T w0111 = b * ft * DRV(inv_f23f42f43), w1111 = ab * ft * DRV(inv_fall);
    const T topa = f + w1010 + w0110 + w0011 + w1011 + w0111 + w1111;
    const T bottom = T(1) + a + b + ab + t + w1001 + w0101 + w1101 + topa + w1110;
    const T JPFK = PRM(VmaxPFK) * (PRM(lambda) * topa + w1110) / bottom;
    const T kappa = PRM(kappa);
    const T dG6P = kappa * (PRM(JGK) * gkf - JPFK) + jgj_g6p;
    const T dFBP = kappa * JPFK - T(0.5) * JGPDH;

    // Mitochondria (quotients merged: one division per flux)
    const T NADm = PRM(NADmtot) - NADHm;
    const T ATPm = PRM(Amtot) - ADPm;
    const T JPDH = PRM(p1) * NADm * Cam * (JGPDH + PRM(JGPDHbas)) /
                        ((PRM(p2) * NADm + NADHm) * (PRM(p3) + Cam));
    const T e_o = exp((Psim - PRM(p6)) * DRV(inv_p7));
    const T e_hres = SharedResp ? e_o : exp((Psim - PRM(p10)) * DRV(inv_p11));
    const T JO = PRM(p4) * NADHm / ((PRM(p5) + NADHm) * (T(1) + e_o));
    const T JHres = PRM(p8) * NADHm / ((PRM(p9) + NADHm) * (T(1) + e_hres));
    const T JF1F0 = DRV(p16p13) / ((PRM(p13) + ATPm) * (T(1) + exp((PRM(p14) - Psim) * DRV(inv_p15))));
    const T JHatp = T(3) * JF1F0;
    const T JHleak = PRM(p17) * Psim + PRM(p18);
    // p19 RATm/(RATm + p20) with RATm = ATPm/ADPm
    const T JANT = PRM(p19) * ATPm / (ATPm + PRM(p20) * ADPm) * exp(DRV(half_FRT) * Psim);
    const T Juni = (PRM(p21) * Psim - PRM(p22)) * c2;
    const T JNaCa = PRM(p23) * (Cam / c) * exp(PRM(p24) * Psim);
    const T Jmito = JNaCa - Juni;
    const T gam = PRM(gamma);
    const T dNADHm = gam * (JPDH - JO);
    const T dPsim = (JHres - JHatp - JANT - JHleak - JNaCa - T(2) * Juni) * DRV(inv_Cmito);
    const T dCam = -PRM(fmito) * Jmito;
    const T dADPm = gam * (JANT - JF1F0) + jgj_adpm;
    const T delta = PRM(delta);
    const T dADP = -delta * JANT + (PRM(khyd) * c + PRM(khydbas)) * ATP;

    // Calcium
    const T Jmem = -(PRM(alpha) * ICa + PRM(kPMCA) * (c - PRM(Cbas)));
    const T Jer = PRM(pleak) * (cer - c) - PRM(kSERCA) * c;
    const T dc = PRM(fcyt) * (Jmem + Jer + delta * Jmito) + jgj_c;
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
        aout[i] = ay[i] + h * d[k];
      } else if constexpr (M == Stage::rk_first) {
        aacc[i] = d[k];
        aout[i] = ay[i] + h * d[k];
      } else if constexpr (M == Stage::rk_mid) {
        aacc[i] = aacc[i] + w * d[k];
        aout[i] = ay[i] + h * d[k];
      } else {
        ay[i] = ay[i] + h * (aacc[i] + d[k]);
      }
    }
  }
}

}  // namespace isletsim::kernel
