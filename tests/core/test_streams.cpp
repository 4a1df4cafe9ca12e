// Batch parts side by side (SDK 2.3, experiment.streams): imlsdk::run_side_by_side runs jobs on
// threads of their own with the caller's grad mode and rethrows in job order; the trainer splits
// a micro-batch into parts whose weighted gradients add up to the whole micro-batch's, the same
// bits in every process, and leaves micro-batches too small to split exactly as before. SDK 2.4:
// the loss from the head's input trains as the logits' loss does.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "imlsdk/analysis.hpp"
#include "imlsdk/cpu.hpp"
#include "imlsdk/parallel.hpp"
#include "imlsdk/text_tokenizer.hpp"
#include "test_plugins.hpp"
#include "trainer.hpp"

using namespace imlcore;
using imlsdk::Json;

namespace {

TEST(SideBySide, RunsEveryJobOnThreadsOfTheirOwnWithTheCallersGradMode) {
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> ran(3);
  std::vector<int> grad(3, -1);
  std::vector<std::function<void()>> jobs;
  for (size_t i = 0; i < 3; ++i)
    jobs.push_back([&, i] {
      ran[i] = std::this_thread::get_id();
      grad[i] = at::GradMode::is_enabled() ? 1 : 0;
    });
  {
    at::NoGradGuard no_grad;
    imlsdk::run_side_by_side(jobs);
  }
  EXPECT_EQ(ran[0], caller);
  EXPECT_NE(ran[1], caller);
  EXPECT_NE(ran[2], caller);
  EXPECT_NE(ran[1], ran[2]);
  EXPECT_EQ(grad, (std::vector<int>{0, 0, 0}));
  imlsdk::run_side_by_side(jobs);  // grad mode on in the caller: on in every job
  EXPECT_EQ(grad, (std::vector<int>{1, 1, 1}));
}

TEST(SideBySide, RethrowsTheFirstJobsExceptionAfterAllEnded) {
  std::atomic<int> done{0};
  std::vector<std::function<void()>> jobs = {
      [&] { ++done; },
      [&] {
        ++done;
        throw std::invalid_argument("job 1");
      },
      [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++done;
        throw std::runtime_error("job 2");
      }};
  try {
    imlsdk::run_side_by_side(jobs);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "job 1");
  }
  EXPECT_EQ(done.load(), 3);
}

TEST(SideBySide, ACallFromInsideAJobRunsItsJobsOneAfterTheOther) {
  std::vector<std::thread::id> inner(2);
  std::thread::id outer_second;
  std::vector<std::function<void()>> jobs = {[] {}, [&] {
                                               outer_second = std::this_thread::get_id();
                                               imlsdk::run_side_by_side({[&] { inner[0] = std::this_thread::get_id(); },
                                                                         [&] { inner[1] = std::this_thread::get_id(); }});
                                             }};
  imlsdk::run_side_by_side(jobs);
  EXPECT_EQ(inner[0], outer_second);
  EXPECT_EQ(inner[1], outer_second);
}

TEST(SideBySide, SplitsEvenly) {
  using R = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(imlsdk::split_evenly(10, 3), (R{{0, 4}, {4, 7}, {7, 10}}));
  EXPECT_EQ(imlsdk::split_evenly(2, 5), (R{{0, 1}, {1, 2}}));
  EXPECT_EQ(imlsdk::split_evenly(7, 1), (R{{0, 7}}));
  EXPECT_TRUE(imlsdk::split_evenly(0, 2).empty());
}

