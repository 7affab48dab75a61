#pragma once
// Right-hand side of the Cha et al. 2011 model (docs/models/cha2011.md) over
// a block of cells: one loop the compiler vectorises (see model_abi.hpp).
//
// Cost per cell evaluation: 18 exp, 2 log and 12 divisions (one of them
// shared by the two logs). The 17 exps of V in the gate rates as written
// come from 8 (e^(V/60) gives e^(V/30), e^(V/20), e^(V/12) by products;
// e^(-V/100) gives e^(-V/50); e^(-V/1000) gives e^(-V/500); the shifts V - 3
// are constant factors; e^(-0.68 u) of the exchanger is e^(0.32 u) e^(-u)),
// and quotients share reciprocals (1/(A B) gives 1/A = B/(A B) and
// 1/B = A/(A B)). The operands are bounded away from 0 and infinity over any
// physiological state, so this costs a few ulp, not range.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "model/cha2011/model.hpp"
#include "core/fastmath.hpp"
#include "model/model_abi.hpp"

namespace isletsim::cha2011 {

// Natural logarithms of two positive numbers with one division, written
// without loops or branches so the kernel's loop vectorises (fastmath::log
// has a loop and an early return, which stop GCC from vectorising a loop
// that calls it twice) and without int64 -> double conversion (none in
// AVX2). As fastmath::log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m =
// 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, series to s^23
// (truncation < 1e-19); the two quotients share one reciprocal. Error below
// 3 ulp (tested against std::log). Not positive, infinite or NaN: NaN.
[[gnu::always_inline]] inline void log2x(double x1, double x2, double& l1, double& l2) {
  constexpr std::uint64_t kOff = 0x3fe6a09e667f3bcdULL;  // bits of sqrt(1/2)
  constexpr std::uint64_t kOne = 0x3ff0000000000000ULL;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  // m and e of x (unsigned arithmetic, modulo 2^64 where it wraps).
  const auto split = [](double x, double& m, double& e) {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
    const std::uint64_t E = (bits + (kOne - kOff)) >> 52;  // biased exponent of x/sqrt(1/2)
    m = std::bit_cast<double>(bits - ((E - 1023) << 52));
    e = (std::bit_cast<double>(E | 0x4330000000000000ULL) - 0x1p52) - 1023.0;  // exact
  };
  double m1, e1, m2, e2;
  split(x1, m1, e1);
  split(x2, m2, e2);
  const double p1 = m1 + 1.0, p2 = m2 + 1.0;
  const double r = 1.0 / (p1 * p2);
  const double s1 = (m1 - 1.0) * p2 * r, s2 = (m2 - 1.0) * p1 * r;
  const auto series = [](double s, double e, double x) {
    const double z = s * s;
    double p = std::fma(z, 1.0 / 23, 1.0 / 21);
    p = std::fma(p, z, 1.0 / 19);
    p = std::fma(p, z, 1.0 / 17);
    p = std::fma(p, z, 1.0 / 15);
    p = std::fma(p, z, 1.0 / 13);
    p = std::fma(p, z, 1.0 / 11);
    p = std::fma(p, z, 1.0 / 9);
    p = std::fma(p, z, 1.0 / 7);
    p = std::fma(p, z, 1.0 / 5);
    p = std::fma(p, z, 1.0 / 3);
    const double logm = std::fma(2.0 * s * z, p, 2.0 * s);
    const double l = e * kLn2Hi + (logm + e * kLn2Lo);
    // Selects between constants only (GCC does not if-convert a select whose
    // arm is a computation for AVX2); + (x - x) is +0 for finite x and NaN
    // for infinity.
    return l + ((x > 0.0 ? 0.0 : __builtin_nan("")) + (x - x));
  };
  l1 = series(s1, e1, x1);
  l2 = series(s2, e2, x2);
}

// Derived parameters: per-cell constants computed once per run (P: the
// parameters in table order), so the loop multiplies instead of dividing.
#define ISLET_CHA2011_DERIVED(D)                                                                               \
  D(invCm, 1.0 / P[Cm])                                                                                        \
  D(RTF, kGasR * (P[celsius] + 273.15) / kFaraday)                                                             \
  D(invRTF, kFaraday / (kGasR * (P[celsius] + 273.15)))                                                        \
  D(lnKo, fastmath::log(P[Ko]))                                                                                \
  D(inv_Fvoli, 1.0 / (kFaraday * P[voli]))                                                                     \
  D(fi_voli, P[fi] / P[voli])                                                                                  \
  D(inv_voli, 1.0 / P[voli])                                                                                   \
  D(caer_c, P[fer] * P[voli] / (2.0 * P[volER]))                                                               \
  D(caer_v, P[Cm] / (kFaraday * P[voli]))                                                                      \
  D(caer_ca, 2.0 / P[fi])                                                                                      \
  D(soc_b, -P[KCaer] / 0.003)                                                                                  \
  D(PCaL_Na, P[RCaLNa] * P[PCaL])                                                                              \
  D(PCaL_K, P[RCaLK] * P[PCaL])                                                                                \
  D(lnKdKslow, fastmath::log(P[KdKslow]))                                                                      \
  D(lnKTRPM, fastmath::log(P[KTRPM]))                                                                          \
  D(pTRPM_Na, P[pTRPM] * P[RNa_K_TRPM])                                                                        \
  D(PSOC_Na, P[PSOC] * P[RNa_K_SOC])                                                                           \
  D(PSOC_Ca, 20.0 * P[PSOC])                                                                                   \
  D(inv_kdd, 1.0 / P[kdd])                                                                                     \
  D(c_ktd, 0.45 / P[ktd])                                                                                      \
  D(inv_ktt, 1.0 / P[ktt])                                                                                     \
  D(K_PMCA2, P[K_PMCA] * P[K_PMCA])                                                                            \
  D(KCarp2, P[KCarp] * P[KCarp])                                                                               \
  D(Kop2, P[Kop] * P[Kop])                                                                                     \
  D(KdNai3, P[KdNai] * P[KdNai] * P[KdNai])                                                                    \
  D(inv_KdNai3, 1.0 / (P[KdNai] * P[KdNai] * P[KdNai]))                                                        \
  D(inv_KdCai, 1.0 / P[KdCai])                                                                                 \
  D(pE2Na, 1.0 / (1.0 + cube(P[KdNao] / P[Nao]) * (1.0 + P[Cao] / P[KdCao])))                                  \
  D(k4_pE2Ca, P[k4] / (1.0 + P[KdCao] / P[Cao] * (1.0 + cube(P[Nao] / P[KdNao]))))                             \
  D(Nao_Kd, P[Nao] / P[Kd_Nao0])                                                                               \
  D(Ko_Kd, P[Ko] / P[Kd_Ko0])                                                                                  \
  D(inv_Kd_Nai0, 1.0 / P[Kd_Nai0])                                                                             \
  D(inv_Kd_Ki0, 1.0 / P[Kd_Ki0])                                                                               \
  D(inv_Kd_MgATP, 1.0 / P[Kd_MgATP])                                                                           \
  D(k3m_PiH, P[k3_minus] * P[Pii] * P[Proton])                                                                 \
  D(lnKg, fastmath::log(P[Kg]))                                                                                \
  D(Rvol_Stoichi, P[Rvol] / P[Stoichi])                                                                        \
  D(kADPb055, 0.55 * P[kADPb])

ISLET_MODEL_DERIVED_ENUM(ISLET_CHA2011_DERIVED)

// Derived values of one cell from its parameter values P[kNumParams].
inline void derive(const double* P, double* out) {
  const auto cube = [](double x) { return x * x * x; };
  ISLET_MODEL_DERIVED_ASSIGN(ISLET_CHA2011_DERIVED)
}

// Rows of the input block.
constexpr std::size_t kRowDerived = kNumParams;
constexpr std::size_t kRowGapV = kRowDerived + derived::kNumDerived;

// The body (model_abi.hpp). stim: glucose G in mM. The one coupling row is
// gV sum_j w_ij (V_i - V_j) in pS mV = fA: a non-specific current (1e-3 pA
// per fA) that changes V only, not the ion concentrations.
template <class T, model_abi::Stage M, int Variant>
[[gnu::always_inline]] inline void body(std::size_t n, const T* __restrict st, const T* __restrict in, T stim,
                                        const model_abi::StageArgs<T>& a) {
  using fastmath::exp;
  using fastmath::log;
  using model_abi::kBlock;
  using std::fma;
  // Glucose is the same for every cell: its two places (the Na/K pump
  // factor, and G^hgl in the glycolytic flux) are computed once per call.
  const T G = stim;
  const T glu_on = G > T(0) ? T(1) : T(0);  // fGlu = 0 at G = 0 (G^hgl -> 0)
  const T lnG = G > T(0) ? log(G) : T(0);
  const T nak_glu = fma(T(0.6), exp(G * T(-1.0 / 5.84)), T(0.4));
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
#define STATE(name) st[std::size_t{State::name} * kBlock + j]
#define PRM(name) in[std::size_t{Param::name} * kBlock + j]
#define DRV(name) in[(kRowDerived + std::size_t{derived::name}) * kBlock + j]
    const T V = STATE(V), Nai = STATE(Nai), Ki = STATE(Ki), Cai = STATE(Cai);
    const T ATP = STATE(ATP), MgADP = STATE(MgADP), Re = STATE(Re);
    const T d = STATE(d_CaL), U = STATE(U_CaL), fus_ = STATE(fus), r = STATE(r_KDr), q = STATE(q_KDr);
    const T m = STATE(m_Kto), h = STATE(h_Kto), E1 = STATE(E1_tota), I1_ = STATE(I1), I2_ = STATE(I2);
    const T igap = in[kRowGapV * kBlock + j];  // fA

    // Logs and the concentration-dependent exps first: long dependency
    // chains the out-of-order window overlaps with the rest.
    T lnCai, lnKi;
    log2x(Cai, Ki, lnCai, lnKi);
    const T eT = exp(T(1.7) * (DRV(lnKTRPM) - lnCai));         // (KTRPM/Cai)^1.7
    const T eS = exp(PRM(nKslow) * (DRV(lnKdKslow) - lnCai));  // (KdKslow/Cai)^nKslow
    const T eG = exp(PRM(hgl) * (DRV(lnKg) - lnG));            // (Kg/G)^hgl
    // ER Ca2+ from the conservation law (its reference values are parameters).
    const T Caer = fma(DRV(caer_c),
                       fma(DRV(caer_v), V - PRM(Voltage0), -(Nai - PRM(Nai0)) - (Ki - PRM(Ki0))) -
                           DRV(caer_ca) * (Cai - PRM(Cai0)),
                       PRM(CaER0));
    const T eSOC = exp(fma(Caer, T(1.0 / 0.003), DRV(soc_b)));

    // Constant-field (GHK) factors: x/(1 - e^-x) and 2x/(1 - e^-2x) =
    // 2x/((1 - e^-x)(1 + e^-x)) from one division; for |x| < 1e-3 their
    // series instead (the limit 1 at V = 0; error there < 3e-14 relative).
    // Blended arithmetically (w = 0 or 1, a select between constants), not
    // by selecting computed values: that keeps the loop free of branches.
    const T x = V * DRV(invRTF);
    const T em = exp(-x);
    const T em2 = em * em;
    const T den1 = T(1) - em, den2 = T(1) + em;
    const T w = std::fabs(x) < T(1e-3) ? T(1) : T(0);
    const T rg = T(1) / fma(den1, den2, w);  // w keeps 0/0 away from V = 0
    const T ex1 = x * den2 * rg, ex2 = T(2) * x * rg;
    const T g1 = fma(w, fma(x, fma(x, T(1.0 / 12.0), T(0.5)), T(1)) - ex1, ex1);
    const T g2 = fma(w, fma(x, fma(x, T(1.0 / 3.0), T(1)), T(1)) - ex2, ex2);
    const T PhiNa = g1 * fma(-PRM(Nao), em, Nai);
    const T PhiK = g1 * fma(-PRM(Ko), em, Ki);
    const T PhiCa = g2 * fma(-PRM(Cao), em2, Cai);

    // Gate rates from 8 exps of V (see the header comment).
    const T E60 = exp(V * T(1.0 / 60.0));
    const T E100m = exp(V * T(-0.01));
    const T E1000m = exp(V * T(-0.001));
    const T E600m = exp(V * T(-1.0 / 600.0));
    const T E34m = exp(V * T(-1.0 / 34.0));
    const T E19m = exp(V * T(-1.0 / 19.0));
    const T E8m = exp(V * T(-0.125));
    const T E9m = exp(V * T(-1.0 / 9.0));
    const T E60_2 = E60 * E60;
    // d_CaL: alpha = 1/A_d, beta = 1/B_d (e^(-(V-3)/50) = e^0.06 e^(-V/50) etc.)
    const T A_d = fma(T(0.88 * 1.0618365465453596), E100m * E100m, T(0.09 * 1.005012520859401) * E600m);
    const T B_d = fma(T(5.48 * 0.7788007830714049), E60_2 * E60_2 * E60, T(1.245 * 0.9048374180359595) * E60_2);
    // r_KDr: alpha = 1.1/A_r, beta = 1.1/(25 e^(V/100)) = 0.044 e^(-V/100)
    const T A_r = fma(T(25.0 * 1.4549914146182013), E8m, T(1.030454533953517) * E100m);
    const T beta_r = T(0.044) * E100m;
    const T AB_d = A_d * B_d;
    const T R_dr = T(1) / (AB_d * A_r);
    const T dd = fma(T(1) - d, B_d, -d * A_d) * A_r * R_dr;
    const T dr = fma(T(1.1), T(1) - r, -beta_r * r * A_r) * AB_d * R_dr;
    // fus: alpha = e^(-V/34)/75000, beta = 1/B_us; q_KDr: alpha = 1/800, beta = 1/B_q
    const T B_us = fma(T(5000), E19m, T(500) * E100m);
    const T B_q = fma(T(1000), E8m, T(100) * E100m);
    const T R_fq = T(1) / (B_us * B_q);
    const T dfus = fma(E34m * T(1.0 / 75000.0), T(1) - fus_, -fus_ * B_q * R_fq);
    const T dq = fma(T(1.0 / 800.0), T(1) - q, -q * B_us * R_fq);
    // m_Kto: alpha = (0.4/5.46) e^(V/20), beta = (0.4/2.48)/e^(V/60);
    // h_Kto: alpha = (1.7/969) e^(-V/500), beta = 1.7/B_h
    const T B_h = fma(T(13.2), E9m, T(6.93) * E1000m);
    const T R_mh = T(1) / (E60 * B_h);
    const T dm = fma(T(0.4 / 5.46) * E60_2 * E60, T(1) - m, -T(0.4 / 2.48) * m * B_h * R_mh);
    const T dh = fma(T(1.7 / 969.0) * E1000m * E1000m, T(1) - h, -T(1.7) * h * E60 * R_mh);

    // L-type Ca channel: RundownATP = ATP^3/(ATP^3 + 1.4^3), with the K_ATP
    // open probability's denominator on one division.
    const T ATP3 = ATP * ATP * ATP;
    const T den_run = ATP3 + T(1.4 * 1.4 * 1.4);
    const T aa = MgADP * DRV(inv_kdd);
    const T num_katp = fma(aa, fma(aa, T(0.89), T(0.16)), T(0.08));
    const T one_aa = T(1) + aa;
    const T den_katp = one_aa * one_aa * fma(MgADP, DRV(c_ktd), fma(ATP, DRV(inv_ktt), T(1)));
    const T R_ak = T(1) / (den_run * den_katp);
    const T rundown = ATP3 * den_katp * R_ak;
    const T pO_katp = num_katp * den_run * R_ak;
    const T d2 = d * d;
    const T pO = d2 * U * fma(T(0.6), fus_, T(0.4)) * rundown;
    const T dU = fma(T(0.0084), T(1) - U, -T(0.2318) * fma(T(-1.15 * 0.0676) * d2, PhiCa, Cai) * U);

    // Ca2+-activated channels and the store-operated current, one division
    const T one_eT = T(1) + eT, one_eS = T(1) + eS, one_eSOC = T(1) + eSOC;
    const T eTS = one_eT * one_eS;
    const T R_ca = T(1) / (eTS * one_eSOC);
    const T Po_soc = eTS * R_ca;
    const T Po_trpm = one_eS * one_eSOC * R_ca;
    const T f_kslow = one_eT * one_eSOC * R_ca;

    // PMCA and SERCA
    const T c2 = Cai * Cai;
    const T dp = c2 + DRV(K_PMCA2), ds = c2 + DRV(KCarp2);
    const T R_ps = T(1) / (dp * ds);
    const T I_PMCA = PRM(P_PMCA) * c2 * ds * R_ps;
    const T Jserca = PRM(PCaER) * c2 * dp * R_ps;

    // Na/K pump (Num/Den of its cycle), the glucose factor nak_glu
    const T u = x;
    const T ni = Nai * DRV(inv_Kd_Nai0) * exp(-PRM(delta_Nai) * u);
    const T ki = Ki * DRV(inv_Kd_Ki0) * exp(-PRM(delta_Ki) * u);
    const T no = DRV(Nao_Kd) * exp(-PRM(delta_Nao) * u);
    const T ko = DRV(Ko_Kd) * exp(-PRM(delta_Ko) * u);
    const T ni1 = T(1) + ni, ki1 = T(1) + ki, no1 = T(1) + no, ko1 = T(1) + ko;
    const T Di = fma(ni1 * ni1, ni1, fma(ki1, ki1, T(-1)));
    const T Do = fma(no1 * no1, no1, fma(ko1, ko1, T(-1)));
    const T s = ATP * DRV(inv_Kd_MgATP);
    const T s1 = T(1) + s;
    const T DiDo = Di * Do;
    const T R_n = T(1) / (DiDo * s1);
    const T iDi = Do * s1 * R_n, iDo = Di * s1 * R_n, rs = DiDo * R_n;
    const T a1p = PRM(k1_plus) * ni * ni * ni * iDi;
    const T a2p = PRM(k2_plus);
    const T a3p = PRM(k3_plus) * ko * ko * iDo;
    const T a4p = PRM(k4_plus) * s * rs;
    const T a1m = PRM(k1_minus) * MgADP;
    const T a2m = PRM(k2_minus) * no * no * no * iDo;
    const T a3m = DRV(k3m_PiH) * rs;
    const T a4m = PRM(k4_minus) * ki * ki * iDi;
    const T a1 = a1m + a1p, a2 = a2p + a2m, a3 = a3p + a3m, a4 = a4p + a4m;
    const T den_nak = a1 * a2m * a3m + a1p * a2p * a3 + a2p * a3p * a4 + a2 * a3m * a4m + a1 * a3p * a4p +
                      a1m * a3 * a4m + a1p * a2 * a4p + a1m * a2m * a4;
    const T num_nak = fma(a1p * a2p, a3p * a4p, -(a1m * a2m) * (a3m * a4m));
    const T I_NaK = PRM(PNaK) * nak_glu * num_nak / den_nak;

    // Na/Ca exchanger: pE1Na, pE1Ca and fCa on one division
    const T Nai3 = Nai * Nai * Nai;
    const T N1 = fma(DRV(KdNai3), fma(Cai, DRV(inv_KdCai), T(1)), Nai3);
    const T N2 = fma(PRM(KdCai), fma(Nai3, DRV(inv_KdNai3), T(1)), Cai);
    const T N3 = Cai + T(0.004);
    const T N12 = N1 * N2;
    const T R_x = T(1) / (N12 * N3);
    const T pE1Na = Nai3 * N2 * N3 * R_x;
    const T pE1Ca = Cai * N1 * N3 * R_x;
    const T fCa = Cai * N12 * R_x;
    const T k1 = exp(T(0.32) * x);
    const T k2 = k1 * em;  // e^(-0.68 x)
    const T alpha1 = pE1Na * fma(fCa, T(0.002 - 0.0015), T(0.0015));
    const T beta1 = fma(fCa, T(0.0012 - 5e-7), T(5e-7));
    const T alpha2 = fma(fCa, T(3e-5 - 0.01), T(0.01));
    const T beta2 = fma(fCa, T(0.09 - 1e-4), T(1e-4));
    const T kf = fma(k2, DRV(pE2Na), DRV(k4_pE2Ca));
    const T kb = fma(k1, pE1Na, PRM(k3) * pE1Ca);
    const T E2 = T(1) - E1 - I1_ - I2_;
    const T k1pE1Na = k1 * pE1Na;
    const T I_NaCa = PRM(AmpINaCa) * fma(k1pE1Na, E1, -k2 * DRV(pE2Na) * E2);
    const T dE1 = fma(kf, E2, fma(beta1, I1_, beta2 * I2_)) - (kb + alpha1 + alpha2) * E1;
    const T dI1 = fma(alpha1, E1, -beta1 * I1_);
    const T dI2 = fma(alpha2, E1, -beta2 * I2_);

    // Currents (pA), gathered by driving factor
    const T EK = DRV(RTF) * (DRV(lnKo) - lnKi);
    const T P_Na = PRM(pIbNSC) + DRV(pTRPM_Na) * Po_trpm + DRV(PCaL_Na) * pO + DRV(PSOC_Na) * Po_soc;
    const T P_K = PRM(pIbNSC_K) + PRM(pKDr) * r * fma(T(0.6), q, T(0.4)) + PRM(pTRPM) * Po_trpm +
                  DRV(PCaL_K) * pO + PRM(PKslow) * f_kslow + PRM(PSOC) * Po_soc;
    const T P_Ca = fma(PRM(PCaL), pO, DRV(PSOC_Ca) * Po_soc);
    const T G_K = fma(PRM(GKto), m * h, PRM(gKATP) * pO_katp);
    const T I_Na = fma(T(3), I_NaK + I_NaCa, fma(P_Na, PhiNa, -I_PMCA));
    const T I_K = fma(T(-2), I_NaK, fma(P_K, PhiK, G_K * (V - EK)));
    const T I_Ca = fma(T(2), I_PMCA - I_NaCa, P_Ca * PhiCa);
    const T dV = -(I_Na + I_K + I_Ca + T(1e-3) * igap) * DRV(invCm);
    const T dNai = -I_Na * DRV(inv_Fvoli);
    const T dKi = -I_K * DRV(inv_Fvoli);
    const T Jout = PRM(Pleak) * (Caer - Cai);
    const T dCai = DRV(fi_voli) * (fma(I_Ca, T(-0.5 / kFaraday), Jout) - Jserca);

    // Metabolism: JOP and fGlu on one division
    const T mg2 = MgADP * MgADP;
    const T dop = mg2 + DRV(Kop2);
    const T dglu = (PRM(KmATP) + ATP) * (T(1) + eG);
    const T R_jf = T(1) / (dop * dglu);
    const T JOP = PRM(Pop) * Re * mg2 * dglu * R_jf;
    const T fGlu = glu_on * ATP * dop * R_jf;
    const T dATP = JOP - fma(I_NaK + I_PMCA, T(1.0 / kFaraday), T(0.5) * Jserca) * DRV(inv_voli) -
                   fma(PRM(kATPCa), Cai, PRM(kATP)) * ATP;
    const T ADPb = PRM(totalATP) - ATP - MgADP * T(1.0 / 0.55);
    const T dMgADP = fma(T(-0.55), dATP, fma(DRV(kADPb055), ADPb, -PRM(kADPf) * MgADP));
    const T dRe = fma(fma(PRM(KRe), fGlu, PRM(Kfa)), PRM(Nt) - Re, -JOP * DRV(Rvol_Stoichi));
#undef DRV
#undef PRM
#undef STATE
    using model_abi::store;
    store<M>(a, 0 * kBlock + j, dV);
    store<M>(a, 1 * kBlock + j, dNai);
    store<M>(a, 2 * kBlock + j, dKi);
    store<M>(a, 3 * kBlock + j, dCai);
    store<M>(a, 4 * kBlock + j, dATP);
    store<M>(a, 5 * kBlock + j, dMgADP);
    store<M>(a, 6 * kBlock + j, dRe);
    store<M>(a, 7 * kBlock + j, dd);
    store<M>(a, 8 * kBlock + j, dU);
    store<M>(a, 9 * kBlock + j, dfus);
    store<M>(a, 10 * kBlock + j, dr);
    store<M>(a, 11 * kBlock + j, dq);
    store<M>(a, 12 * kBlock + j, dm);
    store<M>(a, 13 * kBlock + j, dh);
    store<M>(a, 14 * kBlock + j, dE1);
    store<M>(a, 15 * kBlock + j, dI1);
    store<M>(a, 16 * kBlock + j, dI2);
  }
}

}  // namespace isletsim::cha2011
