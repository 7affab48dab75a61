#pragma once
// Error types shared by every part of isletsim.
#include <stdexcept>
#include <string>
#include <vector>

namespace isletsim {

// Bad user input: a config key, a file, a value. The message names the file,
// line or key and says what was expected. The CLI prints it and exits 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The simulation itself failed (non-finite state). The data so far is kept.
struct SimulationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Closest candidate to `name` by edit distance (case-insensitive), or "" when
// nothing is reasonably close. Used for "did you mean ...?" hints.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when there is no close candidate.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace isletsim