TEST(SideBySide, PlansContiguousRunsOrSizeOrderedBalancedChunks) {
  // Too few rows for two jobs: one chunk in order.
  auto plan = imlsdk::side_by_side_plan({5, 1, 3}, 2, 2);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (std::vector<std::vector<int64_t>>{{0, 1, 2}}));
  // Fewer than 2 * jobs * kChunkRows: contiguous runs in order, one per job.
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < 20; ++i) sizes.push_back((i * 7) % 10);
  plan = imlsdk::side_by_side_plan(sizes, 2, 8);
  ASSERT_EQ(plan.size(), 2u);
  ASSERT_EQ(plan[0].size(), 1u);
  EXPECT_EQ(plan[0][0].front(), 0);
  EXPECT_EQ(plan[1][0].front(), 10);
  // Enough rows but sizes all alike: chunks would pad no less, so contiguous runs.
  plan = imlsdk::side_by_side_plan(std::vector<int64_t>(2 * 2 * imlsdk::kChunkRows, 5), 2, 8);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].size(), 1u);
  EXPECT_EQ(plan[1][0].front(), 2 * imlsdk::kChunkRows);
  // Sizes that differ: 4 chunks by size (ties by index), job 0 the smallest and the largest.
  sizes.clear();
  const int64_t n = 2 * 2 * imlsdk::kChunkRows + 3;
  for (int64_t i = 0; i < n; ++i) sizes.push_back((i * 37) % 11);
  plan = imlsdk::side_by_side_plan(sizes, 2, 8);
  ASSERT_EQ(plan.size(), 2u);
  ASSERT_EQ(plan[0].size(), 2u);
  ASSERT_EQ(plan[1].size(), 2u);
  std::vector<std::vector<int64_t>> in_order = {plan[0][0], plan[1][0], plan[1][1], plan[0][1]};
  std::vector<int64_t> seen;
  int64_t last_size = -1, last_index = -1;
  for (const auto& chunk : in_order)
    for (int64_t i : chunk) {
      EXPECT_TRUE(sizes[i] > last_size || (sizes[i] == last_size && i > last_index)) << "item " << i;
      last_size = sizes[i];
      last_index = i;
      seen.push_back(i);
    }
  std::sort(seen.begin(), seen.end());
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  EXPECT_LE(std::abs(static_cast<int64_t>(plan[0][0].size() + plan[0][1].size()) -
                     static_cast<int64_t>(plan[1][0].size() + plan[1][1].size())), 1);
}

// A small random Pythia over 30 words, the causal_lm task and plain SGD (no clipping, constant
// learning rate 1): after one optimizer step every parameter has moved by minus its gradient.
struct Rig {
  std::vector<imlsdk::Example> xs;
  std::shared_ptr<imlsdk::TextTokenizer> tok;
  std::shared_ptr<imlsdk::ModelPlugin> pythia = imltest::load_plugin<imlsdk::ModelPlugin>("pythia");
  std::shared_ptr<imlsdk::TaskPlugin> causal = imltest::load_plugin<imlsdk::TaskPlugin>("causal_lm");
  std::shared_ptr<imlsdk::OptimizerPlugin> sgd = imltest::load_plugin<imlsdk::OptimizerPlugin>("sgd");
  std::shared_ptr<imlsdk::OptimizerPlugin> adafactor = imltest::load_plugin<imlsdk::OptimizerPlugin>("adafactor");
  // Clipping (training.max_grad_norm; 0: none), and Adafactor at lr 1e-2 instead of SGD at lr 1,
  // folding the clipping into its step where scaled_step (StageRun::scaled_step).
  double max_grad_norm = 0;
  bool use_adafactor = false, scaled_step = false;

  explicit Rig(int n) {
    at::manual_seed(11);
    const at::Tensor lens = at::randint(2, 10, {n}, at::kLong);
    for (int i = 0; i < n; ++i) {  // texts of 2..9 random words: parts get different target counts
      std::string text;
      const int64_t len = lens[i].item<int64_t>();
      const at::Tensor w = at::randint(0, 30, {len}, at::kLong);
      for (int64_t k = 0; k < len; ++k) text += " w" + std::to_string(w[k].item<int64_t>());
      imlsdk::Example x;
      x.text = text;
      xs.push_back(x);
    }
    std::string all;
    for (int i = 0; i < 30; ++i) all += " w" + std::to_string(i);
    tok = imlsdk::TextTokenizer::from_texts({all});
  }

