// Child process of test_qa_protocol's cross-process determinism test: writes the digest of
// the protocol's data (qa_protocol_harness.hpp) to the file named by argv[1].
#include <fstream>
#include <iostream>

#include "qa_protocol_harness.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: qa_protocol_digest OUTPUT_FILE\n";
    return 2;
  }
  std::ofstream(argv[1]) << qa_test::digest(qa_test::digest_config_bundle());
  return 0;
}
