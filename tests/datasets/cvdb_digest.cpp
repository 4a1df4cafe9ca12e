// Child process of test_cvdb's cross-process determinism test: writes the digest of the cvdb
// data (cvdb_harness.hpp) to the file named by argv[1].
#include <fstream>
#include <iostream>

#include "cvdb_harness.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cvdb_digest OUTPUT_FILE\n";
    return 2;
  }
  std::ofstream(argv[1]) << qa_test::digest(cvdb_test::digest_config_bundle());
  return 0;
}
