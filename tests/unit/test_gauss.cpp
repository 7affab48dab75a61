// The Gauss-map bifurcation demo (built with ISLET_GAUSS): histograms against
// a straightforward computation, the image tasks against the count path, the
// islet bifurcation command.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "isletsim/gauss.hpp"
#include "core/fastmath.hpp"

using namespace isletsim;
using namespace isletsim::sweep;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("isletsim_gauss_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(Gauss, HistogramsMatchAStraightforwardComputation) {
  GaussOptions g;
  g.iterations = 1000;
  std::vector<std::uint32_t> all(static_cast<std::size_t>(g.width) * g.height);
  ExecutorOptions eo;
  eo.cores = 2;
  std::vector<std::unique_ptr<Task>> owned;
  std::vector<Task*> tasks;
  for (unsigned b = 0; b < g.width; b += 50) {  // chunks not multiples of the internal block
    owned.push_back(make_gauss_task(g, b, std::min(g.width, b + 50), all.data()));
    tasks.push_back(owned.back().get());
  }
  execute(tasks, [](std::size_t, TaskResult&&) {}, eo);
  for (unsigned col : {0u, 1u, 77u, 320u, 333u, 500u, 639u}) {
    const double beta = -1.0 + 2.0 * col / 639.0;
    std::vector<std::uint32_t> h(g.height, 0), hs(g.height, 0);
    double x = 0, y = 0;
    for (unsigned n = 0; n < g.transient + g.iterations; ++n) {
      x = fastmath::exp_estrin(-g.alpha * x * x) + beta;  // the program's exp: identical bits
      y = std::exp(-g.alpha * y * y) + beta;       // libm
      if (n < g.transient) continue;
      const auto bin = [&](double v) { return static_cast<int>(std::floor((v + 1.0) / 2.5 * g.height)); };
      if (bin(x) >= 0 && bin(x) < static_cast<int>(g.height)) ++h[bin(x)];
      if (bin(y) >= 0 && bin(y) < static_cast<int>(g.height)) ++hs[bin(y)];
    }
    const std::vector<std::uint32_t> got(all.begin() + static_cast<std::ptrdiff_t>(col) * g.height,
                                         all.begin() + static_cast<std::ptrdiff_t>(col + 1) * g.height);
    EXPECT_EQ(got, h) << "column " << col;
    // Against libm's exp: the same attractor (exactly the same bins away from chaos).
    double l1 = 0;
    for (unsigned b = 0; b < g.height; ++b) l1 += std::abs(double(got[b]) - double(hs[b])) / g.iterations;
    if (col == 0 || col == 77 || col == 639 || col == 500) {
      EXPECT_LT(l1, 0.01) << "column " << col;
    }
  }
  // What `islet bifurcation` runs: tasks writing image columns directly
  // (other chunking) give the image of the counts above.
  {
    const std::vector<std::uint8_t> levels = gauss_grey_levels(g);
    std::vector<std::uint8_t> direct(static_cast<std::size_t>(g.width) * g.height, 7);
    std::vector<std::unique_ptr<Task>> img_owned;
    std::vector<Task*> img_tasks;
    for (unsigned b = 0; b < g.width; b += 70) {
      img_owned.push_back(make_gauss_image_task(g, b, std::min(g.width, b + 70), levels.data(), direct.data()));
      img_tasks.push_back(img_owned.back().get());
    }
    execute(img_tasks, [](std::size_t, TaskResult&&) {}, eo);
    EXPECT_EQ(direct, gauss_image(g, all));
  }
  // The image: top row is x_max; an empty bin is white.
  std::vector<std::uint32_t> counts(static_cast<std::size_t>(g.width) * g.height, 0);
  counts[g.height - 1] = g.iterations;  // column 0, top bin: all points
  const auto img = gauss_image(g, counts);
  EXPECT_EQ(img[0], 0);
  EXPECT_EQ(img[1], 255);
  EXPECT_EQ(img[static_cast<std::size_t>(g.height - 1) * g.width], 255);
}

TEST(Gauss, BifurcationCommandWritesPng) {
  const fs::path d = fresh_dir("png");
  const std::string png = (d / "g.png").string();
  const std::string cmd = std::string(ISLET_CLI) + " bifurcation gauss --alpha 5.8 --width 64 --height 40 -o " + png + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}
