// The sweep file parser. The scratch folder holds run.toml (a small lattice
// run) for `base = "run.toml"`; an inline [base] table works too. Every task
// of a parsed sweep must give its overrides and description.
#include <cstdint>
#include <string>

#include <toml++/toml.h>

#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::write_file("run.toml", fuzz::kSweepBaseToml);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Every sample is checked by a full config parse: time linear in sample.n
  // (up to the 1,000,000 tasks a sweep may have; FuzzFindings tests that
  // bound). The only input that amplifies the work, so it is kept small here
  // to keep each input fast.
  try {
    const toml::table t = toml::parse(text);
    if (const auto n = t["sample"]["n"].value<std::int64_t>(); n && *n > 2000) return 0;
  } catch (const toml::parse_error&) {
  }
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
