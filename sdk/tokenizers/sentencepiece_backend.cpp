// The SentencePiece module (libimlsdk_tokenizers_spm.so): libsentencepiece behind the C
// interface of sentencepiece_backend.hpp. Built with hidden visibility; exports only the entry.
#include "sentencepiece_backend.hpp"

#include <sentencepiece_processor.h>

#include <exception>
#include <string>
#include <vector>

namespace {

void send(imlsdk_spm_bytes_sink sink, void* ctx, const std::string& s) { sink(ctx, s.data(), s.size()); }

void* load(const char* path, imlsdk_spm_bytes_sink error, void* error_ctx) {
  try {
    auto* sp = new sentencepiece::SentencePieceProcessor();
    const auto status = sp->Load(path);
    if (!status.ok()) {
      send(error, error_ctx, status.ToString());
      delete sp;
      return nullptr;
    }
    return sp;
  } catch (const std::exception& e) {
    send(error, error_ctx, e.what());
    return nullptr;
  }
}

void destroy(void* model) { delete static_cast<sentencepiece::SentencePieceProcessor*>(model); }

const sentencepiece::SentencePieceProcessor& sp(const void* model) {
  return *static_cast<const sentencepiece::SentencePieceProcessor*>(model);
}

int encode(const void* model, const char* text, size_t size, imlsdk_spm_ids_sink out, void* out_ctx,
           imlsdk_spm_bytes_sink error, void* error_ctx) {
  try {
    std::vector<int> ids;
    const auto status = sp(model).Encode(std::string_view(text, size), &ids);
    if (!status.ok()) {
      send(error, error_ctx, status.ToString());
      return 1;
    }
    out(out_ctx, ids.data(), ids.size());
    return 0;
  } catch (const std::exception& e) {
    send(error, error_ctx, e.what());
    return 1;
  }
}

int decode(const void* model, const int* ids, size_t n, imlsdk_spm_bytes_sink out, void* out_ctx,
           imlsdk_spm_bytes_sink error, void* error_ctx) {
  try {
    std::string text;
    const auto status = sp(model).Decode(std::vector<int>(ids, ids + n), &text);
    if (!status.ok()) {
      send(error, error_ctx, status.ToString());
      return 1;
    }
    send(out, out_ctx, text);
    return 0;
  } catch (const std::exception& e) {
    send(error, error_ctx, e.what());
    return 1;
  }
}

int piece_size(const void* model) { return sp(model).GetPieceSize(); }

int special_id(const void* model, int which) {
  switch (which) {
    case IMLSDK_SPM_BOS: return sp(model).bos_id();
    case IMLSDK_SPM_EOS: return sp(model).eos_id();
    case IMLSDK_SPM_PAD: return sp(model).pad_id();
    case IMLSDK_SPM_UNK: return sp(model).unk_id();
    default: return -1;
  }
}

int is_control(const void* model, int id) { return sp(model).IsControl(id) ? 1 : 0; }

const imlsdk_spm_api kApi = {IMLSDK_SPM_ABI_VERSION, load, destroy, encode, decode, piece_size, special_id,
                             is_control};

}  // namespace

extern "C" __attribute__((visibility("default"))) const imlsdk_spm_api* imlsdk_spm_api_v1() { return &kApi; }
