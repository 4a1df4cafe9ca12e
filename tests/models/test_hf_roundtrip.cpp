// Saved checkpoints are Hugging Face folders, checked with Hugging Face itself: each architecture's
// conformance model is loaded by its plugin, its weights are changed (so that HF cannot pass by
// reading the fixture's own file), imlhost computes logits and saves the folder with
// imlsdk::save_hf_checkpoint, and transformers 4.33's from_pretrained (the source in
// ../shared/peers, run by tests/models/hf_roundtrip.py with Debian's python3-torch) loads it with no
// missing, unexpected or mismatched tensor and computes the same logits (max |diff| <= 1e-4).
//
// Skipped with a message where python3-torch or ../shared/peers is absent; under CI=true that is a
// failure (.ci/run installs the packages), so CI always runs the round trip for real.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "imlsdk/checkpoint.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "require_fixture.hpp"
#include "test_plugins.hpp"

namespace fs = std::filesystem;
using imlsdk::Json;

namespace {

std::string peers_dir() {
  if (const char* e = std::getenv("IML_PEERS_DIR"); e != nullptr && *e != '\0') return e;
  return std::string(IMLTEST_SOURCE_DIR) + "/../shared/peers";
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Shell {
  int status = -1;
  std::string output;
};

Shell run(const std::string& cmd) {
  Shell r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.output += buf;
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The transformers source, unpacked once per test process from the peers' tarball.
class HfRoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string tarball = peers_dir() + "/transformers-4.33-src.tar.gz";
    if (!fs::is_regular_file(tarball)) {
      unavailable_ = tarball + " is absent (set IML_PEERS_DIR)";
      return;
    }
    const Shell py = run("/usr/bin/python3 -c 'import torch, numpy, regex, packaging, filelock, tqdm, yaml, requests'");
    if (py.status != 0) {
      unavailable_ = "python3 with torch and transformers' dependencies is not installed (" + py.output +
                     "); .ci/run installs python3-torch python3-numpy python3-regex python3-packaging "
                     "python3-filelock python3-tqdm python3-yaml python3-requests";
      return;
    }
    src_root_ = fs::temp_directory_path() / ("imltest-hf-src-" + std::to_string(::getpid()));
    fs::create_directories(src_root_);
    const Shell tar = run("tar -xzf " + quote(tarball) + " -C " + quote(src_root_.string()));
    if (tar.status != 0) unavailable_ = "cannot unpack " + tarball + ": " + tar.output;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!src_root_.empty()) fs::remove_all(src_root_, ec);
  }
  void SetUp() override {
    if (unavailable_.empty()) return;
    if (imltest::in_ci()) FAIL() << "HF round trip cannot run under CI=true: " << unavailable_;
    GTEST_SKIP() << "HF round trip skipped: " << unavailable_;
  }
  void TearDown() override {
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  // `plugin` loads the conformance folder `fixture`; seq2seq models get the fixture's decoder ids.
  void round_trip(const std::string& plugin_name, const std::string& fixture) {
    const fs::path dir = fs::path(imltest::conformance_dir()) / fixture;
    if (!imltest::require_fixture_dir(dir.string(), "set IML_CONFORMANCE_DIR")) return;
    const Json config = Json::parse(std::ifstream(dir / "config.json"));
    const Json input = Json::parse(std::ifstream(dir / "input.json"));

    auto plugin = imltest::load_plugin<imlsdk::ModelPlugin>(plugin_name);
    imlsdk::ModelContext ctx;
    ctx.bos_id = config.value("bos_token_id", int64_t{-1});
    ctx.eos_id = config.value("eos_token_id", int64_t{0});
    ctx.pad_id = config.value("pad_token_id", int64_t{0});
    auto model = plugin->create(imltest::with_defaults(*plugin, {{"checkpoint", dir.string()}}), ctx);
    model->eval();

    // Weights that are not the fixture's: w <- 1.25 w + 0.01 sin(index), per tensor.
    {
      at::NoGradGuard ng;
      for (auto& p : model->parameters()) {
        const auto idx = at::arange(p.numel(), p.options()).reshape(p.sizes());
        p.mul_(1.25).add_(idx.sin().mul_(0.01));
      }
    }

    auto ids = [](const Json& j) {
      const int64_t b = static_cast<int64_t>(j.size()), t = static_cast<int64_t>(j.at(0).size());
      at::Tensor out = at::empty({b, t}, at::kLong);
      for (int64_t i = 0; i < b; ++i)
        for (int64_t k = 0; k < t; ++k) out[i][k] = j.at(i).at(k).get<int64_t>();
      return out;
    };
    imlsdk::ModelInput in;
    in.input_ids = ids(input.at("input_ids"));
    in.attention_mask = ids(input.at("attention_mask_padded"));
    const bool seq2seq = model->info().family == imlsdk::ModelFamily::Seq2SeqLM;
    if (seq2seq) in.decoder_input_ids = ids(input.at("decoder_input_ids"));
    at::Tensor logits;
    {
      at::NoGradGuard ng;
      logits = model->forward(in).logits.contiguous();
    }

    work_ = fs::temp_directory_path() / ("imltest-hf-roundtrip-" + std::to_string(::getpid()) + "-" + fixture);
    fs::remove_all(work_);
    fs::create_directories(work_);
    const fs::path folder = work_ / "checkpoint";
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), folder.string());
    std::map<std::string, at::Tensor> c = {{"input_ids", in.input_ids},
                                           {"attention_mask", in.attention_mask},
                                           {"logits", logits}};
    if (seq2seq) c["decoder_input_ids"] = in.decoder_input_ids;
    imlsdk::write_safetensors((work_ / "case.safetensors").string(), c);

    const std::string cmd = "env IML_PEERS_DIR=" + quote(peers_dir()) + " PEERS_TRANSFORMERS_SRC=" +
                            quote((src_root_ / "transformers-src").string()) +
                            " OMP_NUM_THREADS=1 /usr/bin/python3 " +
                            quote(std::string(IMLTEST_SOURCE_DIR) + "/tests/models/hf_roundtrip.py") + " " +
                            quote(folder.string()) + " " + quote((work_ / "case.safetensors").string());
    const Shell r = run(cmd);
    std::printf("%s", r.output.c_str());
    if (r.status == 3 && !imltest::in_ci()) GTEST_SKIP() << r.output;
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("max |HF - imlhost|"), std::string::npos) << r.output;  // it compared
  }

  static inline std::string unavailable_;
  static inline fs::path src_root_;
  fs::path work_;
};

TEST_F(HfRoundTrip, Pythia) { round_trip("pythia", "gpt_neox"); }
TEST_F(HfRoundTrip, GptNeo) { round_trip("gpt_neo", "gpt_neo"); }
TEST_F(HfRoundTrip, Llama) { round_trip("llama", "llama"); }
TEST_F(HfRoundTrip, LlamaGqa) { round_trip("llama", "llama_gqa"); }
TEST_F(HfRoundTrip, T5) { round_trip("t5", "t5"); }
TEST_F(HfRoundTrip, T5v11) { round_trip("t5", "t5_v1_1"); }

}  // namespace
