#pragma once
// Glucose protocol G(t) in mM, mapped to JGK by the glucokinase dose-response.
#include <string>
#include <vector>

namespace isletsim {

// From t_s on, glucose moves from its current value to G_mM: at once
// (ramp_s = tau_s = 0), linearly over ramp_s seconds, or exponentially with
// time constant tau_s seconds (a smoothed step).
struct GlucoseEvent {
  double t_s = 0, G_mM = 0, ramp_s = 0, tau_s = 0;
};

struct GlucoseProtocol {
  bool fixed_jgk = false;  // true: no protocol, JGK is used as given (factor 1)
  double G0_mM = 11.1;     // level before the first event
  std::vector<GlucoseEvent> events;  // sorted by t_s

  double glucose_mM(double t_s) const;  // NaN when fixed_jgk
  double jgk_factor(double t_s) const;  // 1 when fixed_jgk, else glucokinase_factor(G(t))
  std::string describe() const;
};

}  // namespace isletsim
