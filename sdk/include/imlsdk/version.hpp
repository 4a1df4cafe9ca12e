// imlsdk version. Semantic versioning, see docs/sdk.md:
//  - MAJOR changes when any type or virtual function a plugin sees changes layout or meaning;
//    the host refuses plugins built against another MAJOR.
//  - MINOR adds things (new free functions, new plugin kinds); a plugin built against MINOR m
//    loads into a host whose MINOR is >= m.
//  - PATCH fixes bugs without touching declarations.
#pragma once

#define IMLSDK_VERSION_MAJOR 2
#define IMLSDK_VERSION_MINOR 9
#define IMLSDK_VERSION_PATCH 0
#define IMLSDK_VERSION_STRING "2.9.0"

namespace imlsdk {
constexpr int kVersionMajor = IMLSDK_VERSION_MAJOR;
constexpr int kVersionMinor = IMLSDK_VERSION_MINOR;
constexpr int kVersionPatch = IMLSDK_VERSION_PATCH;
}  // namespace imlsdk
