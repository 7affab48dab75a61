#include "io/file_lock.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "isletsim/error.hpp"

namespace isletsim::io {

OutputLock::OutputLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  created_ = fd_ >= 0;
  if (fd_ < 0 && errno == EEXIST) fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError("cannot create file '" + path + "': " + std::strerror(errno));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
  if (::fcntl(fd_, F_OFD_SETLK, &fl) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EAGAIN || err == EACCES)
      throw InputError("'" + path +
                       "' is being written by another run right now (it holds the file's lock); "
                       "choose another output file, or wait for that run to end");
    // A file system without locks: go on unlocked rather than refuse to run.
    if (err != EINVAL && err != ENOLCK && err != EOPNOTSUPP)
      throw InputError("cannot lock '" + path + "': " + std::strerror(err));
  }
}

OutputLock::~OutputLock() { release(); }

void OutputLock::reserve(std::uint64_t bytes, const std::string& path, bool kept) {
  if (fd_ < 0) return;
  constexpr std::uint64_t kMargin = 1u << 20;  // left for the end state and the final status
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return;
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  const auto full = [&](const std::string& why) {
    throw std::runtime_error("no room to write " + std::to_string(bytes) + " more bytes to '" + path + "' (" + why +
                             ")" + (kept ? "; the samples before are kept" : ""));
  };
  // A file-size limit is checked every time: space reserved beyond the end
  // of the file does not count against it, writing there does.
  std::uint64_t want = size + bytes + 4 * kMargin;
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    const auto cap = static_cast<std::uint64_t>(lim.rlim_cur);
    if (size + bytes + kMargin > cap) full("the file-size limit, ulimit -f, is reached");
    want = std::min(want, cap);
  }
  if (!can_reserve_ || size + bytes + kMargin <= reserved_to_) return;
  std::uint64_t got = want;
  int r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(want));
  if (r != 0 && (errno == ENOSPC || errno == EFBIG)) {  // a nearly full disk or limit: no more than needed
    got = size + bytes + kMargin;
    r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(got));
  }
  if (r != 0) {
    const int err = errno;
    if (err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) {
      can_reserve_ = false;  // this file system cannot reserve: write unguarded
      return;
    }
    // The margin reserved before is still there to finish the file.
    full(std::strerror(err));
  }
  reserved_to_ = got;
}

OutputLock& OutputLock::operator=(OutputLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::exchange(o.fd_, -1);
    created_ = o.created_;
  }
  return *this;
}

void OutputLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the description drops its lock
  fd_ = -1;
}

}  // namespace isletsim::io