  // Parameters after one epoch of `batch` examples per micro-batch, `accum` micro-batches per
  // step, `streams` parts per micro-batch; and the step losses.
  // head_loss: the loss from the head's input (StageRun::head_loss); freeze: a parameter's name.
  std::pair<std::vector<at::Tensor>, std::vector<double>> train(int64_t streams, int64_t batch, int64_t accum,
                                                                bool freeze_first = false, bool head_loss = false,
                                                                const std::string& freeze = "", bool head_rows = false) {
    imlsdk::ModelContext mc;
    mc.vocab_size = tok->vocab_size();
    mc.pad_id = tok->pad_id();
    mc.eos_id = tok->eos_id();
    at::manual_seed(5);
    auto model = pythia->create(imltest::with_defaults(*pythia, {{"vocab_size", tok->vocab_size()}, {"hidden_size", 32},
                                                                 {"num_layers", 2}, {"num_heads", 4},
                                                                 {"intermediate_size", 64}, {"max_position_embeddings", 32}}),
                                mc);
    if (freeze_first) model->parameters()[0].requires_grad_(false);
    if (!freeze.empty()) model->named_parameters()[freeze].requires_grad_(false);
    imlsdk::TaskContext tc;
    tc.tokenizer = tok.get();
    tc.model = model->info();
    auto task = causal->create(imltest::with_defaults(*causal, {{"block_size", 16}}), tc);
    StageConfig st;
    st.name = "s";
    st.train_subset = "full";
    st.epochs = 1;
    st.training.learning_rate = use_adafactor ? 1e-2 : 1.0;
    st.training.batch_size = batch;
    st.training.gradient_accumulation_steps = accum;
    st.training.lr_scheduler = "constant";
    st.training.max_grad_norm = max_grad_norm;
    st.training.eval_every = 1000;
    st.optimizer_params = imltest::with_defaults(use_adafactor ? *adafactor : *sgd);
    StageRun run;
    run.stage = &st;
    run.examples = &xs;
    run.task = task.get();
    run.optimizer = use_adafactor ? adafactor.get() : sgd.get();
    run.scaled_step = scaled_step;
    run.label = "test";
    run.streams = streams;
    run.head_loss = head_loss;
    run.head_rows = head_rows;
    std::vector<double> losses;
    run.on_step = [&](const StepInfo& i) { losses.push_back(i.loss); };
    train_stage(*model, run);
    std::vector<at::Tensor> params;
    for (const auto& p : model->parameters()) params.push_back(p.detach().clone());
    return {params, losses};
  }
};

TEST(SideBySide, BalancedPlanEvensTheJobsSummedSizes) {
  // Too few rows for two jobs: one chunk in order; none for no items.
  auto plan = imlsdk::balanced_side_by_side_plan({5, 1, 3}, 2, 2);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (std::vector<std::vector<int64_t>>{{0, 1, 2}}));
  EXPECT_TRUE(imlsdk::balanced_side_by_side_plan({}, 2, 1).empty());
  // Largest first, each to the lightest job (ties: the first): 9 -> 0, 8 -> 1, 5 -> 1, 4 -> 0,
  // 3 -> 0, 1 -> 1 (sums 16 and 14); each chunk in index order.
  plan = imlsdk::balanced_side_by_side_plan({4, 9, 1, 8, 3, 5}, 2, 2);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (std::vector<std::vector<int64_t>>{{0, 1, 4}}));
  EXPECT_EQ(plan[1], (std::vector<std::vector<int64_t>>{{2, 3, 5}}));
  // Many items of varied sizes: every item once, jobs within the largest size of each other.
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < 101; ++i) sizes.push_back(5 + (i * 37) % 43);
  for (int64_t jobs : {2, 3}) {
    plan = imlsdk::balanced_side_by_side_plan(sizes, jobs, 8);
    ASSERT_EQ(plan.size(), static_cast<size_t>(jobs));
    std::vector<int64_t> seen, sums;
    for (const auto& job : plan) {
      ASSERT_EQ(job.size(), 1u);
      EXPECT_TRUE(std::is_sorted(job[0].begin(), job[0].end()));
      int64_t sum = 0;
      for (int64_t i : job[0]) {
        seen.push_back(i);
        sum += sizes[static_cast<size_t>(i)];
      }
      sums.push_back(sum);
    }
    std::sort(seen.begin(), seen.end());
    for (int64_t i = 0; i < 101; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
    EXPECT_LE(*std::max_element(sums.begin(), sums.end()) - *std::min_element(sums.begin(), sums.end()), 47);
    EXPECT_EQ(imlsdk::balanced_side_by_side_plan(sizes, jobs, 8), plan);  // a pure function
  }
}

