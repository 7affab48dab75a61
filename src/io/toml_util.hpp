#pragma once
// TOML parsing shared by run configs and sweep files.
#include <string>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "isletsim/error.hpp"

namespace isletsim {

// Parses `text`; a syntax error becomes an InputError "origin:line:col: invalid TOML: ...".
inline toml::table parse_toml(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: invalid TOML: {}", origin, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

}  // namespace isletsim
