// The text tasks' evaluate() (SDK 2.2) reads greedy answers off the loss pass's logits where an
// example's text (causal_lm) or answer (seq2seq_lm) continues its prompt with the model's own
// answer, goes on from the loss pass's keys and values where the text leaves the answer (causal)
// and generates the others. On small random models of each LM architecture: the predictions must
// be predict()'s token for token, the loss the separate loss pass's bit for bit, and exactly the
// examples whose answer follows the greedy one (or leaves it only at the last step) may be read
// off the loss pass.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "imlsdk/analysis.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/parallel.hpp"
#include "imlsdk/task.hpp"
#include "imlsdk/text_tokenizer.hpp"
#include "test_plugins.hpp"

using imlsdk::Example;
using imlsdk::Json;

namespace {

constexpr int64_t kSteps = 3;  // max_new_tokens

// A small random model of `arch` (pythia, gpt_neo, llama: causal_lm; t5: seq2seq_lm) over 40 words.
struct Rig {
  std::shared_ptr<imlsdk::ModelPlugin> arch_plugin;
  std::shared_ptr<imlsdk::TaskPlugin> task_plugin;
  std::shared_ptr<imlsdk::TextTokenizer> tok;
  std::shared_ptr<imlsdk::Model> model;
  std::unique_ptr<imlsdk::Task> task;

  explicit Rig(const std::string& arch = "pythia", int64_t max_positions = 64)
      : arch_plugin(imltest::load_plugin<imlsdk::ModelPlugin>(arch)),
        task_plugin(imltest::load_plugin<imlsdk::TaskPlugin>(arch == "t5" ? "seq2seq_lm" : "causal_lm")) {
    std::vector<std::string> words;
    for (int i = 0; i < 40; ++i) words.push_back(" w" + std::to_string(i));
    std::string all;
    for (const auto& w : words) all += w;
    tok = imlsdk::TextTokenizer::from_texts({all});
    imlsdk::ModelContext mc;
    mc.vocab_size = tok->vocab_size();
    mc.pad_id = tok->pad_id();
    mc.eos_id = tok->eos_id();
    at::manual_seed(20261206);
    Json shape = {{"vocab_size", tok->vocab_size()}};
    if (arch == "t5") {
      shape.update(Json{{"d_model", 32}, {"d_kv", 8}, {"d_ff", 64}, {"num_layers", 2}, {"num_heads", 4},
                        {"relative_attention_num_buckets", 8}, {"relative_attention_max_distance", 16}, {"dropout_rate", 0.0}});
    } else {
      shape.update(Json{{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 4}, {"intermediate_size", 64},
                        {"max_position_embeddings", max_positions}});
      // GPT-Neo: a local layer whose window is shorter than the texts; Llama: grouped KV heads
      if (arch == "gpt_neo") shape.update(Json{{"attention_pattern", {"global", "local"}}, {"window_size", 4}});
      if (arch == "llama") shape["num_key_value_heads"] = 2;
    }
    model = arch_plugin->create(imltest::with_defaults(*arch_plugin, shape), mc);
    model->eval();
    imlsdk::TaskContext tc;
    tc.tokenizer = tok.get();
    tc.model = model->info();
    task = task_plugin->create(imltest::with_defaults(*task_plugin, {{"block_size", std::min<int64_t>(32, max_positions)},
                                                                     {"max_new_tokens", kSteps}}),
                               tc);
  }

  // What the host hands an analysis: this model and task, a task with evaluate() (SDK >= 2.2).
  imlsdk::EvalState state(const imlsdk::DataSplit& split) const {
    imlsdk::EvalState st;
    st.model = model.get();
    st.task = task.get();
    st.data = &split;
    st.task_has_evaluate = true;
    return st;
  }
};

Example example(const std::string& prompt, const std::string& answer) {
  Example x;
  x.prompt = prompt;
  x.answer = answer;
  x.text = prompt + answer;
  x.kind = "qa";
  return x;
}

std::string word(int64_t id, const imlsdk::TextTokenizer& tok) { return tok.decode({id}); }

// Ids 0..2 are <pad>, <unk>, <eos>: an answer without them decodes to text that encodes back to it.
bool plain_words(const std::vector<int64_t>& ids) {
  for (int64_t t : ids)
    if (t < 3) return false;
  return true;
}

std::vector<const Example*> refs(const std::vector<Example>& xs) { return imlsdk::example_refs(xs, 0, xs.size()); }

}  // namespace