TEST(SideBySide, ForEachRunsEveryItemOnceInBalancedGroupsOrInOrderWhenSmall) {
  const auto caller = std::this_thread::get_id();
  // Large enough: two groups of about equal summed size on two threads, each group in index order.
  const std::vector<int64_t> sizes = {40000, 5, 30000, 20000, 7, 10000};
  std::vector<std::thread::id> ran(sizes.size());
  std::vector<int> calls(sizes.size(), 0);
  std::mutex order_lock;
  std::map<std::thread::id, std::vector<size_t>> order;
  imlsdk::for_each_side_by_side(sizes, [&](size_t i) {
    ran[i] = std::this_thread::get_id();
    ++calls[i];
    std::lock_guard<std::mutex> lock(order_lock);
    order[ran[i]].push_back(i);
  });
  for (int c : calls) EXPECT_EQ(c, 1);
  ASSERT_EQ(order.size(), 2u);
  // balanced_side_by_side_plan: 40000 -> 0, 30000 -> 1, 20000 -> 1, 10000 -> 0, 7 -> 0, 5 -> 1.
  EXPECT_EQ(order[caller], (std::vector<size_t>{0, 4, 5}));
  for (const auto& [id, items] : order)
    if (id != caller) EXPECT_EQ(items, (std::vector<size_t>{1, 2, 3}));
  // Below min_total, with one part or one item: every call on this thread, in index order.
  for (const auto& [sz, parts] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{
           {{100, 200, 300}, 2}, {sizes, 1}, {{1 << 20}, 2}}) {
    std::vector<size_t> seen;
    imlsdk::for_each_side_by_side(sz, [&](size_t i) {
      EXPECT_EQ(std::this_thread::get_id(), caller);
      seen.push_back(i);
    }, parts);
    std::vector<size_t> expected(sz.size());
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = i;
    EXPECT_EQ(seen, expected);
  }
  // min_total is the caller's: 600 elements are enough for min_total 600.
  std::set<std::thread::id> threads;
  std::mutex lock;
  imlsdk::for_each_side_by_side({100, 200, 300}, [&](size_t) {
    std::lock_guard<std::mutex> l(lock);
    threads.insert(std::this_thread::get_id());
  }, 2, 600);
  EXPECT_EQ(threads.size(), 2u);
}

TEST(TrainerStreams, PartGradientsAddInPartOrderSideBySide) {
  // Large enough to run side by side (for_each_side_by_side); the sums must be the bits of
  // adding the parts one after the other, onto a gradient already there (accumulation) or not,
  // skipping a part without a gradient for a parameter.
  at::manual_seed(5);
  std::vector<at::Tensor> params;
  for (int64_t n : {70000, 3, 50000, 20000}) params.push_back(at::zeros({n}).set_requires_grad(true));
  params[2].mutable_grad() = at::randn({50000});
  std::vector<std::vector<at::Tensor>> grads(3);
  for (size_t j = 0; j < grads.size(); ++j)
    for (size_t i = 0; i < params.size(); ++i)
      grads[j].push_back(j == 1 && i == 3 ? at::Tensor() : at::randn({params[i].numel()}));
  grads[2][1] = at::randn({3, 2}).t().reshape({6}).narrow(0, 0, 3);  // a non-contiguous one stays correct
  std::vector<at::Tensor> expected;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor e = params[i].grad().defined() ? params[i].grad().clone() : at::Tensor();
    for (const auto& part : grads)
      if (part[i].defined()) e = e.defined() ? e.add_(part[i]) : part[i].contiguous().clone();
    expected.push_back(e);
  }
  const at::Tensor before = params[2].grad();
  add_part_gradients(params, grads);
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(params[i].grad().defined()) << i;
    EXPECT_TRUE(params[i].grad().equal(expected[i])) << "parameter " << i;
  }
  EXPECT_TRUE(params[2].grad().is_same(before));  // accumulated in place, as AccumulateGrad does
}

