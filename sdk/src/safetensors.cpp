// safetensors: [u64 LE header length N][N bytes JSON header][data]. The header maps each tensor
// name to {dtype, shape, data_offsets: [begin, end)} relative to the start of the data area;
// "__metadata__" holds string pairs. Everything read from a file is checked before it is used.
#include "imlsdk/safetensors.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace imlsdk {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // as the reference implementation

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
};
// Dtypes LibTorch can hold (safetensors' U16/U32/U64/F8 have no torch 1.13 equivalent).
constexpr DtypeInfo kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},   {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("safetensors file " + path + ": " + what);
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One validated header entry.
struct Entry {
  std::string name;
  at::ScalarType type;
  std::vector<int64_t> shape;
  uint64_t begin, end;  // byte span inside the data area
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& info,
                  uint64_t data_bytes) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object()) fail(path, where + " is not a JSON object");
  if (!info.contains("dtype") || !info["dtype"].is_string())
    fail(path, where + " has no string 'dtype'");
  if (!info.contains("shape") || !info["shape"].is_array())
    fail(path, where + " has no array 'shape'");
  if (!info.contains("data_offsets") || !info["data_offsets"].is_array() ||
      info["data_offsets"].size() != 2)
    fail(path, where + " has no 2-element 'data_offsets'");

  Entry e;
  e.name = name;
  const std::string dtype = info["dtype"].get<std::string>();
  const auto* d = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                               [&](const DtypeInfo& x) { return dtype == x.name; });
  if (d == std::end(kDtypes)) fail(path, where + " has unsupported dtype '" + dtype + "'");
  e.type = d->type;

  uint64_t numel = 1;
  for (const auto& dim : info["shape"]) {
    if (!dim.is_number_unsigned()) fail(path, where + " has a shape entry that is not a count");
    const uint64_t n = dim.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n))
      fail(path, where + " has an impossibly large shape");
    numel *= n;
    e.shape.push_back(static_cast<int64_t>(n));
  }
  for (const auto& off : info["data_offsets"])
    if (!off.is_number_unsigned()) fail(path, where + " has a data offset that is not a count");
  e.begin = info["data_offsets"][0].get<uint64_t>();
  e.end = info["data_offsets"][1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_bytes)
    fail(path, where + " has data_offsets [" + std::to_string(e.begin) + ", " +
                   std::to_string(e.end) + "] outside the data area of " +
                   std::to_string(data_bytes) + " bytes");
  const uint64_t elem = at::elementSize(e.type);
  if (numel > std::numeric_limits<uint64_t>::max() / elem || numel * elem != e.end - e.begin)
    fail(path, where + " spans " + std::to_string(e.end - e.begin) + " bytes but its shape and " +
                   dtype + " need " + std::to_string(numel * elem));
  return e;
}

}  // namespace

std::map<std::string, at::Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(path, "cannot open");
  const uint64_t file_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);

  unsigned char len_bytes[8];
  if (file_bytes < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    fail(path, "shorter than the 8-byte header length");
  const uint64_t header_bytes = read_u64_le(len_bytes);
  if (header_bytes > file_bytes - 8)
    fail(path, "header length " + std::to_string(header_bytes) + " exceeds the file size " +
                   std::to_string(file_bytes));
  if (header_bytes > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(header_bytes) + " exceeds the 100 MB limit");

  std::string header(header_bytes, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_bytes)))
    fail(path, "cannot read the header");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) fail(path, "header is not a JSON object");

  const uint64_t data_start = 8 + header_bytes;
  const uint64_t data_bytes = file_bytes - data_start;
  std::vector<Entry> entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    entries.push_back(parse_entry(path, it.key(), it.value(), data_bytes));
  }

  // Spans must not overlap (zero-length spans never do).
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail(path, "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
                     "' overlap");

  // Read each tensor straight into its own storage (no second copy of the file in memory).
  std::map<std::string, at::Tensor> out;
  for (const auto& e : entries) {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.type));
    const uint64_t n = e.end - e.begin;
    if (n > 0) {
      in.seekg(static_cast<std::streamoff>(data_start + e.begin));
      if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(n)))
        fail(path, "cannot read the data of tensor '" + e.name + "'");
    }
    out.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Header: "__metadata__" first, then tensors sorted by name with data in the same order,
  // compact JSON padded with spaces to 8 bytes, as the reference writer does.
  std::vector<at::Tensor> data;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail(path, "'__metadata__' is not a valid tensor name");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const auto* d = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                                 [&](const DtypeInfo& x) { return t.scalar_type() == x.type; });
    if (d == std::end(kDtypes))
      fail(path, "tensor '" + name + "' has unsupported dtype " +
                     std::string(c10::toString(t.scalar_type())));
    const uint64_t n = t.numel() * t.element_size();
    header[name] = {{"dtype", d->name}, {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot create temporary file " + tmp);
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(text.size() >> (8 * i));
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data)
      out.write(static_cast<const char*>(t.data_ptr()),
                static_cast<std::streamsize>(t.numel() * t.element_size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      fail(path, "write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::error_code(errno, std::generic_category()).message();
    std::remove(tmp.c_str());
    fail(path, "cannot rename the temporary file into place: " + why);
  }
}

}  // namespace imlsdk
