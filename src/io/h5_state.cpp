// The states a run file keeps besides its samples: /checkpoint (the complete
// state at the last checkpoint or the end, to continue from) and /initial
// (the state the run started from). See docs/hdf5-layout.md.
#include <cmath>
#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/h5_handle.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"

namespace isletsim {

using namespace h5;

namespace {

Handle open_file(const Ctx& ctx, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError("'" + path + "': " + (std::filesystem::exists(path, ec) ? "not a file" : "no such file"));
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError("'" + path + "' is not an HDF5 file");
  Handle fapl = file_access_plist(ctx);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (f < 0) throw InputError("cannot open '" + path + "': " + hdf5_reason());
  return Handle(f, H5Fclose);
}

double number_attr(const Ctx& ctx, hid_t obj, const std::string& name, const std::string& where) {
  if (H5Aexists(obj, name.c_str()) <= 0) throw InputError(where + " has no attribute '" + name + "'");
  Handle a = ctx.own(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute '" + name + "'");
  double v = 0;
  ctx.ok(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), "read attribute '" + name + "'");
  return v;
}

// Every 1-D dataset of `group` (as float64), in creation order, n_cells values each.
void read_columns(const Ctx& ctx, hid_t group, const std::string& where, std::vector<std::string>& names,
                  std::vector<std::vector<double>>& values) {
  H5G_info_t info{};
  ctx.ok(H5Gget_info(group, &info), "inspect " + where);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    H5_index_t idx = H5_INDEX_CRT_ORDER;
    ssize_t len = H5Lget_name_by_idx(group, ".", idx, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) {  // no creation order tracked: by name
      idx = H5_INDEX_NAME;
      len = H5Lget_name_by_idx(group, ".", idx, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    }
    if (len < 0) ctx.fail("list " + where);
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(group, ".", idx, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    Handle d = ctx.own(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, "open " + where + "/" + name);
    Handle sp = ctx.own(H5Dget_space(d.get()), H5Sclose, "get space of " + where + "/" + name);
    const hssize_t n = H5Sget_simple_extent_npoints(sp.get());
    if (n < 0) ctx.fail("get the size of " + where + "/" + name);
    if (H5Sget_simple_extent_ndims(sp.get()) != 1) continue;  // e.g. /cells/position: not one value per cell
    std::vector<double> v(static_cast<std::size_t>(n));
    if (n > 0) ctx.ok(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
    names.push_back(name);
    values.push_back(std::move(v));
  }
}

}  // namespace

std::optional<StoredState> read_checkpoint(const std::string& path) {
  silence_hdf5();
  const Ctx ctx{path};
  const env::ReadingFile reading(path);
  Handle file = open_file(ctx, path);
  if (!link_exists(ctx, file.get(), "checkpoint")) return std::nullopt;
  Handle group = ctx.own(H5Gopen2(file.get(), "checkpoint", H5P_DEFAULT), H5Gclose, "open '/checkpoint'");
  if (H5Aexists(group.get(), "latest") <= 0) return std::nullopt;  // none written whole
  const std::string slot = read_string_attr(ctx, group.get(), "latest");
  if (slot != "a" && slot != "b") throw InputError("'" + path + "': /checkpoint names no slot ('" + slot + "')");
  const std::string where = "/checkpoint/" + slot;
  Handle g = ctx.own(H5Gopen2(group.get(), slot.c_str(), H5P_DEFAULT), H5Gclose, "open '" + where + "'");
  StoredState s;
  const double step = number_attr(ctx, g.get(), "step", where), samples = number_attr(ctx, g.get(), "samples", where);
  if (!(step >= 0) || !(samples >= 0)) throw InputError("'" + path + "': " + where + " has a negative step or count");
  s.step = static_cast<std::uint64_t>(step);
  s.samples = static_cast<std::uint64_t>(samples);
  s.time_s = number_attr(ctx, g.get(), "time_s", where);
  if (H5Aexists(g.get(), "step_ms") > 0) {
    s.step_ms = number_attr(ctx, g.get(), "step_ms", where);
    if (!(s.step_ms > 0) || !std::isfinite(s.step_ms))
      throw InputError("'" + path + "': " + where + " has step_ms = " + std::to_string(s.step_ms) +
                       "; expected a finite number > 0");
  }
  read_columns(ctx, g.get(), where, s.names, s.state);
  return s;
}

std::vector<std::pair<std::string, std::vector<double>>> read_cell_group(const std::string& path,
                                                                          const std::string& group) {
  silence_hdf5();
  const Ctx ctx{path};
  const env::ReadingFile reading(path);
  Handle file = open_file(ctx, path);
  std::vector<std::pair<std::string, std::vector<double>>> out;
  if (!link_exists(ctx, file.get(), group)) return out;
  Handle g = ctx.own(H5Gopen2(file.get(), group.c_str(), H5P_DEFAULT), H5Gclose, "open '/" + group + "'");
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  read_columns(ctx, g.get(), "/" + group, names, values);
  for (std::size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], std::move(values[i]));
  return out;
}

}  // namespace isletsim
