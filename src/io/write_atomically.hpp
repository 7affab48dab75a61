#pragma once
// Files written whole or not at all (src/io/write_atomically.cpp): each
// through a temporary file beside it, renamed over it once complete, so a
// reader never sees a half-written file and a failed write leaves the files
// that were there as they were. Internal (not installed).
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace isletsim::io {

// One file to write: its path, and what writes it, called with the name of
// the temporary file to write instead (which exists, empty: open it for
// writing, truncating). An error it throws is passed on as it is, so it
// should name `path`, not the temporary file.
struct FileToWrite {
  std::string path;
  std::function<void(const std::string& tmp)> write;
};

// Writes every file or none: each to a temporary file in its folder, in
// order; once all are complete, each is renamed over its path. On any
// failure the temporary files are removed and every path is left as it was
// (one already replaced gets its old file back, one new is removed); the
// error is passed on. The temporary files are new names (<path>.tmp<pid>,
// never an existing file). Throws InputError when two paths are the same
// file or a temporary file cannot be created (a folder missing or not
// writable), std::runtime_error when the disk is full or a rename fails.
void write_atomically(const std::vector<FileToWrite>& files);

// One file: write_atomically({{path, write}}).
inline void write_atomically(const std::string& path, std::function<void(const std::string& tmp)> write) {
  write_atomically(std::vector<FileToWrite>{{path, std::move(write)}});
}

// A writer of text for write_atomically: `text` into `tmp`, the temporary
// file of `path`. A write error (a full disk, a file-size limit) throws
// std::runtime_error naming `path` and the reason.
void write_text(const std::string& tmp, const std::string& path, const std::string& text);

// Whether two paths name the same file (one may not exist yet).
bool same_file(const std::string& a, const std::string& b);

}  // namespace isletsim::io
