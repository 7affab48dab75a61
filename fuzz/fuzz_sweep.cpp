// The sweep file parser. The scratch folder holds run.toml (a small lattice
// run) for `base = "run.toml"`; an inline [base] table works too. Every task
// of a parsed sweep must give its overrides and description.
#include <cstdint>
#include <string>

#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::write_file("run.toml", fuzz::kSweepBaseToml);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const isletsim::sweep::SweepSpec spec = isletsim::sweep::parse_sweep(text, "fuzz.toml", fuzz::scratch().string());
    for (std::size_t i = 0; i < spec.size() && i < 4; ++i) {
      (void)isletsim::sweep::task_overrides(spec, i);
      (void)isletsim::sweep::describe_point(spec, i);
    }
  } catch (const isletsim::InputError&) {
  }
  return 0;
}