class TextTaskEvaluate : public ::testing::TestWithParam<std::string> {};

TEST_P(TextTaskEvaluate, ReadsAnswersOffTheLossPassWhereTheTextFollowsThem) {
  const bool causal = GetParam() != "t5";
  Rig r(GetParam());
  // Prompts of 2..6 random words; their greedy answers first, through predict().
  at::manual_seed(7);
  std::vector<Example> prompts;
  for (int i = 0; i < 48; ++i) {  // seq2seq: prompts and answers must not be empty
    const int64_t len = 2 + i % 5;
    const at::Tensor w = at::randint(0, 40, {len}, at::kLong);
    std::string p;
    for (int64_t k = 0; k < len; ++k) p += " w" + std::to_string(w[k].item<int64_t>());
    prompts.push_back(example(p, ""));
  }
  const auto greedy = r.task->predict(*r.model, refs(prompts));
  ASSERT_EQ(greedy.size(), prompts.size());

  // Four kinds of example per prompt, and whether evaluate() may read the answer off the loss pass.
  std::vector<Example> xs;
  int64_t expect_resolved = 0, skipped = 0, used = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& g = greedy[i].tokens;
    if (static_cast<int64_t>(g.size()) != kSteps || !plain_words(g)) {
      ++skipped;  // random weights: an EOS or another special would make the kinds below collapse
      continue;
    }
    ++used;
    const std::string& p = prompts[i].prompt;
    const int64_t other0 = g[0] == 3 ? 4 : 3, other1 = g[1] == 3 ? 4 : 3, other2 = g[2] == 3 ? 4 : 3;
    // (a) the text is the prompt + the model's own answer: all of it from the loss pass
    xs.push_back(example(p, greedy[i].text));
    ++expect_resolved;
    // (b) the text leaves the answer at its last token: still all from the loss pass
    xs.push_back(example(p, word(g[0], *r.tok) + word(g[1], *r.tok) + word(other2, *r.tok)));
    ++expect_resolved;
    // (c) the text leaves it at the second token: step 2 would need the model's own token
    xs.push_back(example(p, word(g[0], *r.tok) + word(other1, *r.tok)));
    // (d) another first token; (e) the first token, then the end of the answer
    xs.push_back(example(p, word(other0, *r.tok)));
    xs.push_back(example(p, word(g[0], *r.tok)));
    if (causal) {  // (f) a text that does not start with its prompt
      Example shifted = example(p, greedy[i].text);
      shifted.text = " w39" + shifted.text;
      xs.push_back(shifted);
    }
  }
  ASSERT_GE(used, 10) << skipped << " random prompts skipped: their greedy answers hold special tokens";

  const imlsdk::EvalOutput joint = r.task->evaluate(*r.model, refs(xs), true, true);
  const imlsdk::EvalOutput separate = r.task->Task::evaluate(*r.model, refs(xs), true, true);
  EXPECT_EQ(separate.predictions_from_loss_pass, 0);
  EXPECT_EQ(joint.predictions_from_loss_pass, expect_resolved);
  ASSERT_EQ(joint.predictions.size(), xs.size());
  ASSERT_EQ(separate.predictions.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    SCOPED_TRACE("example " + std::to_string(i) + ": '" + xs[i].text + "'");
    EXPECT_EQ(joint.predictions[i].tokens, separate.predictions[i].tokens);
    EXPECT_EQ(joint.predictions[i].text, separate.predictions[i].text);
  }
  // The loss: the same collate, forward and loss, so the same bits.
  EXPECT_EQ(joint.loss.count, separate.loss.count);
  EXPECT_EQ(joint.loss.value.item<double>(), separate.loss.value.item<double>());

  // Predictions only, and the loss only.
  const imlsdk::EvalOutput only_pred = r.task->evaluate(*r.model, refs(xs), false, true);
  EXPECT_FALSE(only_pred.loss.value.defined());
  EXPECT_EQ(only_pred.predictions_from_loss_pass, expect_resolved);
  const imlsdk::EvalOutput only_loss = r.task->evaluate(*r.model, refs(xs), true, false);
  EXPECT_TRUE(only_loss.predictions.empty());
  EXPECT_EQ(only_loss.loss.value.item<double>(), separate.loss.value.item<double>());
}

INSTANTIATE_TEST_SUITE_P(Tasks, TextTaskEvaluate, ::testing::Values("pythia", "gpt_neo", "llama", "t5"),
                         [](const auto& info) { return info.param; });

