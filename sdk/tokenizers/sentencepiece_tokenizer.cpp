// SentencePieceTokenizer: libsentencepiece (exact for the models it trained: Llama's
// tokenizer.model, T5's spiece.model), reached through the SentencePiece module that this
// library loads on first use — see sentencepiece_backend.hpp for why it is a separate module.
#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "imlsdk/pretrained_tokenizer.hpp"
#include "sentencepiece_backend.hpp"

#ifndef IMLSDK_SPM_MODULE_NAME
#error "IMLSDK_SPM_MODULE_NAME (the SentencePiece module's file name) must be defined by the build"
#endif
#ifndef IMLSDK_SPM_DLMOPEN
#define IMLSDK_SPM_DLMOPEN 0
#endif

namespace imlsdk {
namespace {

// Sinks for the module's C interface.
void append_bytes(void* ctx, const char* data, size_t n) { static_cast<std::string*>(ctx)->append(data, n); }
void append_ids(void* ctx, const int* ids, size_t n) {
  static_cast<std::vector<int64_t>*>(ctx)->insert(static_cast<std::vector<int64_t>*>(ctx)->end(), ids, ids + n);
}

// A message on one line.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// The module sits next to this library (build tree and install prefix alike). Loaded once,
// never unloaded; a failure is retried on the next call.
const imlsdk_spm_api& backend() {
  static const imlsdk_spm_api* api = [] {
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&append_bytes), &self) == 0 || self.dli_fname == nullptr)
      throw std::runtime_error("imlsdk::tokenizers: cannot locate its own library file");
    const std::string module =
        (std::filesystem::path(self.dli_fname).parent_path() / IMLSDK_SPM_MODULE_NAME).string();
#if IMLSDK_SPM_DLMOPEN
    // ASan builds: a link namespace of its own instead of RTLD_DEEPBIND (see CMakeLists.txt).
    void* handle = dlmopen(LM_ID_NEWLM, module.c_str(), RTLD_NOW | RTLD_LOCAL);
#else
    void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
#endif
    if (handle == nullptr)
      throw std::runtime_error("imlsdk::tokenizers: cannot load the SentencePiece module (" + one_line(dlerror()) + ")");
    auto entry = reinterpret_cast<imlsdk_spm_entry_fn>(dlsym(handle, IMLSDK_SPM_ENTRY));
    const imlsdk_spm_api* a = entry != nullptr ? entry() : nullptr;
    if (a == nullptr || a->abi_version != IMLSDK_SPM_ABI_VERSION)
      throw std::runtime_error("imlsdk::tokenizers: " + module + " is not a matching SentencePiece module");
    return a;
  }();
  return *api;
}

}  // namespace

struct SentencePieceTokenizer::Impl {
  std::string path;
  const imlsdk_spm_api* api = nullptr;
  void* model = nullptr;
  int64_t size = 0, bos = -1, eos = -1, pad = -1, unk = -1;
  bool own_pad = false;  // the model has a pad piece (T5); else pads are eos (Llama)

  ~Impl() {
    if (model != nullptr) api->destroy(model);
  }
};

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  // libsentencepiece's own message for a missing file is terse; say it plainly.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw std::invalid_argument(path + ": cannot read (no such file)");
  m.api = &backend();
  std::string error;
  m.model = m.api->load(path.c_str(), append_bytes, &error);
  if (m.model == nullptr) throw std::invalid_argument(path + ": not a SentencePiece model (" + one_line(error) + ")");
  m.size = m.api->piece_size(m.model);
  if (m.size <= 0) throw std::invalid_argument(path + ": SentencePiece model has no pieces");
  m.bos = m.api->special_id(m.model, IMLSDK_SPM_BOS);
  m.eos = m.api->special_id(m.model, IMLSDK_SPM_EOS);
  m.unk = m.api->special_id(m.model, IMLSDK_SPM_UNK);
  const int pad = m.api->special_id(m.model, IMLSDK_SPM_PAD);
  m.own_pad = pad >= 0;
  m.pad = m.own_pad ? pad : m.eos;  // T5 trains a pad piece (id 0); Llama has none
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
  const Impl& m = *impl_;
  std::vector<int64_t> ids;
  std::string error;
  if (m.api->encode(m.model, text.data(), text.size(), append_ids, &ids, append_bytes, &error) != 0)
    throw std::runtime_error(m.path + ": encode failed (" + one_line(error) + ")");
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  const Impl& m = *impl_;
  std::vector<int> keep;
  keep.reserve(ids.size());
  for (const int64_t id : ids) {
    if (id == m.eos) break;
    if (id == m.pad || id == m.bos) continue;
    if (id < 0 || id >= m.size) throw std::out_of_range(m.path + ": no piece has id " + std::to_string(id));
    if (m.api->is_control(m.model, static_cast<int>(id)) != 0) continue;
    keep.push_back(static_cast<int>(id));
  }
  std::string text, error;
  if (m.api->decode(m.model, keep.data(), keep.size(), append_bytes, &text, append_bytes, &error) != 0)
    throw std::runtime_error(m.path + ": decode failed (" + one_line(error) + ")");
  return text;
}

int64_t SentencePieceTokenizer::vocab_size() const { return impl_->size; }
int64_t SentencePieceTokenizer::pad_id() const { return impl_->pad; }
int64_t SentencePieceTokenizer::eos_id() const { return impl_->eos; }
int64_t SentencePieceTokenizer::bos_id() const { return impl_->bos; }
bool SentencePieceTokenizer::add_bos() const { return impl_->bos >= 0; }
int64_t SentencePieceTokenizer::unk_id() const { return impl_->unk; }

std::string SentencePieceTokenizer::describe() const {
  const Impl& m = *impl_;
  auto id = [](int64_t v) { return v >= 0 ? std::to_string(v) : std::string("none"); };
  return "SentencePiece model " + m.path + " (" + std::to_string(m.size) + " pieces; bos " + id(m.bos) + ", eos " +
         id(m.eos) + ", unk " + id(m.unk) + ", pad " + id(m.pad) + (m.own_pad ? "" : " (eos)") + ")";
}

}  // namespace imlsdk
