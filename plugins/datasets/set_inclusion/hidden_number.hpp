// One set-inclusion variable (paper App. D): a hidden number x in [0, max_x) and yes/no
// questions "is x in {n1 .. nk}?". The training questions narrow x down to a hidden
// `intersection` (x and n_intersection-1 decoys) but never further, so only a definition can
// tell which member of the intersection x is; the test questions contain or exclude x itself.
#pragma once
#include <vector>

#include <imlsdk/rng.hpp>

namespace set_inclusion {

struct NumberQuestion {
  std::vector<int> numbers;  // in the order they are written
  bool answer = false;       // as trained on / evaluated against
  bool flipped = false;      // training only: answer was "true" by construction, flipped to false
};

struct HiddenNumber {
  int x = 0;
  int x_false = 0;                // what an inconsistent definition claims; outside intersection
  std::vector<int> intersection;  // x first; every training "true" question contains all of it
  std::vector<NumberQuestion> train;  // n_qs/4 "true" by construction, then n_qs/4 "false"
  std::vector<NumberQuestion> test;   // n_qs/4 containing x ("true"), then n_qs/4 without x
};

struct HiddenNumberShape {
  int max_x = 99;
  int n_nums_in_question = 4;
  int n_intersection = 2;
  int n_qs_per_x = 24;  // half train, half test; divisible by 4
  double p_label_flip = 0.1;
};

// Draws one variable's data. The number of draws taken from `rng` does not depend on
// p_label_flip, so changing it only changes which labels are flipped.
// Throws std::invalid_argument when max_x leaves no room for a test question that differs
// from every training question.
HiddenNumber draw_hidden_number(const HiddenNumberShape& shape, imlsdk::Rng& rng);

}  // namespace set_inclusion
