#pragma once
// The Dormand-Prince 5(4) embedded Runge-Kutta pair as data (Dormand and
// Prince 1980, doi:10.1016/0771-050X(80)90013-3): the stage coefficients,
// the 5th-order weights the step goes on with, the weights of its error
// estimate (5th minus 4th order) and the coefficients of its continuous
// extension (Shampine 1986, doi:10.1090/S0025-5718-1986-0815836-3: 4th-order
// dense output, the form Hairer's DOPRI5 and SciPy's RK45 use). The seventh
// stage is evaluated at the new state ("first same as last"): it is the next
// step's first stage.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/fastmath.hpp"

namespace isletsim::engine::dopri5 {

constexpr int kStages = 7;

// One term of a stage sum: coefficient `c` times stage `k` (0-based).
struct Term {
  int k;
  double c;
};

// Stage s (1..5 here: stages 2..6 of the method) takes y + h * sum of these.
// Index: the stage whose input is built (1 = the second stage).
inline constexpr std::array<Term, 1> kA1{{{0, 1.0 / 5.0}}};
inline constexpr std::array<Term, 2> kA2{{{0, 3.0 / 40.0}, {1, 9.0 / 40.0}}};
inline constexpr std::array<Term, 3> kA3{{{0, 44.0 / 45.0}, {1, -56.0 / 15.0}, {2, 32.0 / 9.0}}};
inline constexpr std::array<Term, 4> kA4{
    {{0, 19372.0 / 6561.0}, {1, -25360.0 / 2187.0}, {2, 64448.0 / 6561.0}, {3, -212.0 / 729.0}}};
inline constexpr std::array<Term, 5> kA5{{{0, 9017.0 / 3168.0},
                                          {1, -355.0 / 33.0},
                                          {2, 46732.0 / 5247.0},
                                          {3, 49.0 / 176.0},
                                          {4, -5103.0 / 18656.0}}};
// The new state (5th order); stage 2's weight is 0.
inline constexpr std::array<Term, 5> kB{
    {{0, 35.0 / 384.0}, {2, 500.0 / 1113.0}, {3, 125.0 / 192.0}, {4, -2187.0 / 6784.0}, {5, 11.0 / 84.0}}};
// The error estimate: 5th- minus 4th-order weights, over all seven stages.
inline constexpr std::array<Term, 6> kE{{{0, 71.0 / 57600.0},
                                         {2, -71.0 / 16695.0},
                                         {3, 71.0 / 1920.0},
                                         {4, -17253.0 / 339200.0},
                                         {5, 22.0 / 525.0},
                                         {6, -1.0 / 40.0}}};
// Stage times as fractions of the step (the last two are the step's end).
inline constexpr std::array<double, kStages> kC{0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0};

// Dense output: y(t + theta h) = y + h * sum_i Q_i(theta) k_i with
// Q_i(theta) = sum_j kP[i][j] theta^(j+1) (stage 2's row is 0).
inline constexpr double kP[kStages][4] = {
    {1.0, -8048581381.0 / 2820520608.0, 8663915743.0 / 2820520608.0, -12715105075.0 / 11282082432.0},
    {0.0, 0.0, 0.0, 0.0},
    {0.0, 131558114200.0 / 32700410799.0, -68118460800.0 / 10900136933.0, 87487479700.0 / 32700410799.0},
    {0.0, -1754552775.0 / 470086768.0, 14199869525.0 / 1410260304.0, -10690763975.0 / 1880347072.0},
    {0.0, 127303824393.0 / 49829197408.0, -318862633887.0 / 49829197408.0, 701980252875.0 / 199316789632.0},
    {0.0, -282668133.0 / 205662961.0, 2019193451.0 / 616988883.0, -1453857185.0 / 822651844.0},
    {0.0, 40617522.0 / 29380423.0, -110615467.0 / 29380423.0, 69997945.0 / 29380423.0}};

inline std::array<double, kStages> dense_weights(double theta) {
  std::array<double, kStages> q{};
  for (int i = 0; i < kStages; ++i)
    q[i] = theta * std::fma(theta, std::fma(theta, std::fma(theta, kP[i][3], kP[i][2]), kP[i][1]), kP[i][0]);
  return q;
}

// Step-size control: a PI controller on the error norm (max over cells and
// states of |error| / (tolerance x (scale + |y|)); accept when <= 1),
// Gustafsson's form with Hairer's DOPRI5 constants.
// Powers through the project's exp and log: the same bits on every CPU
// (libm's pow may differ between its FMA and non-FMA versions).
inline double power(double x, double a) { return fastmath::exp(a * fastmath::log(x)); }

struct Controller {
  static constexpr double kSafety = 0.9, kMinFac = 0.2, kMaxFac = 10.0, kBeta = 0.04;
  static constexpr double kAlpha = 0.2 - 0.75 * kBeta;  // 1/5 - 0.75 beta
  double err_old = 1e-4;
  // The factor for the next step after an accepted step with error `err`
  // (rejected_before: this step had a rejection: do not grow).
  double accepted(double err, bool rejected_before) {
    const double e = std::max(err, 1e-10);
    double fac = kSafety * power(e, -kAlpha) * power(err_old, kBeta);
    fac = std::clamp(fac, kMinFac, rejected_before ? 1.0 : kMaxFac);
    err_old = std::max(err, 1e-4);
    return fac;
  }
  // After a rejected step (err > 1, or not finite).
  double rejected(double err) const {
    if (!(err < 1e300)) return kMinFac;
    return std::max(kMinFac, kSafety * power(err, -0.2));
  }
};

}  // namespace isletsim::engine::dopri5
