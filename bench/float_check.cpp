// Would a single-precision option pass the engine's reference checks? (issue
// 3, item 5; experiment: the engine itself stays double.)
//
// One default cell (fixed JGK, uncoupled), integrated by this program's own
// Euler and RK4 loops (the same update formulas as the engine) around the
// cell kernel on a one-cell block, in three variants:
//   double: states, updates and kernel in double (control: must reproduce the
//           engine's Reference.* numbers);
//   mixed:  states and the y + dt*k updates in double, the kernel in float
//           (inputs converted to float per call, derivatives back to double);
//   float:  states, updates and kernel in float;
//   d->f32: (diagnostic) all double, but each derivative rounded to float.
// Checks, as tests/unit/test_model.cpp: Euler dt = 0.1 ms over 20 s against
// the Euler reference events (every spike up-crossing within 0.2 ms); RK4
// dt = 0.5 ms over 60 s against the accurate events (same spike count, every
// spike within 2 ms; calcium peaks same count, within 2 ms).
// Then times the double and the float kernel on one 64-cell block in L1.
// Usage: float_check
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/model.hpp"
#include "model/bertram2007/kernel.hpp"

namespace bertram = isletsim::bertram2007;
namespace kernel = isletsim::bertram2007::kernel;
#include "test_support.hpp"

using namespace isletsim;
using Clock = std::chrono::steady_clock;
constexpr std::size_t B = kernel::kBlock;
constexpr int NS = bertram2007::kNumStates;

namespace {

// A scratch block of real type K with the default parameters in every column.
template <class K>
std::vector<K> default_block() {
  std::vector<K> in(kernel::kRows * B, K(0));
  std::vector<double> P(bertram2007::kNumParams), D(kernel::derived::kNumDerived);
  for (int k = 0; k < bertram2007::kNumParams; ++k) P[k] = model_params()[k].default_value;
  kernel::derive(P.data(), D.data());  // in double, then rounded to K
  for (int k = 0; k < bertram2007::kNumParams; ++k)
    for (std::size_t j = 0; j < B; ++j) in[(kernel::kRowParam + k) * B + j] = K(P[k]);
  for (int k = 0; k < kernel::derived::kNumDerived; ++k)
    for (std::size_t j = 0; j < B; ++j) in[(kernel::kRowDerived + k) * B + j] = K(D[k]);
  return in;
}

void rhs(std::size_t n, const double* st, const double* in, double gkf, double* out) {
  kernel::rhs(n, st, in, gkf, out);
}
void rhs(std::size_t n, const float* st, const float* in, float gkf, float* out) {
  kernel::rhs_float(n, st, in, gkf, out);
}

struct Trace {
  std::vector<double> t_ms, V, c;
  double absorbed[NS] = {};  // share of steps whose update left the state unchanged although d != 0
};

// S: type of the states and of the updates; K: type of the kernel.
// RoundOut: round the derivatives to float (diagnostic: is the kernel's float
// arithmetic the problem, or already the rounding of its result?).
template <class S, class K, bool RoundOut = false>
Trace simulate(bool rk4, double dt_ms, double duration_ms) {
  std::vector<K> in = default_block<K>(), st(NS * B), out(NS * B);
  const auto f = [&](const S* y, S* d) {
    for (int k = 0; k < NS; ++k) st[k * B] = K(y[k]);
    rhs(1, st.data(), in.data(), K(1), out.data());
    for (int k = 0; k < NS; ++k) d[k] = RoundOut ? S(float(out[k * B])) : S(out[k * B]);
  };
  S y[NS], d[NS], acc[NS], a[NS], b[NS];
  for (int k = 0; k < NS; ++k) y[k] = S(model_states()[k].initial);
  const auto n_steps = static_cast<std::uint64_t>(duration_ms / dt_ms + 0.5);
  const S dt = S(dt_ms), h2 = S(0.5) * dt, h6 = dt / S(6);
  Trace tr;
  std::uint64_t lost[NS] = {};
  for (std::uint64_t s = 0;; ++s) {
    tr.t_ms.push_back(static_cast<double>(s) * dt_ms * 1e-3 * 1e3);  // as the engine records, then the tests
    tr.V.push_back(double(y[bertram2007::State::V]));
    tr.c.push_back(double(y[bertram2007::State::c]));
    if (s == n_steps) break;
    S y0[NS];
    std::copy(y, y + NS, y0);
    if (!rk4) {
      f(y, d);
      for (int k = 0; k < NS; ++k) y[k] = y[k] + dt * d[k];
    } else {
      f(y, d);
      for (int k = 0; k < NS; ++k) acc[k] = d[k], a[k] = y[k] + h2 * d[k];
      f(a, d);
      for (int k = 0; k < NS; ++k) acc[k] += S(2) * d[k], b[k] = y[k] + h2 * d[k];
      f(b, d);
      for (int k = 0; k < NS; ++k) acc[k] += S(2) * d[k], a[k] = y[k] + dt * d[k];
      f(a, d);
      for (int k = 0; k < NS; ++k) y[k] = y[k] + h6 * (acc[k] + d[k]);
    }
    for (int k = 0; k < NS; ++k) lost[k] += (y[k] == y0[k]);
  }
  for (int k = 0; k < NS; ++k) tr.absorbed[k] = double(lost[k]) / double(n_steps);
  return tr;
}

struct Cmp {
  std::size_t got, want, within;
  double worst;  // over matched indices
  bool pass;
};
Cmp compare(const std::vector<double>& got, std::vector<double> want, double t_max, double tol) {
  std::erase_if(want, [&](double x) { return x > t_max; });
  Cmp r{got.size(), want.size(), 0, 0, false};
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const double e = std::abs(got[i] - want[i]);
    r.worst = std::max(r.worst, e);
    r.within += e <= tol;
  }
  r.pass = got.size() == want.size() && r.within == want.size();
  return r;
}
std::string fmt(const Cmp& c) {
  char s[96];
  std::snprintf(s, sizeof s, "%zu/%zu in tol, n=%zu (%.4f ms)%s", c.within, c.want, c.got, c.worst,
                c.pass ? "" : " FAIL");
  return s;
}