// With clipping's sums of squares asked for: the sums get the same bits as without, and each
// parameter's sum of squares is that of its gradient afterwards (fp32 on the CPU in the fused
// pass, a non-contiguous part's parameter afterwards by ATen; 0 without a gradient).
TEST(TrainerStreams, PartGradientsGiveTheirSumsOfSquares) {
  for (int nparts : {1, 2, 3}) {
    SCOPED_TRACE("parts " + std::to_string(nparts));
    at::manual_seed(6);
    std::vector<at::Tensor> plain, fused;
    for (int64_t n : {70001, 3, 50000, 20000, 17}) {
      plain.push_back(at::zeros({n}).set_requires_grad(true));
      fused.push_back(at::zeros({n}).set_requires_grad(true));
    }
    const at::Tensor prior = at::randn({50000});
    plain[2].mutable_grad() = prior.clone();
    fused[2].mutable_grad() = prior.clone();
    std::vector<std::vector<at::Tensor>> grads(static_cast<size_t>(nparts));
    for (auto& part : grads)
      for (size_t i = 0; i < plain.size(); ++i) part.push_back(i == 4 ? at::Tensor() : at::randn({plain[i].numel()}) * 3);
    if (nparts > 1) grads[1][3] = at::Tensor();  // a part without a gradient for a parameter
    grads[0][1] = at::randn({3, 2}).t().reshape({6}).narrow(0, 0, 3);  // non-contiguous
    std::vector<std::vector<at::Tensor>> copies;
    for (const auto& part : grads) {
      copies.emplace_back();
      for (const auto& g : part) copies.back().push_back(g.defined() ? g.clone() : g);
    }
    add_part_gradients(plain, copies);
    std::vector<double> sumsq;
    add_part_gradients(fused, grads, &sumsq);
    ASSERT_EQ(sumsq.size(), plain.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      if (i == 4) {
        EXPECT_FALSE(fused[i].grad().defined());
        EXPECT_EQ(sumsq[i], 0.0);
        continue;
      }
      ASSERT_TRUE(fused[i].grad().defined()) << i;
      EXPECT_TRUE(fused[i].grad().equal(plain[i].grad())) << "parameter " << i;
      const double expected = fused[i].grad().to(at::kDouble).pow(2).sum().item<double>();
      EXPECT_NEAR(sumsq[i], expected, 1e-12 * expected) << "parameter " << i;
    }
  }
}

// Every instruction set's build of the fused pass gives the generic build's bits, for one part
// added and for several (blocks), with lengths that are no multiple of the vector width.
TEST(TrainerStreams, FusedPartSumIsTheSameOnEveryInstructionSet) {
  at::manual_seed(8);
  for (int nadds : {0, 1, 3}) {
    for (int64_t n : {int64_t{1}, int64_t{37}, int64_t{4099}, int64_t{70001}}) {
      const at::Tensor d0 = at::randn({n});
      std::vector<at::Tensor> adds;
      std::vector<const float*> ptrs;
      for (int k = 0; k < nadds; ++k) {
        adds.push_back(at::randn({n}) * (k + 1));
        ptrs.push_back(adds.back().data_ptr<float>());
      }
      at::Tensor want = d0.clone();
      const double want_ss = imlcore::detail::add_and_square(0, want.data_ptr<float>(), ptrs.data(), nadds, n);
      at::Tensor sum = d0.clone();
      for (const auto& a : adds) sum.add_(a);
      EXPECT_TRUE(want.equal(sum)) << nadds << " " << n;
      EXPECT_NEAR(want_ss, sum.to(at::kDouble).pow(2).sum().item<double>(), 1e-12 * want_ss);
      for (int isa : {1, 2}) {
        if (!imlsdk::cpu_runs_isa(isa)) continue;
        at::Tensor got = d0.clone();
        EXPECT_EQ(imlcore::detail::add_and_square(isa, got.data_ptr<float>(), ptrs.data(), nadds, n), want_ss)
            << "isa " << isa << " adds " << nadds << " n " << n;
        EXPECT_TRUE(got.equal(want)) << "isa " << isa << " adds " << nadds << " n " << n;
      }
    }
  }
}

