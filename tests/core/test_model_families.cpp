// The host's training loop trains a causal LM, a seq2seq model and an image classifier through
// the same lines: each family is a tiny model written here, trained with the real task plugin,
// and must learn its toy problem. Also: greedy seq2seq decoding with and without the cache, and
// example_gradient.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "imlsdk/analysis.hpp"
#include "imlsdk/generate.hpp"
#include "imlsdk/text_tokenizer.hpp"
#include "test_plugins.hpp"
#include "trainer.hpp"

using namespace imlcore;
using imlsdk::Json;

namespace {

// Causal: logits of position t from the embeddings of tokens <= t (a running mean) — enough to
// learn "prompt -> answer" lookups on a handful of facts.
struct TinyCausal : imlsdk::Model {
  at::Tensor emb, pos, head;
  int64_t V, C = 32;
  explicit TinyCausal(int64_t v) : V(v) {
    emb = register_parameter("emb", at::randn({V, C}) * 0.1);
    pos = register_parameter("pos", at::randn({64, C}) * 0.1);
    head = register_parameter("head", at::randn({V, C}) * 0.1);
  }
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    // Without a cache: every position sees the whole prefix (uses no past state).
    const int64_t T = in.input_ids.size(1);
    at::Tensor x = at::embedding(emb, in.input_ids) + pos.narrow(0, 0, T).unsqueeze(0);
    at::Tensor prefix = x.cumsum(1) / at::arange(1, T + 1, x.options()).view({1, T, 1});
    at::Tensor h = at::tanh(prefix + x);
    imlsdk::ModelOutput out;
    out.logits = at::matmul(h, head.t());
    if (in.last_logits_only) out.logits = out.logits.narrow(1, T - 1, 1);
    if (in.output_hidden_states) out.hidden_states = {x, h};
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::CausalLM;
    i.vocab_size = V;
    i.max_positions = 64;
    i.num_layers = 1;
    i.hidden_size = C;
    return i;
  }
  Json hf_config() const override { return Json::object(); }
};

// Seq2seq: the encoder output is the mean of the prompt's embeddings; the decoder state at step t
// is that plus the running sum of the decoder tokens' embeddings, which the cache carries.
struct TinySeq2Seq : imlsdk::Model {
  at::Tensor emb, dec, head;
  int64_t V, C = 32;
  explicit TinySeq2Seq(int64_t v) : V(v) {
    emb = register_parameter("emb", at::randn({V, C}) * 0.1);
    dec = register_parameter("dec", at::randn({V, C}) * 0.1);
    head = register_parameter("head", at::randn({V, C}) * 0.1);
  }
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    at::Tensor enc;
    if (in.cache && in.cache->encoder_output.defined()) {
      enc = in.cache->encoder_output;
    } else {
      at::Tensor m = in.attention_mask.to(at::kFloat).unsqueeze(-1);
      enc = (at::embedding(emb, in.input_ids) * m).sum(1) / m.sum(1);  // [B, C]
      if (in.cache) in.cache->encoder_output = enc;
    }
    at::Tensor d = at::embedding(dec, in.decoder_input_ids).cumsum(1);  // [B, T, C]
    if (in.cache) {
      if (in.cache->k.empty()) in.cache->k.push_back(at::Tensor());
      at::Tensor& past = in.cache->k[0];
      if (past.defined()) d = d + past.unsqueeze(1);
      past = d.select(1, -1);
    }
    at::Tensor h = at::tanh(d + enc.unsqueeze(1));
    imlsdk::ModelOutput out;
    out.logits = at::matmul(h, head.t());
    if (in.last_logits_only) out.logits = out.logits.narrow(1, out.logits.size(1) - 1, 1);
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::Seq2SeqLM;
    i.vocab_size = V;
    i.decoder_start_id = 0;
    return i;
  }
  Json hf_config() const override { return Json::object(); }
};

// Image classifier: 2 outputs of 3 classes each from a 1x2x2 image.
struct TinyImage : imlsdk::Model {
  at::Tensor w, b;
  TinyImage() {
    w = register_parameter("w", at::randn({6, 4}) * 0.1);
    b = register_parameter("b", at::zeros({6}));
  }
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    imlsdk::ModelOutput out;
    out.logits = at::addmm(b, in.pixel_values.reshape({-1, 4}), w.t()).view({-1, 2, 3});
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::ImageClassifier;
    i.num_labels = 3;
    return i;
  }
  Json hf_config() const override { return Json::object(); }
};

// Pixels: cell i is bright when feature "code"[i] is 1; label of output k = code[k] + code[k+2].
struct TinyImages : imlsdk::Dataset {
  imlsdk::DataSplit split(const imlsdk::SplitContext&) const override { return {}; }
  imlsdk::Image image(const imlsdk::Example& x, bool train, imlsdk::Rng& rng) const override {
    imlsdk::Image img{1, 2, 2, {}};
    for (int64_t v : x.features.at("code"))
      img.pixels.push_back(static_cast<float>(v) + (train ? 0.05f * static_cast<float>(rng.uniform()) : 0.f));
    return img;
  }
};

