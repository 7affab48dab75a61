#pragma once
// The time integrators the engine offers (its stages: src/engine).
#include <string>

namespace isletsim {

// euler, rk4: fixed step (sim.dt_ms). dopri5: the Dormand-Prince 5(4)
// embedded pair with error control (sim.tolerance), one step for the whole
// islet, samples by its dense output.
enum class Integrator { euler, rk4, dopri5 };
inline bool is_adaptive(Integrator m) { return m == Integrator::dopri5; }
std::string to_string(Integrator);
Integrator integrator_from_string(const std::string& s);  // throws InputError
double default_dt_ms(Integrator);  // Bertram 2007's defaults; a model's are in its ModelInfo

}  // namespace isletsim