// Clipping (a max norm every step's gradient exceeds). With Adafactor, its step folds the
// clipping's scaling in (SDK 2.9, StageRun::scaled_step) with the bits of scaling the gradients
// first, with and without parts (where the norm comes from the parts' sum), the same bits in
// another run. With SGD (no step_scaled: the host scales), parts train as the whole micro-batch
// to float round-off. (Adafactor's update divides by the gradient's own scale, which turns the
// round-off between parts and whole into steps of +-lr on near-zero gradients.)
TEST(TrainerStreams, ClippingFoldedIntoTheOptimizerGivesTheSameBits) {
  Rig r(48);
  r.max_grad_norm = 1e-3;
  r.use_adafactor = true;
  for (int64_t streams : {1, 2}) {
    SCOPED_TRACE("adafactor, streams " + std::to_string(streams));
    r.scaled_step = false;
    const auto scaled_first = r.train(streams, 24, 1);
    r.scaled_step = true;
    const auto folded = r.train(streams, 24, 1);
    ASSERT_EQ(folded.first.size(), scaled_first.first.size());
    for (size_t i = 0; i < folded.first.size(); ++i)
      EXPECT_TRUE(at::equal(folded.first[i], scaled_first.first[i])) << "parameter " << i;
    EXPECT_EQ(folded.second, scaled_first.second);
    const auto again = r.train(streams, 24, 1);
    for (size_t i = 0; i < folded.first.size(); ++i) EXPECT_TRUE(at::equal(again.first[i], folded.first[i])) << i;
  }
  r.use_adafactor = false;
  r.scaled_step = true;
  const auto whole = r.train(1, 24, 2);
  const auto parts = r.train(2, 24, 2);
  r.scaled_step = false;
  const auto host_scaled = r.train(2, 24, 2);
  const auto unclipped_r = [&] {
    Rig u(48);
    return u.train(2, 24, 2);
  }();
  double clip_moved = 0;
  for (size_t i = 0; i < whole.first.size(); ++i) {
    SCOPED_TRACE("sgd, parameter " + std::to_string(i));
    const double scale = whole.first[i].abs().max().item<double>();
    EXPECT_LE((parts.first[i] - whole.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, scale));
    EXPECT_TRUE(at::equal(parts.first[i], host_scaled.first[i]));
    clip_moved = std::max(clip_moved, (unclipped_r.first[i] - parts.first[i]).abs().max().item<double>());
  }
  EXPECT_GT(clip_moved, 1e-2);  // the clipping does act
}

TEST(TrainerStreams, PartsSideBySideGiveTheWholeMicroBatchsGradient) {
  Rig r(48);
  // One optimizer step of 2 micro-batches of 24: contiguous parts of 12 (2 streams) and 8 (3).
  for (int64_t streams : {2, 3})
    EXPECT_EQ(imlsdk::side_by_side_plan(std::vector<int64_t>(24, 1), streams, imlsdk::kMinRowsPerStream).size(),
              static_cast<size_t>(streams));
  const auto whole = r.train(1, 24, 2);
  for (int64_t streams : {2, 3}) {
    SCOPED_TRACE("streams " + std::to_string(streams));
    const auto split = r.train(streams, 24, 2);
    ASSERT_EQ(split.second.size(), 1u);
    EXPECT_NEAR(split.second[0], whole.second[0], 1e-6 * std::abs(whole.second[0]));
    ASSERT_EQ(split.first.size(), whole.first.size());
    for (size_t i = 0; i < whole.first.size(); ++i) {
      // SGD at lr 1 without clipping: the parameters differ exactly by the gradients' difference.
      const double scale = whole.first[i].abs().max().item<double>();
      EXPECT_LE((split.first[i] - whole.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, scale)) << "parameter " << i;
    }
    // The same bits in another run (each part's gradient is added in part order).
    const auto again = r.train(streams, 24, 2);
    for (size_t i = 0; i < whole.first.size(); ++i) EXPECT_TRUE(at::equal(again.first[i], split.first[i])) << "parameter " << i;
    EXPECT_EQ(again.second, split.second);
  }
}