std::vector<imlsdk::Example> image_examples() {
  std::vector<imlsdk::Example> xs;
  for (int c = 0; c < 16; ++c) {
    imlsdk::Example x;
    std::vector<int64_t> code = {c & 1, (c >> 1) & 1, (c >> 2) & 1, (c >> 3) & 1};
    x.features["code"] = code;
    x.features["labels"] = {code[0] + code[2], code[1] + code[3]};
    xs.push_back(x);
  }
  return xs;
}

std::vector<imlsdk::Example> qa_examples() {
  const std::vector<std::pair<std::string, std::string>> facts = {
      {"Q: a?\nA:", " red\n"}, {"Q: b?\nA:", " blue\n"}, {"Q: c?\nA:", " green\n"}, {"Q: d?\nA:", " red\n"}};
  std::vector<imlsdk::Example> xs;
  for (const auto& [p, a] : facts) {
    imlsdk::Example x;
    x.prompt = p;
    x.answer = a;
    x.text = p + a;
    xs.push_back(x);
  }
  return xs;
}

StageConfig stage(int64_t epochs, double lr) {
  StageConfig st;
  st.name = "s";
  st.train_subset = "full";
  st.epochs = epochs;
  st.training.learning_rate = lr;
  st.training.batch_size = 4;
  st.training.gradient_accumulation_steps = 1;
  st.training.lr_scheduler = "constant";
  st.training.max_grad_norm = 1.0;
  st.training.eval_every = 1000;
  st.training.eval_batch_size = 16;
  st.optimizer_params = Json::object();
  return st;
}

// Trains `model` on `xs` with the task plugin `task_name`; returns {first loss, last loss}.
std::pair<double, double> train(imlsdk::Model& model, const imlsdk::Task& task, const std::vector<imlsdk::Example>& xs,
                                int64_t epochs, double lr) {
  // Loaded once for the process: an exception thrown from a plugin must not outlive its library.
  static auto adamw = imltest::load_plugin<imlsdk::OptimizerPlugin>("adamw");
  StageConfig st = stage(epochs, lr);
  st.optimizer_params = imltest::with_defaults(*adamw);
  StageRun run;
  run.stage = &st;
  run.examples = &xs;
  run.task = &task;
  run.optimizer = adamw.get();
  run.label = "test";
  std::vector<double> losses;
  run.on_step = [&](const StepInfo& i) { losses.push_back(i.loss); };
  const StageStats stats = train_stage(model, run);
  EXPECT_EQ(stats.optimizer_steps, static_cast<int64_t>(losses.size()));
  return {losses.front(), losses.back()};
}

imlsdk::TaskContext context(const imlsdk::Tokenizer* tok, const imlsdk::Dataset* data, const imlsdk::Model& m) {
  imlsdk::TaskContext ctx;
  ctx.tokenizer = tok;
  ctx.dataset = data;
  ctx.model = m.info();
  return ctx;
}

Json defaults(const imlsdk::Plugin& p) { return imltest::with_defaults(p); }

std::shared_ptr<imlsdk::TextTokenizer> tokenizer_of(const std::vector<imlsdk::Example>& xs) {
  std::vector<std::string> texts;
  for (const auto& x : xs) texts.push_back(x.text);
  return imlsdk::TextTokenizer::from_texts(texts);
}

// The QA facts, their tokenizer, a TinyCausal model and the causal_lm task for it.
struct CausalSetup {
  std::vector<imlsdk::Example> xs = qa_examples();
  std::shared_ptr<imlsdk::TextTokenizer> tok = tokenizer_of(xs);
  TinyCausal model{tok->vocab_size()};
  std::shared_ptr<imlsdk::TaskPlugin> plugin = imltest::load_plugin<imlsdk::TaskPlugin>("causal_lm");
  std::unique_ptr<imlsdk::Task> task = plugin->create(defaults(*plugin), context(tok.get(), nullptr, model));
};

}  // namespace

