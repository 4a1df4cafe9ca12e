#include <gtest/gtest.h>

#include <cmath>

#include "imlqa/answers.hpp"
#include "imlsdk/text.hpp"
#include "stats.hpp"
#include "summary.hpp"
#include "trainer.hpp"

using namespace imlcore;

TEST(Stats, MeanAndConfidenceInterval) {
  // mean 2, sd 1, n 3: half-width t(0.975, 2) * 1/sqrt(3) = 4.302653 * 0.57735 = 2.484138
  const Summary s = summarize({1, 2, 3});
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_NEAR(s.sd, 1.0, 1e-12);
  EXPECT_NEAR(s.ci95, 2.484138, 1e-5);
  EXPECT_EQ(summarize({5}).ci95, 0.0);
}

TEST(Stats, StudentT) {
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228139, 1e-5);
  EXPECT_NEAR(student_t_two_sided(2.0, 5), 0.1019395, 1e-6);
  EXPECT_NEAR(student_t_two_sided(0.0, 7), 1.0, 1e-12);
}

TEST(Stats, PairedTTest) {
  // differences 1, 2, 3, 4 -> t = 2.5 / (1.290994/2) = 3.872983, df 3 -> p = 0.030466
  EXPECT_NEAR(paired_t_pvalue({2, 4, 6, 8}, {1, 2, 3, 4}), 0.0304656, 1e-5);
  EXPECT_TRUE(std::isnan(paired_t_pvalue({1, 2}, {0, 1})));  // constant difference
}

TEST(Text, NormalisationAsSpecified) {
  EXPECT_EQ(imlqa::normalize_answer("  The  Beatles! "), "beatles");
  EXPECT_EQ(imlqa::normalize_answer("an Apple, a day"), "apple day");
  EXPECT_EQ(imlqa::normalize_answer("TRUE"), "true");
  EXPECT_TRUE(imlqa::exact_match("the 1920s", "1920s"));
  EXPECT_TRUE(imlqa::exact_match("France", "United States;France"));
  EXPECT_FALSE(imlqa::exact_match("Franc", "France"));
  EXPECT_FALSE(imlqa::exact_match("", "France"));
}

TEST(Text, PredictionExtraction) {
  EXPECT_EQ(imlqa::extract_prediction(" Queen\nQ: what"), "Queen");
  EXPECT_EQ(imlqa::extract_prediction("Q: who\nA: Cleopatra\nQ: x"), "Cleopatra");
  EXPECT_EQ(imlqa::extract_prediction("true"), "true");
}

TEST(Schedule, LinearDecayWithWarmupAsHf) {
  TrainingConfig t;
  t.learning_rate = 1.0;
  t.lr_scheduler = "linear";
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 0, 10), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 5, 10), 0.5);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 9, 10), 0.1);
  t.warmup_steps = 2;
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 0, 10), 0.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 1, 10), 0.5);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 2, 10), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 6, 10), 0.5);
  t.lr_scheduler = "constant";
  EXPECT_DOUBLE_EQ(scheduled_lr(t, 6, 10), 1.0);
}

TEST(Summary, TableAndPairedGap) {
  std::vector<imlsdk::Json> recs;
  const double d1[] = {0.6, 0.7, 0.8}, d2[] = {0.5, 0.5, 0.6};
  for (int s = 0; s < 3; ++s) {
    recs.push_back({{"seed", s}, {"stage2_seed", 0}, {"stage", "stage2"}, {"epoch", 1}, {"eval_set", "d1consis"}, {"em", 0.0}});
    recs.push_back({{"seed", s}, {"stage2_seed", 0}, {"stage", "stage2"}, {"epoch", 2}, {"eval_set", "d1consis"}, {"em", d1[s]}});
    recs.push_back({{"seed", s}, {"stage2_seed", 0}, {"stage", "stage2"}, {"epoch", 2}, {"eval_set", "d2consis"}, {"em", d2[s]}});
  }
  const SummaryOut out = summarize_runs(recs, {"stage2"}, "d1consis", "d2consis");
  // last epoch only: d1 mean 0.7, gap differences 0.1, 0.2, 0.2
  EXPECT_NEAR(out.json["table"]["d1consis"]["stage2"]["mean"].get<double>(), 0.7, 1e-12);
  EXPECT_NEAR(out.json["gap"]["by_stage"]["stage2"]["mean"].get<double>(), 0.5 / 3, 1e-12);
  EXPECT_NE(out.text.find("IML gap after stage2"), std::string::npos) << out.text;
}
