// The recording reader of `islet analyze` (analysis_input_from_text): the
// first byte picks the options (time column or sampling rate), then the
// recording, a line "%%", and an optional positions file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "isletsim/analysis_io.hpp"
#include "isletsim/error.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto parts = fuzz::split_parts(input, 2);
  const std::string rec = fuzz::write_file("recording.txt", parts[0]);
  const std::string pos = parts.size() > 1 ? fuzz::write_file("positions.txt", parts[1]) : std::string();
  const fuzz::RecordingOptions opt = fuzz::recording_options(mode);
  try {
    const isletsim::analysis::Input in =
        isletsim::analysis_input_from_text(rec, pos, opt.sampling_hz, opt.time_column);
    // What the reader promises (analysis_io.hpp): one time per sample, a
    // finite position per cell when positions were given.
    if (in.time.size() != in.data.samples || in.data.v.size() != in.data.samples * in.data.cells ||
        (!pos.empty() && in.x.size() != in.data.cells)) {
      std::fprintf(stderr, "inconsistent recording: %zu times, %zu x %zu data, %zu positions\n", in.time.size(),
                   in.data.samples, in.data.cells, in.x.size());
      std::abort();
    }
  } catch (const isletsim::InputError&) {
  }
  return 0;
}
