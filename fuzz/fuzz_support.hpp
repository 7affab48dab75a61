#pragma once
// What the fuzz targets share: a private scratch folder for inputs that the
// code under test reads from files, and splitting one input into parts.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// A folder of this process, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/islet-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratch(), ec); });
    return std::filesystem::path(templ);
  }();
  return dir;
}

// Writes `bytes` to scratch()/name; returns the path.
inline std::string write_file(const std::string& name, std::string_view bytes) {
  const std::string path = (scratch() / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) std::abort();
  return path;
}

// The parts of an input separated by lines "%%" (the seed corpus uses this
// to hold, e.g., a cells file and an edges file in one input).
inline std::vector<std::string_view> split_parts(std::string_view s, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  constexpr std::string_view sep = "\n%%\n";
  while (parts.size() + 1 < max_parts) {
    const auto k = s.find(sep);
    if (k == std::string_view::npos) break;
    parts.push_back(s.substr(0, k));
    s.remove_prefix(k + sep.size());
  }
  parts.push_back(s);
  return parts;
}

inline std::vector<std::string> lines(std::string_view s, std::size_t max_lines) {
  std::vector<std::string> out;
  while (!s.empty() && out.size() < max_lines) {
    const auto k = s.find('\n');
    out.emplace_back(s.substr(0, k));
    if (k == std::string_view::npos) break;
    s.remove_prefix(k + 1);
  }
  return out;
}

// fuzz_sweep: the run.toml beside the sweep file (`base = "run.toml"`).
inline constexpr const char* kSweepBaseToml =
    "[sim]\nduration_s = 1\n[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 1\n"
    "[heterogeneity]\ngKATP = {dist = \"normal\", cv = 0.1}\n";

// fuzz_recording: the options its first byte picks. Bits 0-1: sampling rate
// 0 (the first column is the time), 1, 10 or 1000 Hz; bit 2: time column.
struct RecordingOptions {
  double sampling_hz;
  bool time_column;
};
inline RecordingOptions recording_options(std::uint8_t b) {
  static constexpr double rates[] = {0.0, 1.0, 10.0, 1000.0};
  return {rates[b & 3], (b & 4) != 0};
}

}  // namespace fuzz