TEST(TrainerStreams, ChunksBySizeGiveTheWholeMicroBatchsGradient) {
  Rig r(2 * 2 * imlsdk::kChunkRows + 6);
  // One micro-batch of 70 examples: 2 streams cut it into 4 chunks by text size.
  const int64_t b = static_cast<int64_t>(r.xs.size());
  const auto plan = imlsdk::side_by_side_plan(imlsdk::example_sizes(imlsdk::example_refs(r.xs, 0, r.xs.size())), 2,
                                              imlsdk::kMinRowsPerStream);
  ASSERT_EQ(plan.size(), 2u);
  ASSERT_EQ(plan[0].size(), 2u);  // chunked by size
  const auto whole = r.train(1, b, 1);
  const auto split = r.train(2, b, 1);
  ASSERT_EQ(split.second.size(), 1u);
  EXPECT_NEAR(split.second[0], whole.second[0], 1e-6 * std::abs(whole.second[0]));
  for (size_t i = 0; i < whole.first.size(); ++i) {
    const double scale = whole.first[i].abs().max().item<double>();
    EXPECT_LE((split.first[i] - whole.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, scale)) << "parameter " << i;
  }
  const auto again = r.train(2, b, 1);
  for (size_t i = 0; i < whole.first.size(); ++i) EXPECT_TRUE(at::equal(again.first[i], split.first[i])) << "parameter " << i;
}

TEST(TrainerStreams, AFrozenParameterStaysFrozenWithParts) {
  Rig r(48);
  const auto whole = r.train(1, 24, 2, /*freeze_first=*/true);
  const auto split = r.train(2, 24, 2, /*freeze_first=*/true);
  const auto moving = r.train(2, 24, 2);
  EXPECT_TRUE(at::equal(split.first[0], whole.first[0]));
  EXPECT_FALSE(at::equal(moving.first[0], whole.first[0]));  // it does move when not frozen
  for (size_t i = 1; i < whole.first.size(); ++i)
    EXPECT_LE((split.first[i] - whole.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, whole.first[i].abs().max().item<double>()))
        << "parameter " << i;
}

TEST(TrainerStreams, MicroBatchesTooSmallToSplitTrainAsBefore) {
  Rig r(30);
  // 15 examples per micro-batch: fewer than 2 x kMinRowsPerStream, so no parts.
  ASSERT_LT(15, 2 * imlsdk::kMinRowsPerStream);
  const auto whole = r.train(1, 15, 1);
  const auto streams = r.train(2, 15, 1);
  for (size_t i = 0; i < whole.first.size(); ++i) EXPECT_TRUE(at::equal(whole.first[i], streams.first[i])) << "parameter " << i;
  EXPECT_EQ(whole.second, streams.second);
}

// SDK 2.4: training on the loss from the head's input moves every parameter as the logits'
// loss does (whole micro-batches and parts side by side), also with the head frozen, and is
// bit-reproducible.
TEST(TrainerHeadLoss, GivesTheLogitsLosssGradient) {
  Rig r(48);
  for (const std::string freeze : {"", "embed_out.weight"}) {
    for (int64_t streams : {1, 2}) {
      SCOPED_TRACE("streams " + std::to_string(streams) + (freeze.empty() ? "" : ", " + freeze + " frozen"));
      const auto logits = r.train(streams, 24, 2, false, false, freeze);
      const auto head = r.train(streams, 24, 2, false, true, freeze);
      ASSERT_EQ(head.second.size(), 1u);
      EXPECT_NEAR(head.second[0], logits.second[0], 1e-6 * std::abs(logits.second[0]));
      ASSERT_EQ(head.first.size(), logits.first.size());
      bool any_moved_differently = false;
      for (size_t i = 0; i < logits.first.size(); ++i) {
        const double scale = logits.first[i].abs().max().item<double>();
        EXPECT_LE((head.first[i] - logits.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, scale)) << "parameter " << i;
        any_moved_differently |= !at::equal(head.first[i], logits.first[i]);
      }
      EXPECT_TRUE(any_moved_differently);  // the two paths did run: their float rounding differs
      const auto again = r.train(streams, 24, 2, false, true, freeze);
      for (size_t i = 0; i < logits.first.size(); ++i) EXPECT_TRUE(at::equal(again.first[i], head.first[i])) << "parameter " << i;
    }
  }
}

