// Gauss-map bifurcation diagram: columns (values of beta) are independent
// tasks. Within a task, blocks of columns iterate together so the compiler
// vectorises the map across columns (fastmath::exp_estrin: the same bits in
// vector and scalar code, so the result does not depend on the blocking;
// Estrin's scheme because each iterate waits for the previous one, so the
// length of exp's dependency chain sets the speed).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <png.h>

#include <stdexcept>

#include "core/fastmath.hpp"
#include "core/pages.hpp"
#include "io/write_atomically.hpp"
#include "isletsim/error.hpp"
#include "isletsim/gauss.hpp"

namespace isletsim::sweep {

double gauss_beta(const GaussOptions& g, unsigned column) {
  return g.width > 1 ? g.beta_min + (g.beta_max - g.beta_min) * column / (g.width - 1) : g.beta_min;
}

namespace {

// Histograms of columns [begin, end); sink(c, hist) receives column c's
// `height` counts (a scratch array, valid during the call).
// Count: the partial histograms' counter type; uint16_t (half the scratch)
// when no bin can exceed 65535, i.e. iterations <= 65535.
template <class Count, class ColumnSink>
void gauss_columns_t(const GaussOptions& g, unsigned begin, unsigned end, ColumnSink&& sink) {
  // B columns iterate together in vector lanes (4 AVX-512 vectors: enough
  // independent exp chains to hide the latency); T iterations at a time are
  // stored, binned in a second vector loop (bins and iterates stay in L1),
  // then counted column by column into partial histograms that live for the
  // whole block (summed once at the end; summing them after every T iterations cost
  // 9.3 ms instead of 6 ms single-threaded).
  constexpr unsigned B = 32;
  constexpr unsigned T = 128;
  const unsigned H = g.height;
  const double scale = H / (g.x_max - g.x_min), na = -g.alpha, lo = g.x_min, top = H;
  // Per column, 4 partial histograms (+1 bin for "outside") kept over all
  // iterations: consecutive increments of the same bin (periodic orbits)
  // don't wait on each other; summed once per column.
  const std::size_t P = H + 1;
  // Scratch kept per worker thread and reused by its next task, in one
  // buffer whose pages are made present at once (PageBuffer): faulting in
  // its ~170 KB page by page would cost ~0.45 ms on the project's VM (10 us
  // per page), more than a small task's work.
  const auto round = [](std::size_t bytes) { return (bytes + 63) / 64 * 64; };
  const std::size_t part_bytes = round(sizeof(Count) * B * 4 * P), column_bytes = round(sizeof(std::uint32_t) * H);
  const std::size_t bins_bytes = round(sizeof(std::int64_t) * T * B), xs_bytes = round(sizeof(double) * T * B);
  const std::size_t need = part_bytes + column_bytes + bins_bytes + xs_bytes;
  thread_local PageBuffer scratch;
  if (scratch.size() < need) scratch = PageBuffer(need);
  char* base = static_cast<char*>(scratch.data());
  Count* const part = reinterpret_cast<Count*>(base);
  std::uint32_t* const column = reinterpret_cast<std::uint32_t*>(base + part_bytes);
  // 64-bit bins: the width of the doubles, so the binning loop vectorizes.
  std::int64_t* const bins = reinterpret_cast<std::int64_t*>(base + part_bytes + column_bytes);
  double* const xs = reinterpret_cast<double*>(base + part_bytes + column_bytes + bins_bytes);
  for (unsigned c0 = begin; c0 < end; c0 += B) {
    const unsigned nb = std::min(B, end - c0);
    alignas(64) double x[B], beta[B];
    for (unsigned j = 0; j < B; ++j) {
      beta[j] = gauss_beta(g, c0 + std::min(j, nb - 1));
      x[j] = g.x0;
    }
    for (unsigned it = 0; it < g.transient; ++it) {
#pragma omp simd
      for (unsigned j = 0; j < B; ++j) x[j] = fastmath::exp_estrin(na * x[j] * x[j]) + beta[j];
    }
    std::fill(part, part + static_cast<std::size_t>(B) * 4 * P, Count{0});
    for (unsigned it0 = 0; it0 < g.iterations; it0 += T) {
      const unsigned nt = std::min(T, g.iterations - it0);
      for (unsigned t = 0; t < nt; ++t) {
        double* xt = xs + static_cast<std::size_t>(t) * B;
#pragma omp simd
        for (unsigned j = 0; j < B; ++j) xt[j] = x[j] = fastmath::exp_estrin(na * x[j] * x[j]) + beta[j];
      }
#pragma omp simd
      for (unsigned k = 0; k < nt * B; ++k) {
        // Branch-free (no short-circuit &&, no std::floor: GCC 12 vectorizes
        // neither), so the loop vectorizes. For f in [0, top) truncation is
        // floor; everything else goes to the "outside" bin.
        const double f = (xs[k] - lo) * scale;
        const bool inside = (f >= 0.0) & (f < top);
        bins[k] = static_cast<std::int64_t>(inside ? f : top);
      }
      for (unsigned j = 0; j < nb; ++j) {
        Count* p0 = part + j * 4 * P;
        Count* p1 = p0 + P;
        Count* p2 = p1 + P;
        Count* p3 = p2 + P;
        const std::int64_t* bj = bins + j;
        unsigned t = 0;
        for (; t + 4 <= nt; t += 4) {
          ++p0[bj[t * B]];
          ++p1[bj[(t + 1) * B]];
          ++p2[bj[(t + 2) * B]];
          ++p3[bj[(t + 3) * B]];
        }
        for (; t < nt; ++t) ++p0[bj[t * B]];
      }
    }
    for (unsigned j = 0; j < nb; ++j) {
      const Count* p0 = part + j * 4 * P;
      std::uint32_t* h = column;
#pragma omp simd
      for (unsigned b = 0; b < H; ++b)
        h[b] = std::uint32_t{p0[b]} + std::uint32_t{p0[P + b]} + std::uint32_t{p0[2 * P + b]} + std::uint32_t{p0[3 * P + b]};
      sink(c0 + j, static_cast<const std::uint32_t*>(h));
    }
  }
}

template <class ColumnSink>
void gauss_columns(const GaussOptions& g, unsigned begin, unsigned end, ColumnSink&& sink) {
  if (g.iterations <= 65535)
    gauss_columns_t<std::uint16_t>(g, begin, end, sink);
  else
    gauss_columns_t<std::uint32_t>(g, begin, end, sink);
}

}  // namespace

void gauss_histograms(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* counts) {
  const std::size_t H = g.height;
  gauss_columns(g, begin, end, [&](unsigned c, const std::uint32_t* h) {
    std::copy(h, h + H, counts + (c - begin) * H);
  });
}

std::vector<std::uint8_t> gauss_grey_levels(const GaussOptions& g) {
  const double norm = 1.0 / std::max(1u, g.iterations);
  // The grey level depends only on the count: a table of iterations + 1 entries.
  std::vector<std::uint8_t> level(static_cast<std::size_t>(g.iterations) + 1);
  for (std::size_t k = 0; k < level.size(); ++k)
    level[k] = static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(1.0 - std::sqrt(static_cast<double>(k) * norm), 0.0, 1.0)));
  return level;
}

