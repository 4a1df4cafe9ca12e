// Shared by test_mnist_grid and its cross-process child (mnist_grid_digest): loading the
// mnist_grid dataset with pixel_pattern tags, and a digest of one seed's examples and pixels.
#pragma once
#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "imlsdk/data.hpp"
#include "scratch.hpp"
#include "test_plugins.hpp"

namespace mnist_grid_test {

using imlsdk::Json;

// The official t10k files of the fixtures, also linked as train-* (the fixtures lack the train
// images), in a scratch folder `name`; "" when the fixture folder is absent.
inline std::string idx_dir(const std::string& fixture, const std::string& name) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(fixture)) return "";
  // One folder per process (scratch.hpp): ctest -j runs the suite's tests as separate processes
  // side by side, and each one's set-up empties its folder (a shared one vanished under another
  // test in CI).
  const fs::path d = imltest::scratch_dir("mnist_" + name);
  for (const char* split : {"train", "t10k"}) {
    fs::create_symlink(fs::path(fixture) / "t10k-images-idx3-ubyte.gz", d / (std::string(split) + "-images-idx3-ubyte.gz"));
    fs::create_symlink(fs::path(fixture) / "t10k-labels-idx1-ubyte.gz", d / (std::string(split) + "-labels-idx1-ubyte.gz"));
  }
  return d.string();
}

struct Loaded {
  // Plugins first: they are destroyed last, after the objects their libraries made.
  std::shared_ptr<imlsdk::DatasetPlugin> data_plugin = imltest::load_plugin<imlsdk::DatasetPlugin>("mnist_grid");
  std::shared_ptr<imlsdk::TagPlugin> tag_plugin = imltest::load_plugin<imlsdk::TagPlugin>("pixel_pattern");
  std::unique_ptr<imlsdk::Dataset> data;
  std::unique_ptr<imlsdk::Tagger> tagger;

  Loaded(const Json& overrides, uint64_t tag_seed) {
    data = data_plugin->load(imltest::with_defaults(*data_plugin, overrides), imlsdk::LoadContext{});
    imlsdk::Rng r(tag_seed);
    tagger = tag_plugin->create(imltest::with_defaults(*tag_plugin), r);
  }
  imlsdk::DataSplit split(uint64_t seed, uint64_t seed2) const {
    imlsdk::SplitContext ctx;
    ctx.seed = seed;
    ctx.seed_stage2 = seed2;
    ctx.tagger = tagger.get();
    return data->split(ctx);
  }
};

inline Json small_config(const std::string& dir) {
  return Json{{"source", "idx"}, {"path", dir}, {"variables", 200}};
}

inline void hash_bytes(uint64_t& h, const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
}

inline void hash_example(uint64_t& h, const imlsdk::Example& x) {
  for (const std::string* s : {&x.kind, &x.subset, &x.variable, &x.entity, &x.answer}) hash_bytes(h, s->data(), s->size() + 1);
  for (const auto& [k, v] : x.features) {
    hash_bytes(h, k.data(), k.size() + 1);
    hash_bytes(h, v.data(), v.size() * sizeof(int64_t));
  }
}

// Every example of seed (3, 1), the pixels of the first 64 training examples of `full` (drawn
// online, with per-example rngs as the trainer's micro-batches give them) and of every eval
// example.
inline std::string digest(const Loaded& l) {
  const imlsdk::DataSplit s = l.split(3, 1);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [name, xs] : s.train) {
    hash_bytes(h, name.data(), name.size() + 1);
    for (const auto& x : xs) hash_example(h, x);
  }
  const auto& full = s.train.at("full");
  for (size_t i = 0; i < 64 && i < full.size(); ++i) {
    imlsdk::Rng r(1000 + i);
    const imlsdk::Image img = l.data->image(full[i], true, r);
    hash_bytes(h, img.pixels.data(), img.pixels.size() * sizeof(float));
  }
  imlsdk::Rng unused(7);
  for (const auto& e : s.evals) {
    hash_bytes(h, e.name.data(), e.name.size() + 1);
    for (const auto& x : e.examples) {
      hash_example(h, x);
      const imlsdk::Image img = l.data->image(x, false, unused);
      hash_bytes(h, img.pixels.data(), img.pixels.size() * sizeof(float));
    }
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace mnist_grid_test
