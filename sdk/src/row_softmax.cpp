// The row-wise exp of a softmax over fp32 logits (row_softmax.hpp).
//
// linear_cross_entropy's softmax over a block of logits was five ATen passes over [rows, V]:
// max, subtract, exp, sum and a scaling. LibTorch 1.13's exp runs at ~1.7 ns per value on this
// project's 2 GHz AVX2 machines; with a vocabulary of 1 614 that was ~7 % of set inclusion's
// training step. Here the max is one pass and exp + sum another, in registers. exp_cols is the
// same over the columns of a [V, n] block (the layout that linear_cross_entropy uses for wide
// vocabularies), eight columns at a time, row after row.
#include "row_softmax.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "simd_exp.hpp"

namespace imlsdk::detail {

#ifdef IMLSDK_SIMD_AVX2

namespace {

IMLSDK_AVX2 inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

IMLSDK_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

IMLSDK_AVX2 void exp_rows_avx2(float* z, int64_t n, int64_t V, int64_t ld, float* top, float* sum) {
  const int64_t body = V - V % 8, rest = V % 8;
  const __m256i mask = tail_mask(rest);
  const __m256 lowest = _mm256_set1_ps(std::numeric_limits<float>::lowest());
  for (int64_t i = 0; i < n; ++i) {
    float* row = z + i * ld;
    // The max, and whether the row holds a NaN (which max_ps would drop): then the max is NaN, and
    // so is every exp and the sum, as with ATen's ops.
    __m256 m0 = lowest, m1 = lowest, nan = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= body; j += 16) {
      const __m256 a = _mm256_loadu_ps(row + j), b = _mm256_loadu_ps(row + j + 8);
      m0 = _mm256_max_ps(m0, a);
      m1 = _mm256_max_ps(m1, b);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
    }
    for (; j < body; j += 8) {
      const __m256 a = _mm256_loadu_ps(row + j);
      m0 = _mm256_max_ps(m0, a);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
    }
    if (rest) {
      const __m256 a = _mm256_blendv_ps(lowest, _mm256_maskload_ps(row + body, mask), _mm256_castsi256_ps(mask));
      m1 = _mm256_max_ps(m1, a);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
    }
    const float mx = _mm256_movemask_ps(nan) ? std::numeric_limits<float>::quiet_NaN()
                                             : horizontal_max(_mm256_max_ps(m0, m1));
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (j = 0; j + 16 <= body; j += 16) {
      const __m256 e0 = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
      const __m256 e1 = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), vm));
      _mm256_storeu_ps(row + j, e0);
      _mm256_storeu_ps(row + j + 8, e1);
      s0 = _mm256_add_ps(s0, e0);
      s1 = _mm256_add_ps(s1, e1);
    }
    for (; j < body; j += 8) {
      const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
      _mm256_storeu_ps(row + j, e);
      s0 = _mm256_add_ps(s0, e);
    }
    if (rest) {
      const __m256 e = _mm256_and_ps(exp_nonpositive(_mm256_sub_ps(_mm256_maskload_ps(row + body, mask), vm)),
                                     _mm256_castsi256_ps(mask));
      _mm256_maskstore_ps(row + body, mask, e);
      s1 = _mm256_add_ps(s1, e);
    }
    top[i] = mx;
    sum[i] = horizontal_sum(_mm256_add_ps(s0, s1));
  }
}

IMLSDK_AVX2 void exp_cols_avx2(float* z, int64_t V, int64_t n, int64_t ld, float* top, float* sum) {
  const int64_t body = n - n % 8, rest = n % 8;
  const __m256i mask = tail_mask(rest);
  std::fill(top, top + n, std::numeric_limits<float>::lowest());
  std::fill(sum, sum + n, 0.0f);
  // Pass 1: the column maxima. A NaN is passed over here (max_ps returns its second operand), but
  // its exp below is NaN, and so are its column's sum and loss, as with ATen's ops.
  for (int64_t v = 0; v < V; ++v) {
    const float* row = z + v * ld;
    int64_t j = 0;
    for (; j < body; j += 8)
      _mm256_storeu_ps(top + j, _mm256_max_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(top + j)));
    if (rest)
      _mm256_maskstore_ps(top + j, mask, _mm256_max_ps(_mm256_maskload_ps(row + j, mask), _mm256_maskload_ps(top + j, mask)));
  }
  // Pass 2: exp in place; each column's sum adds partial sums of kSumRows rows (the rounding
  // error of a sum of V terms then grows with kSumRows + V / kSumRows, not with V).
  constexpr int64_t kSumRows = 256;
  std::vector<float> part(static_cast<size_t>(n));
  for (int64_t v0 = 0; v0 < V; v0 += kSumRows) {
    std::fill(part.begin(), part.end(), 0.0f);
    for (int64_t v = v0; v < std::min(V, v0 + kSumRows); ++v) {
      float* row = z + v * ld;
      int64_t j = 0;
      for (; j < body; j += 8) {
        const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(top + j)));
        _mm256_storeu_ps(row + j, e);
        _mm256_storeu_ps(part.data() + j, _mm256_add_ps(_mm256_loadu_ps(part.data() + j), e));
      }
      if (rest) {
        const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_maskload_ps(row + j, mask), _mm256_maskload_ps(top + j, mask)));
        _mm256_maskstore_ps(row + j, mask, e);
        _mm256_maskstore_ps(part.data() + j, mask, _mm256_add_ps(_mm256_maskload_ps(part.data() + j, mask), e));
      }
    }
    for (int64_t j = 0; j < n; ++j) sum[j] += part[static_cast<size_t>(j)];
  }
}

}  // namespace

bool exp_cols_fp32(float* z, int64_t V, int64_t n, int64_t ld, float* top, float* sum) {
  if (!cpu_has_avx2_fma() || V <= 0 || n <= 0) return false;
  exp_cols_avx2(z, V, n, ld, top, sum);
  return true;
}

bool exp_rows_fp32(float* z, int64_t n, int64_t V, int64_t ld, float* top, float* sum) {
  if (!cpu_has_avx2_fma() || V <= 0) return false;
  exp_rows_avx2(z, n, V, ld, top, sum);
  return true;
}

#else

bool exp_rows_fp32(float*, int64_t, int64_t, int64_t, float*, float*) { return false; }
bool exp_cols_fp32(float*, int64_t, int64_t, int64_t, float*, float*) { return false; }

#endif

}  // namespace imlsdk::detail
