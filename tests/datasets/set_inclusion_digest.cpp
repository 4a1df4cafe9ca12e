// Child process of test_set_inclusion's cross-process determinism test: writes the digest of
// the set-inclusion data (set_inclusion_harness.hpp) to the file named by argv[1].
#include <fstream>
#include <iostream>

#include "set_inclusion_harness.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: set_inclusion_digest OUTPUT_FILE\n";
    return 2;
  }
  std::ofstream(argv[1]) << set_inclusion_test::digest(set_inclusion_test::digest_config_bundle());
  return 0;
}