// SDK 2.5: causal_lm's head rows are the positions whose next token is a kept label: not the
// padding (nor each text's last token) by default, the padding too with mask_padding false,
// every position with pad_to_block.
TEST(TrainerHeadRows, CausalLmReadsThePositionsBeforeKeptLabels) {
  Rig r(8);
  imlsdk::ModelContext mc;
  mc.vocab_size = r.tok->vocab_size();
  imlsdk::TaskContext tc;
  tc.tokenizer = r.tok.get();
  tc.model.family = imlsdk::ModelFamily::CausalLM;
  tc.model.vocab_size = r.tok->vocab_size();
  tc.model.max_positions = 32;
  for (const bool mask_padding : {true, false}) {
    SCOPED_TRACE(mask_padding ? "mask_padding" : "unmasked padding");
    auto task = r.causal->create(imltest::with_defaults(*r.causal, {{"block_size", 16}, {"mask_padding", mask_padding}}), tc);
    imlsdk::Rng rng(1);
    const imlsdk::Batch b = task->collate(imlsdk::example_refs(r.xs, 0, r.xs.size()), imlsdk::Phase::Train, rng);
    const at::Tensor rows = task->head_rows(b);
    ASSERT_EQ(rows.sizes(), b.labels.sizes());
    const at::Tensor mask = b.input.attention_mask.ne(0);
    const int64_t T = rows.size(1);
    EXPECT_FALSE(rows.select(1, T - 1).any().item<bool>());
    EXPECT_TRUE(at::equal(rows.slice(1, 0, T - 1), b.labels.slice(1, 1).ne(-100)));
    const at::Tensor padding_read = rows.logical_and(mask.logical_not()).any();
    EXPECT_EQ(padding_read.item<bool>(), !mask_padding);
    EXPECT_TRUE(mask.logical_not().any().item<bool>());  // the batch has padding
  }
  // pad_to_block: every position computed, as the reference does (no rows to skip).
  auto padded = r.causal->create(imltest::with_defaults(*r.causal, {{"block_size", 16}, {"pad_to_block", true}}), tc);
  imlsdk::Rng rng(1);
  const imlsdk::Batch b = padded->collate(imlsdk::example_refs(r.xs, 0, r.xs.size()), imlsdk::Phase::Train, rng);
  EXPECT_EQ(b.labels.size(1), 16);
  EXPECT_FALSE(padded->head_rows(b).defined());
}

// SDK 2.5: training on the head's input at the loss's rows only (the model skips the padding;
// parts balanced by size) moves every parameter as the logits' loss does, bit-reproducibly.
TEST(TrainerHeadRows, GivesTheLogitsLosssGradient) {
  Rig r(48);
  for (int64_t streams : {1, 2}) {
    SCOPED_TRACE("streams " + std::to_string(streams));
    const auto logits = r.train(streams, 24, 2);
    const auto rows = r.train(streams, 24, 2, false, true, "", true);
    ASSERT_EQ(rows.second.size(), 1u);
    EXPECT_NEAR(rows.second[0], logits.second[0], 1e-6 * std::abs(logits.second[0]));
    ASSERT_EQ(rows.first.size(), logits.first.size());
    for (size_t i = 0; i < logits.first.size(); ++i) {
      const double scale = logits.first[i].abs().max().item<double>();
      EXPECT_LE((rows.first[i] - logits.first[i]).abs().max().item<double>(), 1e-5 * std::max(1.0, scale)) << "parameter " << i;
    }
    const auto again = r.train(streams, 24, 2, false, true, "", true);
    for (size_t i = 0; i < logits.first.size(); ++i) EXPECT_TRUE(at::equal(again.first[i], rows.first[i])) << "parameter " << i;
  }
}

}  // namespace