void gauss_image_columns(const GaussOptions& g, unsigned begin, unsigned end, const std::uint8_t* levels,
                         std::uint8_t* image) {
  const unsigned W = g.width, H = g.height;
  gauss_columns(g, begin, end, [&](unsigned c, const std::uint32_t* h) {
    for (unsigned b = 0; b < H; ++b)
      image[static_cast<std::size_t>(H - 1 - b) * W + c] = levels[std::min<std::uint32_t>(h[b], g.iterations)];
  });
}

namespace {

class GaussTask final : public Task {
 public:
  GaussTask(const GaussOptions& g, unsigned b, unsigned e, std::uint32_t* all, const std::uint8_t* levels,
            std::uint8_t* image)
      : g_(g), b_(b), e_(e), all_(all), levels_(levels), image_(image) {}
  std::string describe() const override {
    char s[96];
    std::snprintf(s, sizeof s, "Gauss map columns %u..%u (beta %g..%g)", b_, e_ - 1, gauss_beta(g_, b_),
                  gauss_beta(g_, e_ - 1));
    return s;
  }
  TaskResult run(const TaskContext&) override {
    if (all_)
      gauss_histograms(g_, b_, e_, all_ + static_cast<std::size_t>(b_) * g_.height);
    else
      gauss_image_columns(g_, b_, e_, levels_, image_);
    return {};
  }

 private:
  GaussOptions g_;
  unsigned b_, e_;
  std::uint32_t* all_;
  const std::uint8_t* levels_;
  std::uint8_t* image_;
};

}  // namespace

std::unique_ptr<Task> make_gauss_task(const GaussOptions& g, unsigned begin, unsigned end, std::uint32_t* all_counts) {
  return std::make_unique<GaussTask>(g, begin, end, all_counts, nullptr, nullptr);
}

