// A deterministic random number generator whose streams are identical on every platform and
// standard library (std::uniform_int_distribution is implementation-defined, so we avoid it).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

namespace imlsdk {

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9E3779B97F4A7C15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      s = z ^ (z >> 31);
    }
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform integer in [0, n), unbiased (rejection sampling).
  uint64_t below(uint64_t n) {
    if (n == 0) throw std::invalid_argument("Rng::below(0)");
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do { r = next_u64(); } while (r >= limit);
    return r % n;
  }

  // Uniform integer in [lo, hi] (inclusive).
  int64_t uniform_int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  bool bernoulli(double p) { return uniform() < p; }

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

  // k distinct elements of `pool`, in random order (partial Fisher-Yates on a copy).
  template <typename T>
  std::vector<T> sample(const std::vector<T>& pool, size_t k) {
    if (k > pool.size()) throw std::invalid_argument("Rng::sample: k larger than the pool");
    std::vector<T> v = pool;
    for (size_t i = 0; i < k; ++i) std::swap(v[i], v[i + below(v.size() - i)]);
    v.resize(k);
    return v;
  }

  // A derived, independent stream (for giving each component its own generator).
  Rng fork(uint64_t salt) { return Rng(next_u64() ^ (salt * 0xD1B54A32D192ED03ULL)); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace imlsdk
