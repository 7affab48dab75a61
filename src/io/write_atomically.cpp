#include "io/write_atomically.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "isletsim/error.hpp"

namespace isletsim::io {

namespace {

namespace fs = std::filesystem;

// A name beside `path` that did not exist, made by `make(name)` (0, or
// the errno it failed with): <path><tag><pid>, or with -1, -2, ... after it
// where that exists. Returns "" with `err` set when `make` fails otherwise.
template <class Make>
std::string new_name(const std::string& path, const char* tag, Make&& make, int& err) {
  const std::string base = path + tag + std::to_string(::getpid());
  for (int n = 0; n < 1000; ++n) {
    std::string name = n ? base + "-" + std::to_string(n) : base;
    err = make(name);
    if (err == 0) return name;
    if (err != EEXIST) return "";
  }
  return "";
}

void remove_quietly(const std::string& name) {
  if (!name.empty()) ::unlink(name.c_str());
}

// An empty temporary file beside `path`, new, for writing `path`.
std::string make_temporary(const std::string& path) {
  int err = 0;
  std::string tmp = new_name(
      path, ".tmp",
      [](const std::string& name) {
        const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) return errno;
        ::close(fd);
        return 0;
      },
      err);
  if (!tmp.empty()) return tmp;
  const std::string why = "cannot write '" + path + "': " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EIO) throw std::runtime_error(why);  // not the name's fault
  throw InputError(why);
}

}  // namespace

void write_atomically(const std::vector<FileToWrite>& files) {
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (same_file(files[i].path, files[j].path))
        throw InputError("cannot write '" + files[j].path + "' and '" + files[i].path + "': they are the same file");

  // Every file complete under its temporary name first.
  std::vector<std::string> tmp;
  try {
    for (const FileToWrite& f : files) {
      tmp.push_back(make_temporary(f.path));
      f.write(tmp.back());
    }
  } catch (...) {
    for (const std::string& t : tmp) remove_quietly(t);
    throw;
  }

  // Then renamed into place. Where there are several, each file about to be
  // replaced is kept under a second name (a hard link) until all are in
  // place, so that a rename failing half-way (rare: the folders were just
  // written to) can put back what was there. A file system without hard
  // links keeps no such copy.
  const std::size_t n = files.size();
  std::vector<std::string> backup(n);
  std::vector<bool> existed(n, false);
  if (n > 1)
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& path = files[i].path;
      std::error_code ec;
      existed[i] = fs::exists(fs::symlink_status(path, ec));
      int err = 0;
      if (existed[i])
        backup[i] = new_name(
            path, ".old", [&](const std::string& name) { return ::link(path.c_str(), name.c_str()) ? errno : 0; }, err);
    }
  for (std::size_t k = 0; k < n; ++k) {
    if (std::rename(tmp[k].c_str(), files[k].path.c_str()) == 0) continue;
    std::string why = "cannot write '" + files[k].path + "': " + std::strerror(errno);
    for (std::size_t j = k; j < n; ++j) remove_quietly(tmp[j]);
    for (std::size_t j = 0; j < k; ++j) {
      const std::string& path = files[j].path;
      if (!backup[j].empty() ? std::rename(backup[j].c_str(), path.c_str()) == 0
                             : !existed[j] && ::unlink(path.c_str()) == 0) {
        backup[j].clear();
        continue;
      }
      why += "; '" + path + "' was replaced already" +
             (backup[j].empty() ? std::string() : " (its old content is in '" + backup[j] + "')");
      backup[j].clear();  // kept
    }
    for (const std::string& b : backup) remove_quietly(b);
    throw std::runtime_error(why);
  }
  for (const std::string& b : backup) remove_quietly(b);
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

void write_text(const std::string& tmp, const std::string& path, const std::string& text) {
  errno = 0;
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out)
    throw std::runtime_error("cannot write '" + path + "': " + (errno ? std::strerror(errno) : "the write failed"));
}

}  // namespace isletsim::io
