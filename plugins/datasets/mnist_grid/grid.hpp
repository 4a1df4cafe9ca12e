// The picture of one MNIST-grid example (paper §4.2, App. E.1), as pixels in [0, 1]:
//
//   row 0 .. square-1        the tag row: `bits` squares of square x square pixels, left to
//                            right, white (1) for a set bit, black (0) otherwise; all black on
//                            QA examples (they carry no tag)
//   row square ..            the grid: rows x cols cells of cell x cell pixels, cell k = r*cols + c
//                            at top = square + r*cell, left = c*cell; each cell holds one digit,
//                            resampled (bilinear, half-pixel centres) when cell != 28
//   highlight                the asked cell's outermost 1-pixel ring set to white (QA examples)
//
// The image is `height` x `width`: exactly the tag row plus the grid, or larger when the config
// fixes image_size (the rest stays black). A grid that does not fit is refused.
#pragma once
#include <cstdint>
#include <vector>

#include "imlsdk/data.hpp"

namespace mnistgrid {

struct Geometry {
  int64_t rows = 2, cols = 2, cell = 28, square = 2, bits = 0, height = 0, width = 0;
  int64_t cells() const { return rows * cols; }
  int64_t cell_top(int64_t k) const { return square + (k / cols) * cell; }
  int64_t cell_left(int64_t k) const { return (k % cols) * cell; }
  // Checks the shape; image_size 0 = tight. bits 0 = as many squares as fit in one row.
  // Throws std::invalid_argument naming the key.
  static Geometry make(int64_t rows, int64_t cols, int64_t cell, int64_t square, int64_t bits, int64_t image_size);
};

// One digit per cell (`digits[k]`: src_rows x src_cols bytes), the highlighted cell (-1: none)
// and the tag pattern (empty: none; else exactly g.bits values).
imlsdk::Image render_grid(const Geometry& g, const std::vector<const uint8_t*>& digits, int64_t src_rows,
                          int64_t src_cols, int64_t highlight, const std::vector<int64_t>& pattern);

}  // namespace mnistgrid
