// Summary statistics for results across seeds: mean with a 95% confidence interval (Student t)
// and a paired t-test.
#pragma once
#include <cstddef>
#include <vector>

namespace imlcore {

struct Summary {
  size_t n = 0;
  double mean = 0, sd = 0;
  double ci95 = 0;  // half-width of the 95% CI of the mean (0 when n < 2)
};

Summary summarize(const std::vector<double>& x);

// Two-sided p-value of the paired t-test of a - b (NaN when n < 2 or all differences equal).
double paired_t_pvalue(const std::vector<double>& a, const std::vector<double>& b);

// Student t: two-sided tail probability P(|T| >= t) with df degrees of freedom, and the quantile
// q with P(T <= q) = p.
double student_t_two_sided(double t, double df);
double student_t_quantile(double p, double df);

}  // namespace imlcore
