#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace imlcore {

std::string format_duration(double s) {
  if (s < 0 || s != s) return "--:--";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1),
      tty_(::isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t done, const std::string& status) {
  done_ = done;
  if (!status.empty()) status_ = status;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ > std::chrono::milliseconds(100) || done_ >= total_) {
      last_draw_ = now;
      draw(false);
    }
  } else {
    const int decile = static_cast<int>(10 * done_ / total_);
    if (decile != last_decile_) {
      last_decile_ = decile;
      draw(true);
    }
  }
}

void ProgressBar::finish(const std::string& status) {
  if (!status.empty()) status_ = status;
  done_ = total_;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  const double el = elapsed_seconds();
  const double frac = static_cast<double>(done_) / total_;
  const double eta = done_ > 0 ? el * (total_ - done_) / done_ : -1;
  const int width = 24;
  const int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  const double rate = el > 0 ? done_ / el : 0;
  std::fprintf(stderr, "%s%s |%s| %3d%% %lld/%lld %s [%s elapsed, ETA %s, %.2f %s/s] %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), bar.c_str(), static_cast<int>(frac * 100), static_cast<long long>(done_),
               static_cast<long long>(total_), unit_.c_str(), format_duration(el).c_str(),
               format_duration(eta).c_str(), rate, unit_.c_str(), status_.c_str(),
               (final_line || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace imlcore
