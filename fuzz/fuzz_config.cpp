// The run config parser: TOML text, then (after a line "%%") one `--set`
// override per line. Bad input must give InputError; a config that parses
// must survive the round trip to_toml -> parse_config unchanged (config.hpp).
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "isletsim/config.hpp"
#include "isletsim/error.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parts = fuzz::split_parts(input, 2);
  const std::string text(parts[0]);
  const isletsim::Overrides sets = parts.size() > 1 ? fuzz::lines(parts[1], 16) : isletsim::Overrides{};
  isletsim::RunConfig cfg;
  try {
    cfg = isletsim::parse_config(text, "fuzz.toml", sets);
  } catch (const isletsim::InputError&) {
    return 0;  // bad input, reported as such
  }
  const std::string once = isletsim::to_toml(cfg);
  try {
    const std::string twice = isletsim::to_toml(isletsim::parse_config(once, "resolved.toml"));
    if (twice != once) {
      std::fprintf(stderr, "to_toml round trip changed the config:\n%s\n---\n%s\n", once.c_str(), twice.c_str());
      std::abort();
    }
  } catch (const isletsim::InputError& e) {
    std::fprintf(stderr, "to_toml gave a config parse_config refuses: %s\n%s\n", e.what(), once.c_str());
    std::abort();
  }
  return 0;
}
