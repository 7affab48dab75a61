#include "cli/output_file.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "isletsim/error.hpp"

namespace isletsim::cli {

namespace {

const char* kind_of(std::filesystem::file_type t) {
  using std::filesystem::file_type;
  switch (t) {
    case file_type::directory: return "a directory";
    case file_type::fifo: return "a FIFO (named pipe)";
    case file_type::character: return "a character device";
    case file_type::block: return "a block device";
    case file_type::socket: return "a socket";
    case file_type::symlink: return "a symbolic link";
    default: return "not a regular file";
  }
}

}  // namespace

void check_output_file(const std::string& path, const std::string& who) {
  namespace fs = std::filesystem;
  if (path.empty()) throw InputError(who + ": an empty file name; expected a file name");
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::exists(st)) {
    if (fs::is_regular_file(st)) return;
    throw InputError(fmt::format("{}: '{}' is {}; refusing to replace it (expected a regular file or a new name)", who,
                                 path, kind_of(st.type())));
  }
  if (ec && ec != std::errc::no_such_file_or_directory)  // e.g. a folder on the way that is a file
    throw InputError(fmt::format("{}: cannot write '{}': {}", who, path, ec.message()));
  if (path.back() == '/')
    throw InputError(fmt::format("{}: '{}' names a directory (it ends with '/'); expected a file name", who, path));
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    throw InputError(fmt::format("{}: cannot write '{}': the folder '{}' does not exist", who, path, folder.string()));
}

}  // namespace isletsim::cli
