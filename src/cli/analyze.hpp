#pragma once
// `islet analyze` (src/cli/analyze.cpp).
#include <cmath>
#include <string>
#include <vector>

namespace isletsim::cli {

struct AnalyzeArgs {
  std::string input;                  // run .h5, recorded text file, or sweep directory
  std::string output;                 // output stem ("" = the input's name without extension)
  std::string positions, config;      // recorded file: positions; TOML with an [analysis] table
  double sampling_hz = 0;             // recorded file's rate (0: its first column is time)
  bool time_column = false;           // recorded file: first column is time even with sampling_hz
  double from_s = NAN, to_s = NAN, k_avg = NAN, threshold = NAN, stimulus_s = NAN, resample_hz = NAN;
  std::string binarize, band, variable;
  std::vector<std::string> sets;      // analysis.<key>=<value>
  bool no_figures = false, quiet = false;
  int cores = 0;                      // 0 = the usable cores
  std::string executor = "auto";      // sweep directories
};

int cmd_analyze(const AnalyzeArgs& a);

}  // namespace isletsim::cli
