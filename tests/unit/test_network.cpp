// Networks: CSR layout, lattice and sphere generators, CSV import and checks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "isletsim/error.hpp"
#include "isletsim/network.hpp"

namespace fs = std::filesystem;
using namespace isletsim;

namespace {

const std::vector<std::string> kParams = {"gKATP", "JGK", "gCa"};

std::vector<unsigned> degrees(const Network& net) {
  std::vector<unsigned> deg(net.n_cells(), 0);
  for (std::size_t e = 0; e < net.n_edges(); ++e) {
    ++deg[net.edge_i[e]];
    ++deg[net.edge_j[e]];
  }
  return deg;
}

double dist2(const Network& net, std::size_t a, std::size_t b) {
  const double dx = net.x[a] - net.x[b], dy = net.y[a] - net.y[b], dz = net.z[a] - net.z[b];
  return dx * dx + dy * dy + dz * dz;
}

// Runs `f`, expects an InputError whose message contains every piece.
void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown; expected one containing '" << pieces.front() << "'";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : pieces) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// Checks the CSR of `net`: sorted rows, both directions of every edge.
void expect_valid_csr(const Network& net, const Csr& csr) {
  ASSERT_EQ(csr.n_rows(), net.n_cells());
  ASSERT_EQ(csr.row_ptr.front(), 0u);
  ASSERT_EQ(csr.row_ptr.back(), 2 * net.n_edges());
  ASSERT_EQ(csr.col.size(), 2 * net.n_edges());
  ASSERT_EQ(csr.w.size(), 2 * net.n_edges());
  const auto deg = degrees(net);
  const auto find = [&](std::uint32_t r, std::uint32_t c) -> const double* {
    const auto b = csr.col.begin() + static_cast<std::ptrdiff_t>(csr.row_ptr[r]);
    const auto e = csr.col.begin() + static_cast<std::ptrdiff_t>(csr.row_ptr[r + 1]);
    const auto it = std::lower_bound(b, e, c);
    return it != e && *it == c ? &csr.w[static_cast<std::size_t>(it - csr.col.begin())] : nullptr;
  };
  for (std::size_t r = 0; r < csr.n_rows(); ++r) {
    EXPECT_EQ(csr.row_ptr[r + 1] - csr.row_ptr[r], deg[r]) << "row " << r;
    for (std::uint64_t k = csr.row_ptr[r] + 1; k < csr.row_ptr[r + 1]; ++k)
      EXPECT_LT(csr.col[k - 1], csr.col[k]) << "row " << r << " not sorted";
  }
  for (std::size_t e = 0; e < net.n_edges(); ++e) {
    const double* a = find(net.edge_i[e], net.edge_j[e]);
    const double* b = find(net.edge_j[e], net.edge_i[e]);
    ASSERT_TRUE(a && b) << "edge " << e << " missing from the CSR";
    EXPECT_EQ(*a, net.edge_w[e]);
    EXPECT_EQ(*b, net.edge_w[e]);
  }
}

// ------------------------------------------------------------------- CSR

TEST(Csr, SmallNetworkRowsSortedAndSymmetric) {
  Network net;
  net.x = net.y = net.z = {0, 1, 2, 3, 4};
  // Deliberately unsorted, in both orientations.
  net.edge_i = {3, 0, 2, 4, 1};
  net.edge_j = {0, 2, 1, 0, 0};
  net.edge_w = {0.5, 1.5, 2.5, 3.5, 4.5};
  const Csr csr = build_csr(net);
  expect_valid_csr(net, csr);
  EXPECT_EQ(csr.row_ptr, (std::vector<std::uint64_t>{0, 4, 6, 8, 9, 10}));
  EXPECT_EQ(csr.col, (std::vector<std::uint32_t>{1, 2, 3, 4, 0, 2, 0, 1, 0, 0}));
  EXPECT_EQ(csr.w, (std::vector<double>{4.5, 1.5, 0.5, 3.5, 4.5, 2.5, 1.5, 2.5, 0.5, 3.5}));
}

TEST(Csr, EmptyAndEdgelessNetworks) {
  const Csr empty = build_csr(Network{});
  EXPECT_EQ(empty.n_rows(), 0u);
  const Csr lone = build_csr(make_lattice(1, 1, 1));
  EXPECT_EQ(lone.row_ptr, (std::vector<std::uint64_t>{0, 0}));
  EXPECT_TRUE(lone.col.empty());
}

TEST(Csr, RejectsEdgesOutsideTheNetwork) {
  Network net = make_lattice(2, 1, 1);
  net.edge_j[0] = 9;
  expect_input_error([&] { build_csr(net); }, {"edge 0 (0-9)", "validate_network"});
}

// --------------------------------------------------------------- lattice

TEST(Lattice, IdsPositionsDegreesAndEdgeCount) {
  const std::size_t nx = 4, ny = 5, nz = 6;
  const Network net = make_lattice(nx, ny, nz, 7.5);
  ASSERT_EQ(net.n_cells(), nx * ny * nz);
  EXPECT_EQ(net.n_edges(), (nx - 1) * ny * nz + nx * (ny - 1) * nz + nx * ny * (nz - 1));
  const auto deg = degrees(net);
  const auto id = [&](std::size_t x, std::size_t y, std::size_t z) { return x + nx * (y + ny * z); };
  for (std::size_t z = 0; z < nz; ++z)
    for (std::size_t y = 0; y < ny; ++y)
      for (std::size_t x = 0; x < nx; ++x) {
        const std::size_t i = id(x, y, z);
        EXPECT_EQ(net.x[i], 7.5 * static_cast<double>(x));
        EXPECT_EQ(net.y[i], 7.5 * static_cast<double>(y));
        EXPECT_EQ(net.z[i], 7.5 * static_cast<double>(z));
        const unsigned boundary = (x == 0) + (x == nx - 1) + (y == 0) + (y == ny - 1) + (z == 0) + (z == nz - 1);
        EXPECT_EQ(deg[i], 6 - boundary) << "cell " << i;
      }
  EXPECT_EQ(deg[id(0, 0, 0)], 3u);
  EXPECT_EQ(deg[id(nx - 1, ny - 1, nz - 1)], 3u);
  EXPECT_EQ(deg[id(1, 2, 3)], 6u);
  for (std::size_t e = 0; e < net.n_edges(); ++e) {
    EXPECT_EQ(net.edge_w[e], 1.0);
    EXPECT_DOUBLE_EQ(dist2(net, net.edge_i[e], net.edge_j[e]), 7.5 * 7.5);  // nearest neighbours only
  }
  EXPECT_NO_THROW(validate_network(net, "lattice"));
  expect_valid_csr(net, build_csr(net));
}

TEST(Lattice, RejectsEmptySizesAndBadSpacing) {
  expect_input_error([] { make_lattice(0, 3, 3); }, {"0x3x3", "at least 1"});
  expect_input_error([] { make_lattice(2, 2, 2, -1.0); }, {"spacing"});
}

// ---------------------------------------------------------------- sphere

TEST(Sphere, DefaultIsletMatchesPublishedDegree) {
  const SphereOptions opt;
  const Network net = make_sphere(opt);
  ASSERT_EQ(net.n_cells(), 1000u);
  EXPECT_GE(net.mean_degree(), 5.0);
  EXPECT_LE(net.mean_degree(), 6.0);
  const auto deg = degrees(net);
  EXPECT_EQ(std::count(deg.begin(), deg.end(), 0u), 0) << "isolated cells";
  EXPECT_LE(*std::max_element(deg.begin(), deg.end()), 13u);
  EXPECT_NO_THROW(validate_network(net, "sphere"));
  expect_valid_csr(net, build_csr(net));
}

TEST(Sphere, HardSpheresContactsAndNumbering) {
  SphereOptions opt;
  opt.n_cells = 400;
  opt.seed = 7;
  const Network net = make_sphere(opt);
  ASSERT_EQ(net.n_cells(), 400u);
  const double d = opt.cell_diameter_um, contact = opt.contact_factor * d;
  // Brute force over all pairs: no overlap, and edges are exactly the pairs
  // within the contact distance, each once as (i < j), sorted.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  double min_d2 = 1e300;
  for (std::uint32_t a = 0; a < net.n_cells(); ++a)
    for (std::uint32_t b = a + 1; b < net.n_cells(); ++b) {
      const double r2 = dist2(net, a, b);
      min_d2 = std::min(min_d2, r2);
      if (r2 < contact * contact) expected.emplace_back(a, b);
    }
  EXPECT_GE(std::sqrt(min_d2), d * (1.0 - 1e-12)) << "two cells overlap";
  std::vector<std::pair<std::uint32_t, std::uint32_t>> got;
  for (std::size_t e = 0; e < net.n_edges(); ++e) got.emplace_back(net.edge_i[e], net.edge_j[e]);
  EXPECT_EQ(got, expected);
  for (double w : net.edge_w) EXPECT_EQ(w, 1.0);
  // Ids ordered by distance from the centre (the origin).
  for (std::size_t i = 1; i < net.n_cells(); ++i) {
    const double r0 = net.x[i - 1] * net.x[i - 1] + net.y[i - 1] * net.y[i - 1] + net.z[i - 1] * net.z[i - 1];
    const double r1 = net.x[i] * net.x[i] + net.y[i] * net.y[i] + net.z[i] * net.z[i];
    EXPECT_LE(r0, r1) << "cell " << i;
  }
  // Centred: the centroid is well inside one cell diameter of the origin.
  double cx = 0, cy = 0, cz = 0;
  for (std::size_t i = 0; i < net.n_cells(); ++i) {
    cx += net.x[i];
    cy += net.y[i];
    cz += net.z[i];
  }
  EXPECT_LT(std::sqrt(cx * cx + cy * cy + cz * cz) / static_cast<double>(net.n_cells()), d);
}

TEST(Sphere, DeterministicPerSeed) {
  SphereOptions opt;
  opt.n_cells = 300;
  opt.seed = 42;
  const Network a = make_sphere(opt), b = make_sphere(opt);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.z, b.z);
  EXPECT_EQ(a.edge_i, b.edge_i);
  EXPECT_EQ(a.edge_j, b.edge_j);
  EXPECT_EQ(a.edge_w, b.edge_w);
  opt.seed = 43;
  const Network c = make_sphere(opt);
  EXPECT_EQ(c.n_cells(), a.n_cells());
  EXPECT_NE(c.x, a.x);
}

