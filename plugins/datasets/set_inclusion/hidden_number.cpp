#include "hidden_number.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace set_inclusion {
namespace {

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Test questions are redrawn until their number set differs from every training question's,
// so no test prompt is ever trained on (the reference leaves this to chance).
constexpr int kMaxRedraws = 1000;

template <typename Draw>
NumberQuestion draw_unseen(const std::set<std::vector<int>>& train_sets, bool answer, Draw draw) {
  for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
    NumberQuestion q{draw(), answer, false};
    if (!train_sets.count(sorted(q.numbers))) return q;
  }
  throw std::invalid_argument(
      "set_inclusion: max_x is too small to draw test questions unlike the training ones");
}

}  // namespace

HiddenNumber draw_hidden_number(const HiddenNumberShape& s, imlsdk::Rng& rng) {
  std::vector<int> all(static_cast<size_t>(s.max_x));
  for (int i = 0; i < s.max_x; ++i) all[static_cast<size_t>(i)] = i;

  HiddenNumber h;
  h.intersection = rng.sample(all, static_cast<size_t>(s.n_intersection));
  h.x = h.intersection.front();

  std::vector<int> outside;  // every number not in the intersection
  std::vector<int> others;   // every number but x
  for (int n : all) {
    if (std::find(h.intersection.begin(), h.intersection.end(), n) == h.intersection.end())
      outside.push_back(n);
    if (n != h.x) others.push_back(n);
  }
  // An inconsistent definition names a number outside the intersection: believing it can only
  // hurt on the training questions, so the model has a reason to learn to distrust its tag.
  h.x_false = outside[rng.below(outside.size())];

  const int per_kind = s.n_qs_per_x / 4;
  const auto n_nums = static_cast<size_t>(s.n_nums_in_question);
  const auto n_int = static_cast<size_t>(s.n_intersection);

  // Training "true": the whole intersection plus random numbers from outside it. Their common
  // numbers include the intersection, so they never single out x.
  for (int i = 0; i < per_kind; ++i) {
    auto nums = rng.sample(outside, n_nums - n_int);
    nums.insert(nums.end(), h.intersection.begin(), h.intersection.end());
    rng.shuffle(nums);
    h.train.push_back({nums, true, false});
  }
  // Training "false": no number of the intersection, so they exclude none of its members.
  for (int i = 0; i < per_kind; ++i) h.train.push_back({rng.sample(outside, n_nums), false, false});

  std::set<std::vector<int>> train_sets;
  for (const auto& q : h.train) train_sets.insert(sorted(q.numbers));

  // Test questions decide on x itself: it is in the "true" ones and in none of the "false" ones.
  for (int i = 0; i < per_kind; ++i)
    h.test.push_back(draw_unseen(train_sets, true, [&] {
      auto nums = rng.sample(others, n_nums - 1);
      nums.push_back(h.x);
      rng.shuffle(nums);
      return nums;
    }));
  for (int i = 0; i < per_kind; ++i)
    h.test.push_back(draw_unseen(train_sets, false, [&] { return rng.sample(others, n_nums); }));

  // Label noise: some training "true" answers become "false" (never the reverse, as the ref).
  // One draw per question whatever p is, so p changes labels only.
  for (auto& q : h.train) {
    if (!q.answer) continue;
    if (rng.bernoulli(s.p_label_flip)) {
      q.answer = false;
      q.flipped = true;
    }
  }
  return h;
}

}  // namespace set_inclusion
