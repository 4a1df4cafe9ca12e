// A progress bar with rate and ETA on stderr. On a terminal it redraws one line; otherwise
// (logs, CI) it prints a line at every 10% and at the end.
#pragma once
#include <chrono>
#include <string>

namespace imlcore {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit = "steps");
  void update(int64_t done, const std::string& status = "");
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void draw(bool final_line);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);

}  // namespace imlcore
