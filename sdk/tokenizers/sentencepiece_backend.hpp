// Internal: the C interface between imlsdk_tokenizers and its SentencePiece module
// (libimlsdk_tokenizers_spm.so, the only code that links libsentencepiece). Not installed.
//
// Why a separate module: Debian's libsentencepiece carries its own copy of protobuf-lite 3.14
// and exports those symbols. In a process that also has LibTorch (and so the system
// libprotobuf 3.21) loaded, the two copies bind to each other and the process dies before
// main() (or fails protobuf's version check). The module is therefore loaded with dlopen
// (RTLD_LOCAL | RTLD_DEEPBIND): libsentencepiece then resolves protobuf to its own copy and
// stays out of the global symbol scope. Only C types cross this interface, and no exception.
#pragma once
#include <stddef.h>

extern "C" {

// Receives bytes (an error message, decoded text) or ids (n ints), in one call.
typedef void (*imlsdk_spm_bytes_sink)(void* ctx, const char* data, size_t n);
typedef void (*imlsdk_spm_ids_sink)(void* ctx, const int* ids, size_t n);

enum { IMLSDK_SPM_ABI_VERSION = 1 };
enum imlsdk_spm_special { IMLSDK_SPM_BOS = 0, IMLSDK_SPM_EOS = 1, IMLSDK_SPM_PAD = 2, IMLSDK_SPM_UNK = 3 };

struct imlsdk_spm_api {
  int abi_version;
  // A loaded model, or null with a message sent to `error`.
  void* (*load)(const char* path, imlsdk_spm_bytes_sink error, void* error_ctx);
  void (*destroy)(void* model);
  // 0 on success; otherwise nonzero with a message sent to `error`.
  int (*encode)(const void* model, const char* text, size_t size, imlsdk_spm_ids_sink out, void* out_ctx,
                imlsdk_spm_bytes_sink error, void* error_ctx);
  int (*decode)(const void* model, const int* ids, size_t n, imlsdk_spm_bytes_sink out, void* out_ctx,
                imlsdk_spm_bytes_sink error, void* error_ctx);
  int (*piece_size)(const void* model);
  int (*special_id)(const void* model, int which);  // an imlsdk_spm_special; -1 = none
  int (*is_control)(const void* model, int id);
};

// The module's one exported symbol.
#define IMLSDK_SPM_ENTRY "imlsdk_spm_api_v1"
typedef const imlsdk_spm_api* (*imlsdk_spm_entry_fn)(void);

}  // extern "C"
