// Child process of test_mnist_grid's cross-process determinism test: writes the digest of the
// MNIST-grid data (mnist_grid_harness.hpp) read from the IDX folder argv[1] to the file argv[2].
#include <fstream>
#include <iostream>

#include "mnist_grid_harness.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: mnist_grid_digest IDX_FOLDER OUTPUT_FILE\n";
    return 2;
  }
  const mnist_grid_test::Loaded l(mnist_grid_test::small_config(argv[1]), 5);
  std::ofstream(argv[2]) << mnist_grid_test::digest(l);
  return 0;
}
