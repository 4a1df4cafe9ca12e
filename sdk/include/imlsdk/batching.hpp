// Turning token sequences into padded tensors: the pieces text tasks share.
#pragma once
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "imlsdk/tokenizer.hpp"

namespace imlsdk {

struct PaddedTokens {
  at::Tensor input_ids;       // [B, T] int64, right-padded with pad_id
  at::Tensor attention_mask;  // [B, T] int64
  at::Tensor labels;          // [B, T] int64; -100 at padding when mask_padding
  int64_t tokens = 0;         // real (unpadded) tokens
};

// [BOS if the tokenizer's model expects one] + the ids of `text` + EOS, truncated to block_size
// (block_size <= 0: no limit).
std::vector<int64_t> encode_for_training(const Tokenizer& tok, const std::string& text,
                                         int64_t block_size);

// Right-pads to the longest sequence (pad_to_block: to block_size, as the reference does).
// mask_padding=false reproduces the reference: padding (EOS) positions count in the loss.
PaddedTokens pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id, bool mask_padding,
              int64_t pad_to = 0);

}  // namespace imlsdk
