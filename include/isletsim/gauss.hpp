#pragma once
// The Gauss-map bifurcation demo (`islet bifurcation gauss`): an optional
// part of isletsim (CMake option ISLET_GAUSS, library isletsim_gauss; needs
// libpng) that shows the sweep executors on a small, latency-bound task. The
// islet library does not need it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "isletsim/sweep.hpp"

namespace isletsim::sweep {

// ---------------------------------------------------------------- Gauss map

// x_{n+1} = exp(-alpha x_n^2) + beta, beta over [beta_min, beta_max] in
// `width` columns (column c: beta_min + c (beta_max - beta_min) / (width - 1)).
struct GaussOptions {
  double alpha = 5.8, beta_min = -1, beta_max = 1, x_min = -1.0, x_max = 1.5, x0 = 0;
  unsigned width = 640, height = 400, transient = 200, iterations = 4000;
};
double gauss_beta(const GaussOptions& g, unsigned column);

// Histograms of columns [begin, end): counts[(c - begin) * height + bin],
// bin b covers [x_min + b h, x_min + (b+1) h), h = (x_max - x_min) / height;
// iterates outside [x_min, x_max) are not counted.
void gauss_histograms(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* counts);

// A task computing a chunk of columns into a shared array (width x height).
std::unique_ptr<Task> make_gauss_task(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* all_counts);

// Image rows top (x_max) to bottom, value 255 (1 - sqrt(count / iterations)).
std::vector<std::uint8_t> gauss_image(const GaussOptions& g, const std::vector<std::uint32_t>& counts);
// That grey level for each count 0..iterations.
std::vector<std::uint8_t> gauss_grey_levels(const GaussOptions& g);
// Columns [begin, end) of that image computed straight into `image`
// (width x height, rows top to bottom), without a count array.
void gauss_image_columns(const GaussOptions& g, unsigned begin, unsigned end, const std::uint8_t* levels,
                         std::uint8_t* image);
// A task doing gauss_image_columns (what `islet bifurcation` runs).
std::unique_ptr<Task> make_gauss_image_task(const GaussOptions& g, unsigned begin, unsigned end,
                                            const std::uint8_t* levels, std::uint8_t* image);

struct BifurcationTiming {
  double compute_s = 0, png_s = 0;
  unsigned workers = 0, tasks = 0;
};
// Computes the diagram with the executor and writes the PNG.
BifurcationTiming gauss_bifurcation(const GaussOptions& g, const std::string& png_path, const ExecutorOptions& opt);

// 8-bit greyscale PNG (libpng); throws InputError when it can't be written.
void write_png_gray(const std::string& path, unsigned width, unsigned height, const std::vector<std::uint8_t>& pixels);
void write_png_gray(const std::string& path, unsigned width, unsigned height, const std::uint8_t* pixels);

}  // namespace isletsim::sweep
