#include "grid.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mnistgrid {

Geometry Geometry::make(int64_t rows, int64_t cols, int64_t cell, int64_t square, int64_t bits, int64_t image_size) {
  auto bad = [](const std::string& m) { throw std::invalid_argument(m); };
  if (rows < 1 || rows > 8) bad("grid_rows must be in [1, 8], got " + std::to_string(rows));
  if (cols < 1 || cols > 8) bad("grid_cols must be in [1, 8], got " + std::to_string(cols));
  if (cell < 4 || cell > 256) bad("cell_size must be in [4, 256] pixels, got " + std::to_string(cell));
  if (square < 1 || square > 16) bad("tag_square must be in [1, 16] pixels, got " + std::to_string(square));
  if (image_size < 0) bad("image_size must be >= 0 (0 = just the tag row and the grid)");
  Geometry g;
  g.rows = rows;
  g.cols = cols;
  g.cell = cell;
  g.square = square;
  const int64_t need_h = square + rows * cell, need_w = cols * cell;
  if (image_size > 0 && (need_h > image_size || need_w > image_size))
    bad("a " + std::to_string(rows) + "x" + std::to_string(cols) + " grid of " + std::to_string(cell) +
        "-pixel cells under a " + std::to_string(square) + "-pixel tag row needs " + std::to_string(need_h) + "x" +
        std::to_string(need_w) + " pixels; image_size " + std::to_string(image_size) + " is too small");
  g.height = image_size > 0 ? image_size : need_h;
  g.width = image_size > 0 ? image_size : need_w;
  const int64_t fit = g.width / square;
  if (bits < 0 || bits > fit)
    bad("tag_bits must be in [0, " + std::to_string(fit) + "] (0 = fill the row): " + std::to_string(fit) + " squares of " +
        std::to_string(square) + " pixels fit in a " + std::to_string(g.width) + "-pixel row");
  g.bits = bits > 0 ? bits : fit;
  if (g.bits < 2) bad("the tag row holds fewer than 2 squares; widen the grid or shrink tag_square");
  return g;
}

namespace {

// Bilinear resampling of an n_in x n_in' byte image to cell x cell, half-pixel centres
// (PyTorch's interpolate(mode="bilinear", align_corners=False) without antialiasing).
void draw_digit(float* dst, int64_t stride, int64_t cell, const uint8_t* src, int64_t sr, int64_t sc) {
  if (sr == cell && sc == cell) {
    for (int64_t y = 0; y < cell; ++y)
      for (int64_t x = 0; x < cell; ++x) dst[y * stride + x] = static_cast<float>(src[y * sc + x]) / 255.0f;
    return;
  }
  auto coord = [](int64_t o, int64_t n_out, int64_t n_in, int64_t& i0, int64_t& i1, float& w) {
    float s = (static_cast<float>(o) + 0.5f) * static_cast<float>(n_in) / static_cast<float>(n_out) - 0.5f;
    if (s < 0) s = 0;
    i0 = std::min<int64_t>(static_cast<int64_t>(s), n_in - 1);
    i1 = std::min<int64_t>(i0 + 1, n_in - 1);
    w = s - static_cast<float>(i0);
  };
  for (int64_t y = 0; y < cell; ++y) {
    int64_t y0, y1;
    float wy;
    coord(y, cell, sr, y0, y1, wy);
    for (int64_t x = 0; x < cell; ++x) {
      int64_t x0, x1;
      float wx;
      coord(x, cell, sc, x0, x1, wx);
      const float a = src[y0 * sc + x0], b = src[y0 * sc + x1], c = src[y1 * sc + x0], d = src[y1 * sc + x1];
      const float top = a + (b - a) * wx, bottom = c + (d - c) * wx;
      dst[y * stride + x] = (top + (bottom - top) * wy) / 255.0f;
    }
  }
}

}  // namespace

imlsdk::Image render_grid(const Geometry& g, const std::vector<const uint8_t*>& digits, int64_t src_rows,
                          int64_t src_cols, int64_t highlight, const std::vector<int64_t>& pattern) {
  if (static_cast<int64_t>(digits.size()) != g.cells())
    throw std::invalid_argument("mnist_grid: " + std::to_string(digits.size()) + " digits for " +
                                std::to_string(g.cells()) + " cells");
  if (!pattern.empty() && static_cast<int64_t>(pattern.size()) != g.bits)
    throw std::invalid_argument("mnist_grid: a tag pattern of " + std::to_string(pattern.size()) + " bits, the row holds " +
                                std::to_string(g.bits));
  if (highlight < -1 || highlight >= g.cells())
    throw std::invalid_argument("mnist_grid: highlighted cell " + std::to_string(highlight) + " is outside the grid");
  imlsdk::Image img;
  img.channels = 1;
  img.height = g.height;
  img.width = g.width;
  img.pixels.assign(static_cast<size_t>(g.height * g.width), 0.0f);
  float* p = img.pixels.data();
  for (int64_t j = 0; j < static_cast<int64_t>(pattern.size()); ++j)
    if (pattern[j] != 0)
      for (int64_t y = 0; y < g.square; ++y)
        for (int64_t x = j * g.square; x < (j + 1) * g.square; ++x) p[y * g.width + x] = 1.0f;
  for (int64_t k = 0; k < g.cells(); ++k)
    draw_digit(p + g.cell_top(k) * g.width + g.cell_left(k), g.width, g.cell, digits[k], src_rows, src_cols);
  if (highlight >= 0) {
    const int64_t t = g.cell_top(highlight), l = g.cell_left(highlight), e = g.cell - 1;
    for (int64_t i = 0; i < g.cell; ++i) {
      p[t * g.width + l + i] = 1.0f;
      p[(t + e) * g.width + l + i] = 1.0f;
      p[(t + i) * g.width + l] = 1.0f;
      p[(t + i) * g.width + l + e] = 1.0f;
    }
  }
  return img;
}

}  // namespace mnistgrid
