// imlqa version: the text-QA protocol library (paper Table 1; spec §2-§5), versioned apart from
// the core SDK. MAJOR changes when a declaration changes meaning, or when the same params and
// seeds would give other data; MINOR adds; PATCH fixes without changing any generated data.
#pragma once

#define IMLQA_VERSION_MAJOR 1
#define IMLQA_VERSION_MINOR 0
#define IMLQA_VERSION_PATCH 0
#define IMLQA_VERSION_STRING "1.0.0"

namespace imlqa {
// The version of the imlqa library a plugin runs with (the header's may be older).
const char* runtime_version();
}  // namespace imlqa
