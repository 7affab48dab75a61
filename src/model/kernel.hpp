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

struct BlockInputs {
  const double* s[bertram::kNumStates];
  const double* p[bertram::kNumParams];
  // Gap-junction terms: Igj (fA), Jgj_c (uM/ms), Jgj_G6P (uM/ms), Jgj_ADPm (mM/ms).
  const double* igj;
  const double* jgj_c;
  const double* jgj_g6p;
  const double* jgj_adpm;
  double gk_factor;  // glucokinase factor from the glucose protocol (1 = JGK as given)
};

inline void rhs(std::size_t n, const BlockInputs& in, double* const* dout) {
  using namespace bertram;
  using fastmath::exp;
  // Every array as a local restrict pointer, so the loop body holds only
  // contiguous loads and stores and vectorizes.
#define X(name, unit, value, doc) const double* __restrict s_##name = in.s[State::name];
#include "model/bertram2007_states.inc"
#undef X
#define X(name, unit, value, doc) const double* __restrict p_##name = in.p[Param::name];
#include "model/bertram2007_table.inc"
#undef X
#define X(name, unit, value, doc) double* __restrict d_##name = dout[State::name];
#include "model/bertram2007_states.inc"
#undef X
  const double* __restrict igj = in.igj;
  const double* __restrict jgj_c = in.jgj_c;
  const double* __restrict jgj_g6p = in.jgj_g6p;
  const double* __restrict jgj_adpm = in.jgj_adpm;
  const double gkf = in.gk_factor;
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
    const double V = s_V[j], nn = s_n[j], G6P = s_G6P[j];
    const double FBP = s_FBP[j], NADHm = s_NADHm[j], Psim = s_Psim[j];
    const double Cam = s_Cam[j], ADPm = s_ADPm[j], ADP = s_ADP[j];
    const double c = s_c[j], cer = s_cer[j];
#define PRM(name) p_##name[j]
    // Electrical
    const double n_inf = 1.0 / (1.0 + exp(-(16.0 + V) / 5.0));
    const double m_inf = 1.0 / (1.0 + exp(-(20.0 + V) / 12.0));
    const double VK = PRM(VK);
    const double IK = PRM(gK) * nn * (V - VK);
    const double ICa = PRM(gCa) * m_inf * (V - PRM(VCa));
    const double c2 = c * c;
    const double kD = PRM(kD);
    const double IKCa = PRM(gKCa) * c2 / (c2 + kD * kD) * (V - VK);
    const double ATP = PRM(atot) - ADP;
    const double MgADP = 0.165 * ADP;
    const double ADP3m = 0.135 * ADP;
    const double ATP4m = 0.05 * ATP;
    const double mg = MgADP / 17.0;
    const double o_inf = (0.08 * (1.0 + 2.0 * mg) + 0.89 * (mg * mg)) /
                         ((1.0 + mg) * (1.0 + mg) * (1.0 + ADP3m / 26.0 + ATP4m));
    const double IKATP = PRM(gKATP) * o_inf * (V - VK);
    const double dV = -(IK + ICa + IKCa + IKATP + igj[j]) / PRM(Cm);
    const double dn = (n_inf - nn) / PRM(tau_n);

    // Glycolysis: PFK after Smolen 1995, w(i,j,k,l) enumerated.
    const double F6P = 0.3 * G6P;
    const double JGPDH = PRM(kGPDH) * __builtin_sqrt(FBP);
    const double a = PRM(AMP) / PRM(k1);
    const double b = FBP / PRM(k2);
    const double f = F6P * F6P / PRM(k3);
    const double t = ATP * ATP / PRM(k4);
    const double f13 = PRM(f13), f23 = PRM(f23), f41 = PRM(f41), f42 = PRM(f42), f43 = PRM(f43);
    const double w1000 = a, w0100 = b, w1100 = a * b, w0001 = t;
    const double w1001 = a * t / f41, w0101 = b * t / f42, w1101 = a * b * t / (f41 * f42);
    const double w0010 = f, w1010 = a * f / f13, w0110 = b * f / f23;
    const double w1110 = a * b * f / (f13 * f23);
    const double w0011 = f * t / f43;
    const double w1011 = a * f * t / (f13 * f41 * f43);
    const double w0111 = b * f * t / (f23 * f42 * f43);
    const double w1111 = a * b * f * t / (f13 * f23 * f41 * f42 * f43);
    const double topa = w0010 + w1010 + w0110 + w0011 + w1011 + w0111 + w1111;
    const double bottom = 1.0 + w1000 + w0100 + w1100 + w0001 + w1001 + w0101 + w1101 + topa + w1110;
    const double JPFK = PRM(VmaxPFK) * (PRM(lambda) * topa + w1110) / bottom;
    const double kappa = PRM(kappa);
    const double dG6P = kappa * (PRM(JGK) * gkf - JPFK) + jgj_g6p[j];
    const double dFBP = kappa * JPFK - 0.5 * JGPDH;

    // Mitochondria
    const double NADm = PRM(NADmtot) - NADHm;
    const double ATPm = PRM(Amtot) - ADPm;
    const double JPDH = PRM(p1) / (PRM(p2) + NADHm / NADm) * Cam / (PRM(p3) + Cam) *
                        (JGPDH + PRM(JGPDHbas));
    const double JO = PRM(p4) * NADHm / (PRM(p5) + NADHm) / (1.0 + exp((Psim - PRM(p6)) / PRM(p7)));
    const double JHres =
        PRM(p8) * NADHm / (PRM(p9) + NADHm) / (1.0 + exp((Psim - PRM(p10)) / PRM(p11)));
    const double p13 = PRM(p13);
    const double JF1F0 = PRM(p16) * p13 / (p13 + ATPm) / (1.0 + exp((PRM(p14) - Psim) / PRM(p15)));
    const double JHatp = 3.0 * JF1F0;
    const double JHleak = PRM(p17) * Psim + PRM(p18);
    const double RATm = ATPm / ADPm;
    const double JANT = PRM(p19) * RATm / (RATm + PRM(p20)) * exp(0.5 * PRM(FRT) * Psim);
    const double Juni = (PRM(p21) * Psim - PRM(p22)) * c2;
    const double JNaCa = PRM(p23) * (Cam / c) * exp(PRM(p24) * Psim);
    const double Jmito = JNaCa - Juni;
    const double gam = PRM(gamma);
    const double dNADHm = gam * (JPDH - JO);
    const double dPsim = (JHres - JHatp - JANT - JHleak - JNaCa - 2.0 * Juni) / PRM(Cmito);
    const double dCam = -PRM(fmito) * Jmito;
    const double dADPm = gam * (JANT - JF1F0) + jgj_adpm[j];
    const double delta = PRM(delta);
    const double dADP = -delta * JANT + (PRM(khyd) * c + PRM(khydbas)) * ATP;

    // Calcium
    const double Jmem = -(PRM(alpha) * ICa + PRM(kPMCA) * (c - PRM(Cbas)));
    const double Jer = PRM(pleak) * (cer - c) - PRM(kSERCA) * c;
    const double dc = PRM(fcyt) * (Jmem + Jer + delta * Jmito) + jgj_c[j];
    const double dcer = -PRM(fer) * PRM(Vc_Ver) * Jer;
#undef PRM
    d_V[j] = dV, d_n[j] = dn, d_G6P[j] = dG6P, d_FBP[j] = dFBP, d_NADHm[j] = dNADHm, d_Psim[j] = dPsim;
    d_Cam[j] = dCam, d_ADPm[j] = dADPm, d_ADP[j] = dADP, d_c[j] = dc, d_cer[j] = dcer;
  }
}

}  // namespace isletsim::kernel
