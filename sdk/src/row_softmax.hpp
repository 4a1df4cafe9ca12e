// Internal (not installed): the row-wise exp of a softmax over fp32 logits, fused, for
// linear_cross_entropy's blocks (model_common.cpp).
#pragma once
#include <cstdint>

namespace imlsdk::detail {

// For each of the n rows of z (row i at z + i * ld, V values): top[i] = max_j z_ij, then
// z_ij <- exp(z_ij - top[i]) in place and sum[i] = sum_j of those. One pass to find the max and
// one to exponentiate and add, eight lanes at a time (AVX2 + FMA; exp by a Cody-Waite reduction
// and a degree-7 polynomial, within a few ulp of expf). Returns false, touching nothing, where
// this CPU lacks AVX2 or FMA (the caller then uses ATen's ops).
bool exp_rows_fp32(float* z, int64_t n, int64_t V, int64_t ld, float* top, float* sum);

// The same for the n columns of a [V, n] block (value (v, j) at z + v * ld + j): top[j] and
// sum[j] over the column; the sums add partial sums of 256 rows.
bool exp_cols_fp32(float* z, int64_t V, int64_t n, int64_t ld, float* top, float* sum);

}  // namespace imlsdk::detail
