#include "imlsdk/batching.hpp"

#include <ATen/ATen.h>
#include <algorithm>

namespace imlsdk {

std::vector<int64_t> encode_for_training(const Tokenizer& tok, const std::string& text,
                                         int64_t block_size) {
  std::vector<int64_t> ids;
  if (tok.add_bos() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  const std::vector<int64_t> body = tok.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(tok.eos_id());
  if (block_size > 0 && static_cast<int64_t>(ids.size()) > block_size) ids.resize(block_size);
  return ids;
}

PaddedTokens pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id, bool mask_padding,
              int64_t pad_to) {
  int64_t T = pad_to;
  for (const auto& s : seqs) T = std::max<int64_t>(T, static_cast<int64_t>(s.size()));
  const int64_t B = static_cast<int64_t>(seqs.size());
  PaddedTokens b;
  b.input_ids = at::full({B, T}, pad_id, at::kLong);
  b.attention_mask = at::zeros({B, T}, at::kLong);
  auto ids = b.input_ids.accessor<int64_t, 2>();
  auto am = b.attention_mask.accessor<int64_t, 2>();
  for (int64_t i = 0; i < B; ++i) {
    for (size_t j = 0; j < seqs[i].size(); ++j) {
      ids[i][j] = seqs[i][j];
      am[i][j] = 1;
    }
    b.tokens += static_cast<int64_t>(seqs[i].size());
  }
  b.labels = b.input_ids.clone();
  if (mask_padding) b.labels.masked_fill_(b.attention_mask.eq(0), -100);
  return b;
}

}  // namespace imlsdk
