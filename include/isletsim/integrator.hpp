#pragma once
// The time integrators the engine offers (its stages: src/engine).
#include <string>

namespace isletsim {

enum class Integrator { euler, rk4 };
std::string to_string(Integrator);
Integrator integrator_from_string(const std::string& s);  // throws InputError
double default_dt_ms(Integrator);  // Bertram 2007's defaults; a model's are in its ModelInfo

}  // namespace isletsim