TEST(Sphere, HonoursCellCountAndOptions) {
  for (const std::size_t n : {1u, 2u, 37u, 250u}) {
    SphereOptions opt;
    opt.n_cells = n;
    opt.oversample = 2.5;
    opt.cell_diameter_um = 10.0;
    const Network net = make_sphere(opt);
    EXPECT_EQ(net.n_cells(), n);
    EXPECT_NO_THROW(validate_network(net, "sphere"));
  }
}

TEST(Sphere, RejectsBadOptions) {
  SphereOptions opt;
  opt.n_cells = 0;
  expect_input_error([&] { make_sphere(opt); }, {"n_cells"});
  opt = {};
  opt.contact_factor = 0.9;
  expect_input_error([&] { make_sphere(opt); }, {"contact_factor", "> 1"});
  opt = {};
  opt.oversample = 0.5;
  expect_input_error([&] { make_sphere(opt); }, {"oversample", ">= 1"});
  opt = {};
  opt.cell_diameter_um = std::nan("");
  expect_input_error([&] { make_sphere(opt); }, {"cell_diameter_um"});
}

// ------------------------------------------------------------------- CSV

class NetworkCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("isletsim_network_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cells_ = (dir_ / "cells.csv").string();
    edges_ = (dir_ / "edges.csv").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  Network load() const { return load_network_csv(cells_, edges_, kParams); }
  // Three cells on a line, coupled 0-1 and 1-2.
  void write_valid_cells() const { write(cells_, "id,x,y,z\n0,0,0,0\n1,10,0,0\n2,20,0,0\n"); }
  void write_valid_edges() const { write(edges_, "i,j,weight\n0,1,1\n1,2,0.5\n"); }
  // Loading must fail with "<path>:<line>:" and every phrase.
  void expect_error(const std::string& path, int line, const std::vector<std::string>& phrases) const {
    try {
      load();
      ADD_FAILURE() << "no InputError thrown for " << path << ":" << line;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      const std::string where = path + ":" + std::to_string(line) + ": ";
      EXPECT_EQ(msg.rfind(where, 0), 0u) << "expected '" << where << "' at the start of: " << msg;
      for (const auto& p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
  }

  fs::path dir_;
  std::string cells_, edges_;
};

TEST_F(NetworkCsv, RoundTripWithParametersAnyRowOrder) {
  // A generated network written with full precision, rows in reverse order.
  SphereOptions opt;
  opt.n_cells = 60;
  const Network src = make_sphere(opt);
  std::string cells = "id,x,y,z,JGK,gCa\n", edges = "i,j,weight\n";
  char buf[256];
  for (std::size_t k = src.n_cells(); k-- > 0;) {
    std::snprintf(buf, sizeof buf, "%zu,%.17g,%.17g,%.17g,%.17g,%.17g\n", k, src.x[k], src.y[k], src.z[k],
                  1.0 + 0.01 * static_cast<double>(k), -0.5 * static_cast<double>(k));
    cells += buf;
  }
  for (std::size_t e = 0; e < src.n_edges(); ++e) {
    std::snprintf(buf, sizeof buf, "%u,%u,%.17g\n", src.edge_i[e], src.edge_j[e], 0.25 * static_cast<double>(e % 7));
    edges += buf;
  }
  write(cells_, cells);
  write(edges_, edges);

  const Network net = load();
  EXPECT_EQ(net.x, src.x);
  EXPECT_EQ(net.y, src.y);
  EXPECT_EQ(net.z, src.z);
  EXPECT_EQ(net.edge_i, src.edge_i);
  EXPECT_EQ(net.edge_j, src.edge_j);
  ASSERT_EQ(net.n_edges(), src.n_edges());
  for (std::size_t e = 0; e < net.n_edges(); ++e) EXPECT_EQ(net.edge_w[e], 0.25 * static_cast<double>(e % 7));
  ASSERT_EQ(net.cell_params.size(), 2u);
  EXPECT_EQ(net.cell_params[0].first, "JGK");
  EXPECT_EQ(net.cell_params[1].first, "gCa");
  for (std::size_t k = 0; k < net.n_cells(); ++k) {
    EXPECT_EQ(net.cell_params[0].second[k], 1.0 + 0.01 * static_cast<double>(k));
    EXPECT_EQ(net.cell_params[1].second[k], -0.5 * static_cast<double>(k));
  }
  EXPECT_NO_THROW(validate_network(net, "loaded"));
}

TEST_F(NetworkCsv, AcceptsCommentsBlankLinesCrlfWhitespaceAndBom) {
  write(cells_,
        "\xEF\xBB\xBF# cells of a test islet\r\n\r\n id , x ,y,\tz , gKATP \r\n"
        "# comment between rows\r\n1, 1.5 ,2,3, +0.25\r\n   \r\n0,-1e1,0,.5,3\r\n");
  write(edges_, "# edges\n  # indented comment\ni, j ,weight\n\n1 ,0, 2.5e-1\n");
  const Network net = load();
  ASSERT_EQ(net.n_cells(), 2u);
  EXPECT_EQ(net.x, (std::vector<double>{-10.0, 1.5}));
  EXPECT_EQ(net.z, (std::vector<double>{0.5, 3.0}));
  ASSERT_EQ(net.cell_params.size(), 1u);
  EXPECT_EQ(net.cell_params[0].first, "gKATP");
  EXPECT_EQ(net.cell_params[0].second, (std::vector<double>{3.0, 0.25}));
  ASSERT_EQ(net.n_edges(), 1u);
  EXPECT_EQ(net.edge_i[0], 1u);
  EXPECT_EQ(net.edge_j[0], 0u);
  EXPECT_EQ(net.edge_w[0], 0.25);
}

TEST_F(NetworkCsv, MissingFiles) {
  write_valid_edges();
  expect_input_error([&] { load(); }, {"cannot open '" + cells_ + "'"});
  write_valid_cells();
  fs::remove(edges_);
  expect_input_error([&] { load(); }, {"cannot open '" + edges_ + "'"});
}

TEST_F(NetworkCsv, CellsFileErrors) {
  write_valid_edges();
  struct Case {
    std::string text;
    int line;
    std::vector<std::string> phrases;
  };
  const std::vector<Case> cases = {
      {"", 1, {"empty", "id,x,y,z"}},
      {"# only a comment\n\n", 2, {"no header line", "holds only blank and '#' comment lines", "id,x,y,z"}},
      {"0,0,0,0\n1,1,1,1\n", 1, {"missing header", "id,x,y,z"}},
      {"id,X,y,z\n0,0,0,0\n", 1, {"column 2 is 'X'", "expected 'x'"}},
      {"id,x,y\n0,0,0\n", 1, {"3 columns", "id,x,y,z"}},
      {"id,x,y,z,gKatp\n0,0,0,0,1\n", 1, {"unknown parameter column 'gKatp'", "did you mean 'gKATP'", "JGK"}},
      {"id,x,y,z,gCa,gCa\n0,0,0,0,1,1\n", 1, {"'gCa' appears twice", "columns 5 and 6"}},
      {"id,x,y,z\n0,0,0,0\n\n1,1,1\n", 4, {"expected 4 fields", "found 3"}},
      {"id,x,y,z\n0,0,0,0\n1,1,1,1,1\n", 3, {"expected 4 fields", "found 5"}},
      {"id,x,y,z\n0,abc,0,0\n", 2, {"x 'abc' is not a number"}},
      {"id,x,y,z\n0,1.0.0,0,0\n", 2, {"x '1.0.0' is not a number"}},
      {"id,x,y,z\n0,0,,0\n", 2, {"y is empty"}},
      {"id,x,y,z\n0,0,0,nan\n", 2, {"z 'nan' is not a finite number"}},
      {"id,x,y,z,JGK\n0,0,0,0,inf\n", 2, {"JGK 'inf' is not a finite number"}},
      {"id,x,y,z\n1.5,0,0,0\n", 2, {"id '1.5' is not a cell id"}},
      {"id,x,y,z\n-1,0,0,0\n", 2, {"id '-1' is not a cell id"}},
      {"id,x,y,z\n0,0,0,0\n# gap\n2,0,0,0\n", 4, {"cell id 2 out of range", "2 cells", "0..1"}},
      {"id,x,y,z\n1,0,0,0\n0,0,0,0\n1,0,0,0\n", 4, {"cell id 1 appears twice", "lines 2 and 4"}},
      {"id,x,y,z\n# nothing\n", 2, {"no cells"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    write(cells_, c.text);
    expect_error(cells_, c.line, c.phrases);
  }
}

TEST_F(NetworkCsv, EdgesFileErrors) {
  write(cells_, "id,x,y,z\n0,0,0,0\n1,1,0,0\n2,2,0,0\n3,3,0,0\n");
  struct Case {
    std::string text;
    int line;
    std::vector<std::string> phrases;
  };
  const std::vector<Case> cases = {
      {"", 1, {"empty", "i,j,weight"}},
      {"0,1,1\n", 1, {"missing header", "i,j,weight"}},
      {"source,target,weight\n0,1,1\n", 1, {"expected the header 'i,j,weight'", "source,target,weight"}},
      {"i,j,weight\n0,1\n", 2, {"expected 3 fields", "found 2"}},
      {"i,j,weight\n0,1,1,1\n", 2, {"expected 3 fields", "found 4"}},
      {"i,j,weight\n# comment\n\n0,1,1\n1,2,abc\n", 5, {"weight 'abc' is not a number"}},
      {"i,j,weight\n0,1,\n", 2, {"weight is empty"}},
      {"i,j,weight\n0,1,1\n3,3,1\n", 3, {"self-loop 3-3", "cannot be coupled to itself"}},
      {"i,j,weight\n0,12,1\n", 2, {"cell id 12 out of range", cells_ + " has 4 cells, ids 0..3"}},
      {"i,j,weight\nx,1,1\n", 2, {"i 'x' is not a cell id"}},
      {"i,j,weight\n0,-2,1\n", 2, {"j '-2' is not a cell id"}},
      {"i,j,weight\n0,1,-0.5\n", 2, {"negative weight -0.5", "must be >= 0"}},
      {"i,j,weight\n0,1,nan\n", 2, {"weight nan is not finite"}},
      {"i,j,weight\n0,1,NaN\n", 2, {"weight NaN is not finite"}},
      {"i,j,weight\n0,1,inf\n", 2, {"weight inf is not finite"}},
      {"i,j,weight\n0,1,-infinity\n", 2, {"is not finite"}},
      {"i,j,weight\n1,2,1\n0,3,1\n# again, reversed\n2,1,0.5\n", 5, {"duplicate edge 2-1", "1-2 on line 2"}},
      {"i,j,weight\n0,3,1\n0,3,1\n", 3, {"duplicate edge 0-3", "0-3 on line 2"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    write(edges_, c.text);
    expect_error(edges_, c.line, c.phrases);
  }
}

// ------------------------------------------------------- validate_network

TEST(ValidateNetwork, AcceptsGeneratedNetworks) {
  EXPECT_NO_THROW(validate_network(make_lattice(3, 3, 3), "lattice"));
  Network net = make_lattice(2, 2, 1);
  net.cell_params.emplace_back("gCa", std::vector<double>(4, 1.0));
  net.edge_w[0] = 0.0;  // zero weight is allowed (an uncoupled pair)
  EXPECT_NO_THROW(validate_network(net, "lattice"));
}

TEST(ValidateNetwork, NamesOriginEdgeAndProblem) {
  const std::string origin = "network from Python";
  const auto broken = [](auto change) {
    Network net = make_lattice(4, 1, 1);  // edges 0: 0-1, 1: 1-2, 2: 2-3
    change(net);
    return net;
  };
  const auto expect = [&](const Network& net, const std::vector<std::string>& phrases) {
    expect_input_error([&] { validate_network(net, origin); }, phrases);
    expect_input_error([&] { validate_network(net, origin); }, {origin + ": "});
  };
  expect(broken([](Network& n) { n.edge_i[1] = n.edge_j[1] = 3; }), {"edge 1: self-loop 3-3"});
  expect(broken([](Network& n) { n.edge_j[2] = 9; }), {"edge 2: cell id 9 out of range", "4 cells, ids 0..3"});
  expect(broken([](Network& n) { n.edge_w[0] = -0.5; }), {"edge 0: negative weight -0.5"});
  expect(broken([](Network& n) { n.edge_w[0] = std::nan(""); }), {"edge 0: weight", "not finite"});
  expect(broken([](Network& n) { n.edge_w[1] = INFINITY; }), {"edge 1: weight inf is not finite"});
  expect(broken([](Network& n) {
           n.edge_i.push_back(1);
           n.edge_j.push_back(0);
           n.edge_w.push_back(1.0);
         }),
         {"edge 3: duplicate edge 1-0", "0-1 on edge 0"});
  expect(broken([](Network& n) { n.edge_w.pop_back(); }), {"different lengths"});
  expect(broken([](Network& n) { n.z.pop_back(); }), {"different lengths"});
  expect(broken([](Network& n) { n.y[2] = std::nan(""); }), {"cell 2", "non-finite position"});
  expect(broken([](Network& n) { n.cell_params.emplace_back("gCa", std::vector<double>(3, 1.0)); }),
         {"'gCa' has 3 values for 4 cells"});
  expect(broken([](Network& n) {
           n.cell_params.emplace_back("gCa", std::vector<double>(4, 1.0));
           n.cell_params[0].second[1] = INFINITY;
         }),
         {"'gCa' of cell 1", "finite"});
  expect(Network{}, {"no cells"});
}

}  // namespace
