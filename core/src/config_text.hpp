// The text half of config loading: YAML text -> JSON with the line of every key (duplicate keys
// refused), and `dotted.key=value` command-line overrides. Torch- and plugin-free, so that a fuzz
// target (fuzz/fuzz_config.cpp) can drive it; load_config (config.cpp) validates the result.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"

namespace imlcore {

// Parses `text` (the contents of the config file `path`), applies `overrides` in order and
// returns the config as JSON; `src` receives the line of every key (-1 for keys set or changed
// by an override). Throws UserError naming path:line or the override: YAML syntax errors, a key
// given twice, a config that is not a map, a malformed override.
Json config_document(const std::string& path, const std::string& text,
                     const std::vector<std::string>& overrides, SourceMap& src);

}  // namespace imlcore
