// sweep_compare A B: exit 0 when the sweep results in directories A and B are
// the same bits: every task_*.h5 of A exists in B with identical /data
// arrays, summary.csv has the same rows but for wall_s, and summary.h5 the
// same columns and values but for wall_s.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <hdf5.h>

#include "isletsim/h5io.hpp"

namespace fs = std::filesystem;
using isletsim::H5Run;
using isletsim::read_run;

namespace {

int failures = 0;
void fail(const std::string& what) {
  std::fprintf(stderr, "sweep_compare: %s\n", what.c_str());
  ++failures;
}

// summary.csv without its wall_s column (no quoted commas in these tests).
std::vector<std::string> csv_rows(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> rows;
  std::string line;
  int wall = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::size_t a = 0;
    for (std::size_t b; (b = line.find(',', a)) != std::string::npos; a = b + 1) f.push_back(line.substr(a, b - a));
    f.push_back(line.substr(a));
    if (wall < 0)
      for (std::size_t k = 0; k < f.size(); ++k)
        if (f[k] == "wall_s") wall = static_cast<int>(k);
    std::string row;
    for (std::size_t k = 0; k < f.size(); ++k)
      if (static_cast<int>(k) != wall) row += f[k] + "|";
    rows.push_back(row);
  }
  return rows;
}

// summary.h5: column -> raw bytes of its values (strings joined).
std::map<std::string, std::string> h5_table(const fs::path& p) {
  std::map<std::string, std::string> out;
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    fail("cannot open " + p.string());
    return out;
  }
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  const hid_t a = H5Aopen(f, "columns", H5P_DEFAULT);
  const hid_t as = H5Aget_space(a);
  std::vector<char*> cols(static_cast<std::size_t>(H5Sget_simple_extent_npoints(as)));
  H5Aread(a, str, cols.data());
  for (char* c : cols) {
    const hid_t d = H5Dopen2(f, c, H5P_DEFAULT);
    const hid_t s = H5Dget_space(d);
    const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(s));
    const hid_t t = H5Dget_type(d);
    std::string bytes = H5Tget_class(t) == H5T_FLOAT ? "f64:" : "str:";
    if (H5Tget_class(t) == H5T_FLOAT) {
      std::vector<double> v(n);
      if (n) H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      bytes.append(reinterpret_cast<const char*>(v.data()), n * sizeof(double));
    } else {
      std::vector<char*> v(n);
      if (n) H5Dread(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      for (char* x : v) bytes += std::string(x ? x : "") + '\0';
      if (n) H5Dvlen_reclaim(str, s, H5P_DEFAULT, v.data());
    }
    out[c] = bytes;
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
  }
  H5Aclose(a);
  H5Sclose(as);
  H5Tclose(str);
  H5Fclose(f);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sweep_compare DIR_A DIR_B\n");
    return 2;
  }
  const fs::path a = argv[1], b = argv[2];
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("task_", 0) != 0 || e.path().extension() != ".h5") continue;
    ++files;
    if (!fs::exists(b / name)) {
      fail((b / name).string() + " missing");
      continue;
    }
    const H5Run ra = read_run(e.path().string()), rb = read_run((b / name).string());
    if (ra.var_names != rb.var_names || ra.n_samples != rb.n_samples || ra.data.size() != rb.data.size()) {
      fail(name + ": different variables or samples");
      continue;
    }
    for (std::size_t v = 0; v < ra.data.size(); ++v)
      if (ra.data[v].size() != rb.data[v].size() ||
          std::memcmp(ra.data[v].data(), rb.data[v].data(), ra.data[v].size() * sizeof(double)) != 0)
        fail(name + ": /data/" + ra.var_names[v] + " differs");
  }
  if (files == 0) fail(a.string() + ": no task files");
  const auto ca = csv_rows(a / "summary.csv"), cb = csv_rows(b / "summary.csv");
  if (ca.size() < 2 || ca != cb) fail("summary.csv rows differ (wall_s aside)");
  auto ha = h5_table(a / "summary.h5"), hb = h5_table(b / "summary.h5");
  ha.erase("wall_s");
  hb.erase("wall_s");
  if (ha.empty() || ha != hb) fail("summary.h5 differs (wall_s aside)");
  std::printf("sweep_compare: %zu task files, summary.csv (%zu rows), summary.h5 (%zu columns): %s\n", files,
              ca.size() ? ca.size() - 1 : 0, ha.size(), failures ? "DIFFERENT" : "identical");
  return failures ? 1 : 0;
}
