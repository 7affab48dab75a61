// The run file reader (read_run) on arbitrary bytes written to a file, as
// `islet analyze`, `islet run old.h5` and Python's isl.load read them: first
// without the sampled series, then everything.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("run.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const isletsim::H5Run head = isletsim::read_run(path, false);
    const isletsim::H5Run run = isletsim::read_run(path, true);
    // The promised shapes (h5io.hpp): per variable samples x cells.
    if (run.data.size() != run.var_names.size() || run.time.size() != run.n_samples) std::abort();
    for (const auto& d : run.data)
      if (d.size() != run.n_samples * run.n_cells) std::abort();
    if (head.n_samples != run.n_samples || head.var_names != run.var_names) std::abort();
  } catch (const isletsim::InputError&) {
  }
  return 0;
}
