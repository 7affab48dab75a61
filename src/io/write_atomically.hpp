#pragma once
// A file written whole or not at all: through a temporary file beside it,
// renamed over it once complete (a reader never sees a half-written file,
// and a failed write leaves neither file). Internal (not installed).
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace isletsim::io {

// Writes through `write(tmp)` to `path` + ".tmp", then renames it to `path`;
// on any failure the temporary file is removed and the error passed on.
template <class F>
void write_atomically(const std::string& path, F&& write) {
  const std::string tmp = path + ".tmp";
  try {
    write(tmp);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write '" + path + "': " + ec.message());
  }
}

}  // namespace isletsim::io
