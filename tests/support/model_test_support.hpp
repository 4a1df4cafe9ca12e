// Test helpers the model plugins' tests share: ids from a fixture's JSON rows, tensor
// differences, JSON files, greedy-decoding options, a counting parity check and per-test
// checkpoint folders.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "imlsdk/plugin.hpp"
#include "scratch.hpp"

namespace imltest {

// A fixture's rows of token ids ([[...], [...]]) as a [rows, T] int64 tensor.
inline at::Tensor ids_tensor(const imlsdk::Json& rows) {
  std::vector<at::Tensor> out;
  for (const auto& r : rows) out.push_back(at::tensor(r.get<std::vector<int64_t>>(), at::kLong));
  return at::stack(out);
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

inline imlsdk::Json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return imlsdk::Json::parse(in);
}

// Greedy decoding with pad id 0 (the fixtures' and the small models' padding).
inline imlsdk::GenerateOptions greedy(int64_t max_new_tokens, int64_t eos_id = -1, bool use_cache = true,
                                      std::vector<at::Tensor>* step_logits = nullptr) {
  imlsdk::GenerateOptions o;
  o.max_new_tokens = max_new_tokens;
  o.pad_id = 0;
  o.eos_id = eos_id;
  o.use_cache = use_cache;
  o.step_logits = step_logits;
  return o;
}

// Compares tensors by max |diff| and counts the comparisons, so that a test can assert it
// compared everything a fixture lists (and cannot pass by comparing nothing).
struct Parity {
  std::string what;
  int64_t compared = 0;
  double worst = 0;
  void check(const std::string& name, const at::Tensor& got, const at::Tensor& want, double atol) {
    ++compared;
    ASSERT_EQ(got.sizes(), want.sizes()) << what << ": " << name;
    const double d = max_abs_diff(got, want);
    EXPECT_LE(d, atol) << what << ": " << name;
    worst = std::max(worst, d);
  }
  ~Parity() { std::cout << "[ parity ] " << what << ": " << compared << " compared, max |diff| " << worst << "\n"; }
};

// After loss.backward(): every parameter's gradient against `folder`/grads.safetensors of a
// conformance folder (atol 1e-4), and that the fixture holds no gradient more and the parameters
// number `num_parameters` elements (HF's count). Returns how many gradients were compared.
inline int64_t expect_gradients_equal_hf(const imlsdk::Model& model, const std::filesystem::path& folder,
                                         const std::string& what, int64_t num_parameters) {
  const auto grads = imlsdk::read_safetensors((folder / "grads.safetensors").string());
  Parity gradients{what};
  int64_t elements = 0;
  for (const auto& p : model.named_parameters()) {
    auto it = grads.find(p.key());
    EXPECT_NE(it, grads.end()) << "no reference gradient for " << p.key();
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
    if (it == grads.end() || !p.value().grad().defined()) continue;
    gradients.check(p.key(), p.value().grad(), it->second, 1e-4);
    elements += p.value().numel();
  }
  EXPECT_EQ(gradients.compared, static_cast<int64_t>(grads.size()));
  EXPECT_EQ(elements, num_parameters);
  return gradients.compared;
}


}  // namespace imltest