TEST(ModelFamilies, CausalLmTrainsAndAnswers) {
  at::manual_seed(0);
  CausalSetup c;
  const auto& xs = c.xs;
  auto& model = c.model;
  auto& task = c.task;
  const auto [first, last] = train(model, *task, xs, 150, 0.03);
  EXPECT_LT(last, 0.3 * first) << first << " -> " << last;
  model.eval();
  const auto preds = task->predict(model, imlsdk::example_refs(xs, 0, xs.size()));
  ASSERT_EQ(preds.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(preds[i].text, xs[i].answer) << xs[i].prompt;
}

TEST(ModelFamilies, Seq2SeqTrainsOnTheAnswerAndDecodesWithAndWithoutCache) {
  at::manual_seed(0);
  const auto xs = qa_examples();
  std::vector<std::string> texts = {"<start>"};
  for (const auto& x : xs) texts.push_back(x.text);
  auto tok = imlsdk::TextTokenizer::from_texts(texts);
  TinySeq2Seq model(tok->vocab_size());
  auto plugin = imltest::load_plugin<imlsdk::TaskPlugin>("seq2seq_lm");
  auto task = plugin->create(defaults(*plugin), context(tok.get(), nullptr, model));
  // The loss counts answer tokens only: " red\n" + EOS = 3 targets per example.
  imlsdk::Rng rng(1);
  const imlsdk::Batch b = task->collate(imlsdk::example_refs(xs, 0, 1), imlsdk::Phase::Train, rng);
  EXPECT_EQ(b.targets, 3);
  EXPECT_EQ(b.input.decoder_input_ids[0][0].item<int64_t>(), 0);  // decoder start
  const auto [first, last] = train(model, *task, xs, 200, 0.05);
  EXPECT_LT(last, 0.3 * first) << first << " -> " << last;
  model.eval();
  const auto preds = task->predict(model, imlsdk::example_refs(xs, 0, xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(preds[i].text, xs[i].answer) << xs[i].prompt;

  std::vector<std::vector<int64_t>> prompts;
  for (const auto& x : xs) prompts.push_back(tok->encode(x.prompt));
  imlsdk::GenerateOptions o;
  o.max_new_tokens = 4;
  o.pad_id = tok->pad_id();
  std::vector<at::Tensor> with, without;
  o.step_logits = &with;
  const auto a = imlsdk::greedy_generate(model, prompts, o);
  o.use_cache = false;
  o.step_logits = &without;
  const auto c = imlsdk::greedy_generate(model, prompts, o);
  EXPECT_EQ(a, c);
  ASSERT_EQ(with.size(), without.size());
  for (size_t i = 0; i < with.size(); ++i) EXPECT_LT((with[i] - without[i]).abs().max().item<double>(), 1e-5);
}

TEST(ModelFamilies, ImageClassifierTrainsThroughTheSameLoop) {
  at::manual_seed(0);
  TinyImages data;
  TinyImage model;
  auto plugin = imltest::load_plugin<imlsdk::TaskPlugin>("image_classification");
  auto task = plugin->create(defaults(*plugin), context(nullptr, &data, model));
  const auto xs = image_examples();
  const auto [first, last] = train(model, *task, xs, 300, 0.05);
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
  model.eval();
  const auto preds = task->predict(model, imlsdk::example_refs(xs, 0, xs.size()));
  int correct = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    for (int k = 0; k < 2; ++k) correct += preds[i].labels[k] == xs[i].features.at("labels")[k];
  EXPECT_GE(correct, 28) << "of 32 outputs";
}

TEST(ModelFamilies, TasksRefuseTheWrongFamilyAndBadSettings) {
  TinyImage image;
  auto tok = imlsdk::TextTokenizer::from_texts({"a b"});
  auto causal = imltest::load_plugin<imlsdk::TaskPlugin>("causal_lm");
  EXPECT_THROW(causal->create(defaults(*causal), context(tok.get(), nullptr, image)), std::invalid_argument);
  TinyCausal lm(tok->vocab_size());
  Json p = defaults(*causal);
  p["block_size"] = 65;  // the model has 64 positions
  try {
    causal->create(p, context(tok.get(), nullptr, lm));
    FAIL() << "block_size beyond the model's positions must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("block_size 65 exceeds the model's 64 positions"), std::string::npos) << e.what();
  }
  auto images = imltest::load_plugin<imlsdk::TaskPlugin>("image_classification");
  EXPECT_THROW(images->create(defaults(*images), context(tok.get(), nullptr, lm)), std::invalid_argument);
}

TEST(ModelFamilies, ExampleGradientIsOneExamplesGradientAndKeepsTheLoopsGradients) {
  at::manual_seed(0);
  CausalSetup c;
  const auto& xs = c.xs;
  auto& model = c.model;
  auto& task = c.task;
  // A gradient already accumulated by "the loop".
  for (auto& p : model.parameters()) p.mutable_grad() = at::full_like(p, 7.0);
  const at::Tensor g = imlsdk::example_gradient(model, *task, xs[1]);
  for (auto& p : model.parameters()) EXPECT_TRUE(p.grad().eq(7.0).all().item<bool>());
  // The same gradient by hand.
  for (auto& p : model.parameters()) p.mutable_grad().reset();
  imlsdk::Rng rng(0);
  const imlsdk::Batch b = task->collate({&xs[1]}, imlsdk::Phase::Eval, rng);
  task->loss(model.forward(b.input), b).value.backward();
  std::vector<at::Tensor> flat;
  for (auto& p : model.parameters()) flat.push_back(p.grad().reshape({-1}));
  const at::Tensor expected = at::cat(flat);
  ASSERT_EQ(g.numel(), expected.numel());
  EXPECT_LT((g - expected).abs().max().item<double>(), 1e-7);
  EXPECT_GT(g.norm().item<double>(), 0.0);
}
