#include "stats.hpp"

#include <cmath>
#include <limits>

#include <boost/math/distributions/students_t.hpp>

namespace imlcore {

// The t distribution from Boost.Math (exact incomplete-beta based CDF and quantile).
double student_t_two_sided(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  const boost::math::students_t dist(df);
  return 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(t)));
}

double student_t_quantile(double p, double df) {
  if (!(df > 0) || !(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  return boost::math::quantile(boost::math::students_t(df), p);
}

Summary summarize(const std::vector<double>& x) {
  Summary s;
  s.n = x.size();
  if (x.empty()) return s;
  double sum = 0;
  for (double v : x) sum += v;
  s.mean = sum / x.size();
  if (x.size() < 2) return s;
  double ss = 0;
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / (x.size() - 1));
  s.ci95 = student_t_quantile(0.975, x.size() - 1) * s.sd / std::sqrt(double(x.size()));
  return s;
}

double paired_t_pvalue(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(a[i] - b[i]);
  const Summary s = summarize(d);
  if (s.n < 2 || s.sd == 0) return std::numeric_limits<double>::quiet_NaN();
  const double t = s.mean / (s.sd / std::sqrt(double(s.n)));
  return student_t_two_sided(std::fabs(t), s.n - 1);
}

}  // namespace imlcore