// The host's training loss (core/src/trainer.cpp): where the model's head is a linear map, the
// task's head_loss of forward_head_input_at(the task's head_rows) instead of loss() of the
// logits, equal in value and in every gradient (causal_lm for pythia, gpt_neo, llama;
// seq2seq_lm for t5).
TEST_P(TextTaskEvaluate, HeadLossEqualsTheLossOfTheLogitsInValueAndGradient) {
  Rig rig(GetParam());
  const imlsdk::LinearHead head = rig.model->linear_head();
  ASSERT_TRUE(head.weight.defined()) << GetParam();
  std::vector<Example> xs;
  for (int i = 0; i < 6; ++i) {  // answers and prompts of different lengths: padding in both
    std::string prompt, answer;
    for (int j = 0; j <= i % 3; ++j) prompt += word(3 + (5 * i + j) % 37, *rig.tok);
    for (int j = 0; j <= (i + 1) % 4; ++j) answer += word(3 + (7 * i + 2 * j) % 37, *rig.tok);
    xs.push_back(example(prompt, answer));
  }
  imlsdk::Rng rng(0);
  const imlsdk::Batch b = rig.task->collate(refs(xs), imlsdk::Phase::Train, rng);
  auto grads_of = [&](const at::Tensor& loss) {
    rig.model->zero_grad();
    loss.backward();
    std::vector<at::Tensor> g;
    for (const auto& p : rig.model->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    return g;
  };
  const imlsdk::Loss from_logits = rig.task->loss(rig.model->forward(b.input), b);
  const auto g_logits = grads_of(from_logits.value);
  const imlsdk::Loss from_head =
      rig.task->head_loss(rig.model->forward_head_input_at(b.input, rig.task->head_rows(b)), head, b);
  const auto g_head = grads_of(from_head.value);
  EXPECT_EQ(from_head.count, from_logits.count);
  EXPECT_NEAR(from_head.value.item<double>(), from_logits.value.item<double>(), 1e-5);
  ASSERT_EQ(g_head.size(), g_logits.size());
  for (size_t i = 0; i < g_head.size(); ++i)
    EXPECT_LE((g_head[i] - g_logits[i]).abs().max().item<double>(), 1e-5 + 1e-4 * g_logits[i].abs().max().item<double>())
        << GetParam() << " parameter " << i;
  rig.model->zero_grad();
}

TEST(CausalLmEvaluate, EvaluateExamplesCallsItOnlyForTasksThatHaveIt) {
  Rig r;
  // Three prompts whose greedy answers are plain words, followed by those answers.
  std::vector<Example> xs;
  for (int i = 0; i < 40 && xs.size() < 3; ++i) {
    const std::vector<Example> one = {example(" w" + std::to_string(i) + " w" + std::to_string((i * 7) % 40), "")};
    const auto answer = r.task->predict(*r.model, refs(one));
    if (plain_words(answer[0].tokens)) xs.push_back(example(one[0].prompt, answer[0].text));
  }
  ASSERT_EQ(xs.size(), 3u);
  imlsdk::DataSplit split;
  imlsdk::EvalState st = r.state(split);
  const auto with = imlsdk::evaluate_examples(st, refs(xs), true, true);
  st.task_has_evaluate = false;  // a task plugin built against SDK 2.1
  const auto without = imlsdk::evaluate_examples(st, refs(xs), true, true);
  EXPECT_EQ(with.predictions_from_loss_pass, 3);
  EXPECT_EQ(without.predictions_from_loss_pass, 0);
  ASSERT_EQ(with.predictions.size(), 3u);
  ASSERT_EQ(without.predictions.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(with.predictions[i].tokens, without.predictions[i].tokens);
  EXPECT_EQ(with.loss.value.item<double>(), without.loss.value.item<double>());
}

// SDK 2.3: with evaluation_streams() > 1, evaluate_examples splits the examples into parts that run
// side by side; the answers must be the one-call answers, the loss the parts' losses (each as
// evaluate() gives it for that part alone) combined by their counts, the same in every call.
TEST_P(TextTaskEvaluate, StreamsGiveTheOneCallAnswersAndThePartsCombinedLoss) {
  Rig r(GetParam());
  EXPECT_TRUE(r.task->concurrent_calls());
  EXPECT_TRUE(r.model->concurrent_forward(false));
  at::manual_seed(3);
  std::vector<Example> xs;
  // 70 examples: 2 streams cut them by size into 4 chunks, 2 per job; 3 streams into 3 runs
  for (int i = 0; i < 70; ++i) {
    const int64_t len = 2 + i % 6;
    const at::Tensor w = at::randint(0, 40, {len + 2}, at::kLong);
    std::string p, a;
    for (int64_t k = 0; k < len; ++k) p += " w" + std::to_string(w[k].item<int64_t>());
    for (int64_t k = len; k < len + 2; ++k) a += " w" + std::to_string(w[k].item<int64_t>());
    xs.push_back(example(p, a));
  }
  imlsdk::DataSplit split;
  imlsdk::EvalState st = r.state(split);
  const auto one = imlsdk::evaluate_examples(st, refs(xs), true, true);
  for (int64_t streams : {2, 3}) {
    SCOPED_TRACE("streams " + std::to_string(streams));
    imlsdk::set_evaluation_streams(streams);
    const auto many = imlsdk::evaluate_examples(st, refs(xs), true, true);
    ASSERT_EQ(many.predictions.size(), xs.size());
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(many.predictions[i].tokens, one.predictions[i].tokens) << "example " << i;
    EXPECT_EQ(many.predictions_from_loss_pass, one.predictions_from_loss_pass);
    EXPECT_EQ(many.loss.count, one.loss.count);
    EXPECT_NEAR(many.loss.value.item<double>(), one.loss.value.item<double>(), 1e-6 * one.loss.value.item<double>());
    // Again: the same bits (the parts' results do not depend on which thread ends first).
    const auto again = imlsdk::evaluate_examples(st, refs(xs), true, true);
    EXPECT_EQ(again.loss.value.item<double>(), many.loss.value.item<double>());
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(again.predictions[i].tokens, many.predictions[i].tokens);
    // The parts one after the other, here, combined by their counts (the same up to rounding:
    // side by side, each part's GEMMs run on one BLAS thread).
    double sum = 0;
    int64_t count = 0;
    const auto all = refs(xs);
    const auto plan = imlsdk::side_by_side_plan(imlsdk::example_sizes(all), streams, imlsdk::kMinRowsPerStream);
    EXPECT_EQ(plan.size(), static_cast<size_t>(streams));
    EXPECT_EQ(plan[0].size(), streams == 2 ? 2u : 1u);
    for (const auto& job : plan)
      for (const auto& chunk : job) {
        std::vector<const Example*> part;
        for (int64_t i : chunk) part.push_back(all[static_cast<size_t>(i)]);
        const auto o = r.task->evaluate(*r.model, part, true, false);
        sum += o.loss.value.item<double>() * static_cast<double>(o.loss.count);
        count += o.loss.count;
      }
    EXPECT_NEAR(many.loss.value.item<double>(), sum / static_cast<double>(count), 1e-6 * sum / static_cast<double>(count));
  }
  // Too few examples for two parts of kMinRowsPerStream: one call, the same bits.
  const std::vector<Example> few(xs.begin(), xs.begin() + 2 * imlsdk::kMinRowsPerStream - 1);
  imlsdk::set_evaluation_streams(1);
  const auto few_one = imlsdk::evaluate_examples(st, refs(few), true, true);
  imlsdk::set_evaluation_streams(2);
  const auto few_two = imlsdk::evaluate_examples(st, refs(few), true, true);
  EXPECT_EQ(few_two.loss.value.item<double>(), few_one.loss.value.item<double>());
  imlsdk::set_evaluation_streams(1);
}

TEST(CausalLmEvaluate, PromptsWithoutRoomForTheAnswerAreRefusedAsGenerationRefusesThem) {
  Rig r("pythia", /*max_positions=*/8);
  // 6 prompt tokens + 3 new > 8 positions, even though the text (6 + 1 + EOS) fits.
  std::vector<Example> xs = {example(" w1 w2 w3 w4 w5 w6", " w7")};
  std::string generate_says, evaluate_says;
  try {
    r.task->predict(*r.model, refs(xs));
  } catch (const std::invalid_argument& e) {
    generate_says = e.what();
  }
  try {
    r.task->evaluate(*r.model, refs(xs), true, true);
  } catch (const std::invalid_argument& e) {
    evaluate_says = e.what();
  }
  EXPECT_NE(generate_says.find("exceeds the model's 8 positions"), std::string::npos) << generate_says;
  EXPECT_EQ(evaluate_says, generate_says);
}
