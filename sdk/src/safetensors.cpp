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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

struct SafetensorsFile::Impl {
  std::string path;
  int fd = -1;
  void* base = nullptr;
  size_t bytes = 0;
  uint64_t data_start = 0;
  std::map<std::string, Entry> entries;
  std::map<std::string, std::string> metadata;

  ~Impl() {
    if (base && bytes) ::munmap(base, bytes);
    if (fd >= 0) ::close(fd);
  }
  const Entry& entry(const std::string& name) const {
    auto it = entries.find(name);
    if (it == entries.end()) fail(path, "has no tensor '" + name + "'");
    return it->second;
  }
};

SafetensorsFile::SafetensorsFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd < 0) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(m.fd, &st) != 0 || !S_ISREG(st.st_mode)) fail(path, "is not a regular file");
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  if (file_bytes < 8) fail(path, "shorter than the 8-byte header length");
  m.bytes = static_cast<size_t>(file_bytes);
  m.base = ::mmap(nullptr, m.bytes, PROT_READ, MAP_PRIVATE, m.fd, 0);
  if (m.base == MAP_FAILED) {
    m.base = nullptr;
    fail(path, std::string("cannot map (") + std::strerror(errno) + ")");
  }
  const auto* bytes = static_cast<const unsigned char*>(m.base);
  const uint64_t header_bytes = read_u64_le(bytes);
  if (header_bytes > file_bytes - 8)
    fail(path, "header length " + std::to_string(header_bytes) + " exceeds the file size " +
                   std::to_string(file_bytes));
  if (header_bytes > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(header_bytes) + " exceeds the 100 MB limit");

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes + 8, bytes + 8 + header_bytes);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) fail(path, "header is not a JSON object");

  m.data_start = 8 + header_bytes;
  const uint64_t data_bytes = file_bytes - m.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) fail(path, "__metadata__ is not a JSON object");
      for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) {
        if (!kv.value().is_string()) fail(path, "__metadata__ value '" + kv.key() + "' is not a string");
        m.metadata[kv.key()] = kv.value().get<std::string>();
      }
      continue;
    }
    m.entries.emplace(it.key(), parse_entry(path, it.key(), it.value(), data_bytes));
  }

  // Spans must not overlap (zero-length spans never do).
  std::vector<const Entry*> by_offset;
  for (const auto& kv : m.entries) by_offset.push_back(&kv.second);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail(path, "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
                     "' overlap");
}

SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const { return impl_->path; }

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : impl_->entries) out.push_back(kv.first);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const {
  return impl_->entries.count(name) != 0;
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->metadata;
}

at::Tensor SafetensorsFile::view(const std::string& name) const {
  const Entry& e = impl_->entry(name);
  if (e.end == e.begin) return at::empty(e.shape, at::TensorOptions().dtype(e.type));
  char* p = static_cast<char*>(impl_->base) + impl_->data_start + e.begin;
  return at::from_blob(p, e.shape, at::TensorOptions().dtype(e.type));
}

namespace {
// The whole pages of [begin, end) (inner = only pages fully inside, for release) as
// (address, length), or length 0.
std::pair<char*, size_t> page_span(void* base, uint64_t begin, uint64_t end, bool inner) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t b = inner ? (begin + page - 1) / page * page : begin / page * page;
  const uint64_t e = inner ? end / page * page : (end + page - 1) / page * page;
  if (e <= b) return {nullptr, 0};
  return {static_cast<char*>(base) + b, static_cast<size_t>(e - b)};
}
}  // namespace

// [begin, end) in file offsets of a byte range of tensor `name`.
static std::pair<uint64_t, uint64_t> tensor_range(uint64_t data_start, uint64_t tbegin, uint64_t tend,
                                                   int64_t offset, int64_t bytes) {
  const uint64_t size = tend - tbegin;
  const uint64_t off = std::min<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(offset, 0)), size);
  const uint64_t len = bytes < 0 ? size - off : std::min<uint64_t>(static_cast<uint64_t>(bytes), size - off);
  return {data_start + tbegin + off, data_start + tbegin + off + len};
}

void SafetensorsFile::prefetch(const std::string& name, int64_t offset, int64_t bytes) const {
  const Entry& e = impl_->entry(name);
  const auto [b, en] = tensor_range(impl_->data_start, e.begin, e.end, offset, bytes);
  const auto [addr, len] = page_span(impl_->base, b, en, /*inner=*/false);
  if (len == 0) return;
#ifdef MADV_POPULATE_READ
  if (::madvise(addr, len, MADV_POPULATE_READ) == 0) return;
#endif
  ::madvise(addr, len, MADV_WILLNEED);  // older kernels: read-ahead only
}

void SafetensorsFile::release(const std::string& name, int64_t offset, int64_t bytes) const {
  const Entry& e = impl_->entry(name);
  // Whole pages inside the range only; the neighbours' pages stay mapped.
  const auto [b, en] = tensor_range(impl_->data_start, e.begin, e.end, offset, bytes);
  const auto [addr, len] = page_span(impl_->base, b, en, /*inner=*/true);
  if (len) ::madvise(addr, len, MADV_DONTNEED);
}

std::map<std::string, at::Tensor> read_safetensors(const std::string& path) {
  SafetensorsFile file(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& name : file.names()) out.emplace(name, file.view(name).clone());
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
  // Durable before it becomes visible: fsync the data, rename, fsync the folder.
  auto sync = [](const std::string& p, int flags) {
    const int fd = ::open(p.c_str(), flags);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
  };
  if (!sync(tmp, O_RDONLY | O_CLOEXEC)) {
    std::remove(tmp.c_str());
    fail(path, "cannot flush the temporary file to disk");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::error_code(errno, std::generic_category()).message();
    std::remove(tmp.c_str());
    fail(path, "cannot rename the temporary file into place: " + why);
  }
  const auto slash = path.find_last_of('/');
  sync(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash),
       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

}  // namespace imlsdk
