#include "isletsim/glucose.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "isletsim/model.hpp"
#include "core/fastmath.hpp"

namespace isletsim {

namespace {
// Value reached dt seconds after event `ev` began, starting from `from`.
double segment_value(const GlucoseEvent& ev, double from, double dt) {
  if (ev.ramp_s > 0 && dt < ev.ramp_s) return from + (ev.G_mM - from) * (dt / ev.ramp_s);
  if (ev.tau_s > 0) return ev.G_mM + (from - ev.G_mM) * fastmath::exp(-dt / ev.tau_s);
  return ev.G_mM;
}
}  // namespace

double GlucoseProtocol::glucose_mM(double t_s) const {
  if (fixed_jgk) return std::numeric_limits<double>::quiet_NaN();
  // Walk the events in order; each starts from the value the previous
  // segment has reached at the event's time.
  double from = G0_mM;
  const GlucoseEvent* active = nullptr;
  for (const auto& ev : events) {
    if (t_s < ev.t_s) break;
    if (active) from = segment_value(*active, from, ev.t_s - active->t_s);
    active = &ev;
  }
  return active ? segment_value(*active, from, t_s - active->t_s) : from;
}

double GlucoseProtocol::jgk_factor(double t_s) const {
  return fixed_jgk ? 1.0 : glucokinase_factor(glucose_mM(t_s));
}

std::string GlucoseProtocol::describe() const {
  if (fixed_jgk) return "fixed JGK";
  std::string s = fmt::format("G = {:g} mM", G0_mM);
  for (const auto& ev : events) {
    s += fmt::format(", at {:g} s -> {:g} mM", ev.t_s, ev.G_mM);
    if (ev.ramp_s > 0) s += fmt::format(" (ramp {:g} s)", ev.ramp_s);
    if (ev.tau_s > 0) s += fmt::format(" (tau {:g} s)", ev.tau_s);
  }
  return s;
}

}  // namespace isletsim
