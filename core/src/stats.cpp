#include "stats.hpp"

#include <cmath>
#include <limits>

namespace imlcore {

// Regularized incomplete beta I_x(a, b) by Lentz's continued fraction.
static double betacf(double a, double b, double x) {
  const double eps = 1e-15, fpmin = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < fpmin) d = fpmin;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < fpmin) d = fpmin;
    c = 1 + aa / c;
    if (std::fabs(c) < fpmin) c = fpmin;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < fpmin) d = fpmin;
    c = 1 + aa / c;
    if (std::fabs(c) < fpmin) c = fpmin;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < eps) break;
  }
  return h;
}

static double incbeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double bt = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                             b * std::log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return bt * betacf(a, b, x) / a;
  return 1 - bt * betacf(b, a, 1 - x) / b;
}

double student_t_two_sided(double t, double df) {
  if (std::isnan(t)) return std::numeric_limits<double>::quiet_NaN();
  return incbeta(df / 2, 0.5, df / (df + t * t));
}

double student_t_quantile(double p, double df) {
  // bisection on the CDF; p in (0.5, 1)
  double lo = 0, hi = 1e3;
  const double target = 2 * (1 - p);  // two-sided tail
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    if (student_t_two_sided(mid, df) > target) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
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