std::unique_ptr<Task> make_gauss_image_task(const GaussOptions& g, unsigned begin, unsigned end,
                                            const std::uint8_t* levels, std::uint8_t* image) {
  return std::make_unique<GaussTask>(g, begin, end, nullptr, levels, image);
}

std::vector<std::uint8_t> gauss_image(const GaussOptions& g, const std::vector<std::uint32_t>& counts) {
  const unsigned W = g.width, H = g.height;
  std::vector<std::uint8_t> img(static_cast<std::size_t>(W) * H);
  const std::vector<std::uint8_t> level = gauss_grey_levels(g);
  for (unsigned b = 0; b < H; ++b) {
    std::uint8_t* row = img.data() + static_cast<std::size_t>(H - 1 - b) * W;
    for (unsigned c = 0; c < W; ++c) row[c] = level[std::min<std::size_t>(counts[static_cast<std::size_t>(c) * H + b], g.iterations)];
  }
  return img;
}

void write_png_gray(const std::string& path, unsigned width, unsigned height, const std::vector<std::uint8_t>& pixels) {
  if (pixels.size() != static_cast<std::size_t>(width) * height)
    throw std::invalid_argument("write_png_gray: pixel count does not match width x height");
  write_png_gray(path, width, height, pixels.data());
}

namespace {

// The PNG itself, to `file` (libpng reports a write error by longjmp).
void write_png_file(const std::string& file, const std::string& path, unsigned width, unsigned height,
                    const std::uint8_t* pixels) {
  errno = 0;
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) throw InputError("cannot create '" + path + "': " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    const int err = errno;
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    throw std::runtime_error("cannot write PNG '" + path + "'" + (err ? std::string(": ") + std::strerror(err) : ""));
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (unsigned r = 0; r < height; ++r)
    png_write_row(png, const_cast<png_bytep>(pixels + static_cast<std::size_t>(r) * width));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write PNG '" + path + "': " + std::strerror(errno));
}

}  // namespace

// Whole or not at all: a write error (full disk, file-size limit) leaves no
// partial PNG.
void write_png_gray(const std::string& path, unsigned width, unsigned height, const std::uint8_t* pixels) {
  io::write_atomically(path, [&](const std::string& tmp) { write_png_file(tmp, path, width, height, pixels); });
}

BifurcationTiming gauss_bifurcation(const GaussOptions& g, const std::string& png_path, const ExecutorOptions& opt) {
  if (g.width < 1 || g.height < 1 || !(g.x_max > g.x_min))
    throw InputError("bifurcation: width and height must be positive and x_max > x_min");
  using Clock = std::chrono::steady_clock;
  BifurcationTiming t;
  ExecutorOptions eo = opt;
  eo.threads_per_task = 1;
  t.workers = std::min<unsigned>(concurrent_tasks(eo), g.width);
  const auto t0 = Clock::now();
  // Tasks write their columns of the image directly (no width x height
  // count array: its first touch alone cost ~1 ms in a fresh process).
  const std::vector<std::uint8_t> levels = gauss_grey_levels(g);
  // (A PageBuffer, like the workers' scratch: present pages, zeroed.)
  PageBuffer img_buf(static_cast<std::size_t>(g.width) * g.height);
  std::uint8_t* const img = static_cast<std::uint8_t*>(img_buf.data());
  // Chunks of columns: a few per worker (balances the cheap and the costly
  // columns), in whole 32-column blocks (a partial block costs a full one).
  const unsigned chunks = std::max(1u, std::min(g.width, 4 * t.workers));
  const unsigned per = std::max(32u, (g.width + chunks * 32 - 1) / (chunks * 32) * 32);
  std::vector<std::unique_ptr<Task>> owned;
  std::vector<Task*> tasks;
  for (unsigned b = 0; b < g.width; b += per) {
    owned.push_back(make_gauss_image_task(g, b, std::min(g.width, b + per), levels.data(), img));
    tasks.push_back(owned.back().get());
  }
  t.tasks = static_cast<unsigned>(tasks.size());
  execute(tasks, [](std::size_t, TaskResult&&) {}, eo);
  const auto t1 = Clock::now();
  write_png_gray(png_path, g.width, g.height, img);
  t.compute_s = std::chrono::duration<double>(t1 - t0).count();
  t.png_s = std::chrono::duration<double>(Clock::now() - t1).count();
  return t;
}

}  // namespace isletsim::sweep
