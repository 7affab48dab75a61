#pragma once
// `islet analyze` (src/cli/analyze.cpp).
#include <optional>
#include <string>
#include <vector>

namespace isletsim::cli {

// Options not given are empty (a NaN or an empty name given is refused).
struct AnalyzeArgs {
  std::string input;                  // run .h5, recorded text file, or sweep directory
  std::optional<std::string> output;  // output stem (none: the input's name without extension)
  std::string positions, config;      // recorded file: positions; TOML with an [analysis] table
  std::optional<double> sampling_hz;  // recorded file's rate (none: its first column is time)
  bool time_column = false;           // recorded file: first column is time even with sampling_hz
  std::optional<double> from_s, to_s, k_avg, threshold, stimulus_s, resample_hz;
  std::string binarize, band, variable;
  std::vector<std::string> sets;      // analysis.<key>=<value>
  bool no_figures = false, quiet = false;
  int cores = 0;                      // 0 = the usable cores
  std::string executor = "auto";      // sweep directories
};

int cmd_analyze(const AnalyzeArgs& a);

}  // namespace isletsim::cli