template <class K>
double kernel_ns() {
  std::vector<K> in = default_block<K>(), st(NS * B), out(NS * B);
  for (int k = 0; k < NS; ++k)
    for (std::size_t j = 0; j < B; ++j) st[k * B + j] = K(model_states()[k].initial * (1.0 + 1e-4 * j));
  double best = 1e9, sink = 0;
  for (int rep = 0; rep < 7; ++rep) {
    constexpr int R = 100000;
    const auto t0 = Clock::now();
    for (int r = 0; r < R; ++r) {
      rhs(B, st.data(), in.data(), K(1), out.data());
      sink += double(out[r % out.size()]);
    }
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / (R * double(B)) * 1e9);
  }
  if (sink == 42.4242) std::printf("!");
  return best;
}

}  // namespace

int main() {
  const std::string ref = ISLET_REFERENCE_DIR;
  const std::string eul = ref + "/bertram2007_single_euler_dt0.1_events.json";
  const std::string acc = ref + "/bertram2007_single_accurate_events.json";
  const auto eul_spikes = test::json_array(eul, "spike_upcrossing_times_ms");
  const auto acc_spikes = test::json_array(acc, "spike_upcrossing_times_ms");
  const auto acc_peaks = test::json_array(acc, "calcium_peak_times_ms");
  std::printf("kernel: %s\n", isletsim::model_abi::isa_name(isletsim::model_abi::active_isa()));
  std::printf("%-7s | %-38s | %-38s | %-38s\n", "variant", "Euler 0.1 ms, 20 s: spikes (0.2 ms)",
              "RK4 0.5 ms, 60 s: spikes (2 ms)", "RK4 0.5 ms, 60 s: Ca peaks (2 ms)");
  struct Variant {
    const char* name;
    Trace (*euler)(bool, double, double);
  };
  const Variant vs[] = {{"double", simulate<double, double>}, {"mixed", simulate<double, float>},
                        {"float", simulate<float, float>}, {"d->f32", simulate<double, double, true>}};
  std::vector<Trace> rk;
  for (const auto& v : vs) {
    const Trace te = v.euler(false, 0.1, 20000.0);
    const Trace tr = v.euler(true, 0.5, 60000.0);
    const Cmp ce = compare(analysis::upcrossings(te.t_ms, te.V, -40.0), eul_spikes, 20000.0, 0.2);
    const Cmp cs = compare(analysis::upcrossings(tr.t_ms, tr.V, -40.0), acc_spikes, 60000.0, 2.0);
    const Cmp cc = compare(analysis::prominent_peaks(tr.t_ms, tr.c, 0.02), acc_peaks, 60000.0, 2.0);
    std::printf("%-7s | %-38s | %-38s | %-38s\n", v.name, fmt(ce).c_str(), fmt(cs).c_str(), fmt(cc).c_str());
    std::printf("        steps with no change (Euler, RK4):");
    for (int k = 0; k < NS; ++k)
      if (te.absorbed[k] > 0.01 || tr.absorbed[k] > 0.01)
        std::printf(" %s %.0f%%/%.0f%%", model_states()[k].name, 100 * te.absorbed[k], 100 * tr.absorbed[k]);
    std::printf("\n");
  }
  const double td = kernel_ns<double>(), tf = kernel_ns<float>();
  std::printf("kernel, one 64-cell block in L1: double %.2f ns, float %.2f ns per cell evaluation (%.2fx)\n", td, tf,
              td / tf);
  return 0;
}
