// The process set-up imlhost makes before anything else: the heap's malloc options and pages.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "environment.hpp"

namespace {

// The VmFlags line of the mapping in /proc/self/smaps that holds `p` ("" if none does).
std::string vma_flags(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t b = 0, e = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> b >> dash >> e && dash == '-') {
      inside = b <= at && at < e;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line + " ";
  }
  return "";
}

TEST(Environment, HeapBlocksLieInTheHugePageReservationWhereOneIsMade) {
  const std::string what = imlcore::configure_memory();
  EXPECT_EQ(imlcore::configure_memory(), what) << "a second call must change nothing";
  EXPECT_EQ(imlcore::memory_setup(), what);
  if (what.rfind("malloc from ", 0) == 0) {  // a sanitizer build, or LD_PRELOAD=libtcmalloc...
    EXPECT_EQ(what.find("libc.so"), std::string::npos) << what;
    return;
  }
  EXPECT_EQ(what.rfind("glibc malloc, one arena, no mmap; heap on ", 0), 0u) << what;
  if (what.find("heap on 2 MB pages (its first") == std::string::npos) {
    // This machine or build makes no reservation; it must say why.
    EXPECT_TRUE(what.find("heap on 4 KB pages (") != std::string::npos ||
                what.find("THP mode 'always'") != std::string::npos)
        << what;
    return;
  }
  // Blocks of a step's size, before and after others were freed, come from the marked region
  // (the reservation was not trimmed away, and the heap's top did not move past it).
  for (size_t mb : {1, 32, 160}) {
    void* small = std::malloc(4096);
    void* p = std::malloc(mb << 20);
    ASSERT_NE(p, nullptr);
    EXPECT_NE(vma_flags(p).find(" hg "), std::string::npos) << mb << " MB block: " << vma_flags(p) << "\n" << what;
    std::free(p);
    std::free(small);
  }
}

}  // namespace
