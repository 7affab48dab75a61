#pragma once
// The check every CLI command makes of a file it is about to write
// (src/cli/output_file.cpp): islet network --export, islet analyze and
// islet bifurcation.
#include <string>

namespace isletsim::cli {

// A file a command is about to write (under a temporary name, then renamed
// over `path`): refuses with InputError an empty name, a name ending in '/',
// anything that exists and is not a regular file (a directory, FIFO, device,
// socket or symbolic link is never replaced) and a folder that does not
// exist, naming the path and what it is. `who` starts the message, e.g.
// "islet network --export".
void check_output_file(const std::string& path, const std::string& who);

}  // namespace isletsim::cli
