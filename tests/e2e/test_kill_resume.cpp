// Kill and resume: real imlhost runs killed with SIGKILL at deterministic points
// (IMLHOST_TEST_KILL_AT=<event>:<n>, core/src/kill_points.hpp) — mid-epoch, mid-evaluation,
// during a checkpoint write, in a later Stage-2 seed, twice in a row — then resumed. The resumed
// run must go on from its mid-stage checkpoint (not start over) and leave metrics.jsonl,
// summary.{json,md}, the analysis's own files and the Stage-2 starting model byte-identical to
// an uninterrupted run's. A changed config on resume starts the seed over, never mixing results.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct Result {
  int code = -1;        // exit code, or -1 when killed by a signal
  bool killed = false;  // ended by SIGKILL
  std::string output;
};

Result run(const std::string& args, const std::string& kill_at = "") {
  const std::string env = kill_at.empty() ? "" : "IMLHOST_TEST_KILL_AT=" + kill_at + " ";
  const std::string cmd = env + "exec " + std::string(IMLHOST_EXE) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int status = pclose(p);
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return r;
}

using imltest::slurp;

fs::path scratch(const std::string& name) { return imltest::scratch_dir("kill_resume_" + name); }

const std::string kConfig = std::string(IMLTEST_E2E_DIR) + "/kill_resume.yaml";

std::string args(const fs::path& out, const std::string& extra = "") {
  return kConfig + " experiment.output_dir=" + out.string() + (extra.empty() ? "" : " " + extra);
}

// Every file that must come out byte-identical (relative to the experiment folder).
const std::vector<std::string> kCompared = {
    "0/metrics.jsonl",         "summary.json", "summary.md", "0/gradient_alignment.jsonl", "0/gradient_alignment_s2-0.jsonl",
    "0/gradient_alignment_s2-1.jsonl", "0/before_stage2.safetensors"};

// An uninterrupted run, and its compared files.
std::map<std::string, std::string> reference(const std::string& name, const std::string& extra = "") {
  const fs::path out = scratch(name);
  const Result r = run(args(out, extra));
  EXPECT_EQ(r.code, 0) << r.output;
  std::map<std::string, std::string> files;
  for (const auto& f : kCompared) {
    EXPECT_TRUE(fs::exists(out / "kill_resume" / f)) << f;
    files[f] = slurp(out / "kill_resume" / f);
  }
  EXPECT_FALSE(fs::exists(out / "kill_resume/0/checkpoint.safetensors")) << "a complete run keeps no checkpoint";
  return files;
}

void expect_same(const std::map<std::string, std::string>& ref, const fs::path& out, const std::string& what) {
  for (const auto& [f, content] : ref) EXPECT_TRUE(slurp(out / "kill_resume" / f) == content) << what << ": " << f << " differs";
  EXPECT_FALSE(fs::exists(out / "kill_resume/0/checkpoint.safetensors")) << what;
  EXPECT_FALSE(fs::exists(out / "kill_resume/0/checkpoint.safetensors.partial")) << what;
  int lines = 0;
  std::istringstream in(slurp(out / "kill_resume/0/metrics.jsonl"));
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_GT(lines, 0) << what;
  const Json manifest = Json::parse(slurp(out / "kill_resume/0/manifest.json"));
  EXPECT_TRUE(manifest.at("complete").get<bool>()) << what;
  EXPECT_EQ(manifest.at("stages").size(), 3u) << what << ": one entry per stage and Stage-2 seed\n" << manifest.dump(2);
}

// Kill with `kill_at`, check it died there, then resume (optionally killing again) and compare.
void kill_then_resume(const std::map<std::string, std::string>& ref, const std::string& name,
                      const std::vector<std::string>& kills, const std::string& resumed_from) {
  const fs::path out = scratch(name);
  for (const auto& k : kills) {
    const Result r = run(args(out), k);
    ASSERT_TRUE(r.killed) << k << " did not kill the run (code " << r.code << ")\n" << r.output;
  }
  const Result r = run(args(out));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(resumed_from), std::string::npos) << name << ": expected '" << resumed_from << "'\n" << r.output;
  expect_same(ref, out, name);
}

// The tiny run: stage1 has 7 optimizer steps per epoch x 3 epochs (21), stage2 1 x 4 (4) per
// Stage-2 seed; checkpoints every 3 steps, evaluations after each epoch.
TEST(KillResume, MidEpochAndMidEvaluationInStage1) {
  const auto ref = reference("ref1");
  // mid-epoch: after step 5 of stage1 (last checkpoint: step 3)
  kill_then_resume(ref, "step5", {"step:5"}, "stage1: resuming after step 3");
  // mid-evaluation: stage1's first evaluation has written its metrics.jsonl lines (after step
  // 7), the checkpoint of step 9 is not there yet: the lines must not come out twice
  kill_then_resume(ref, "eval1", {"eval:1"}, "stage1: resuming after step 6");
}

TEST(KillResume, DuringACheckpointWrite) {
  const auto ref = reference("ref2");
  {  // during the 3rd checkpoint write (step 9): the temp file is complete, not renamed
    const fs::path out = scratch("ckpt3");
    const Result k = run(args(out), "checkpoint:3");
    ASSERT_TRUE(k.killed) << k.output;
    EXPECT_TRUE(fs::exists(out / "kill_resume/0/checkpoint.safetensors.partial"));
    EXPECT_TRUE(fs::exists(out / "kill_resume/0/checkpoint.safetensors"));
    const Result r = run(args(out));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("stage1: resuming after step 6"), std::string::npos) << r.output;
    expect_same(ref, out, "checkpoint:3");
  }
}

TEST(KillResume, InALaterStage2SeedAndTwiceInARow) {
  const auto ref = reference("ref2b");
  // the second Stage-2 seed, after its last step, before its last evaluation (21 + 4 + 4 = 29
  // steps in all; its latest checkpoint is after its step 3)
  kill_then_resume(ref, "step29", {"step:29"}, "seed 0/1 stage2: resuming after step 3");
  // killed twice: after step 5, then 12 steps into the resumed run (stage1 step 15, before its
  // checkpoint)
  kill_then_resume(ref, "twice", {"step:5", "step:12"}, "stage1: resuming after step 12");
}

TEST(KillResume, ChangedCheckpointIntervalStillResumes) {
  const auto ref = reference("ref3");
  const fs::path out = scratch("interval");
  const Result k = run(args(out), "step:7");
  ASSERT_TRUE(k.killed) << k.output;
  // how often a run checkpoints is not part of the config hash: the run goes on
  const Result r = run(args(out, "training.checkpoint_every=5"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("stage1: resuming after step 6"), std::string::npos) << r.output;
  expect_same(ref, out, "checkpoint_every changed");
}

TEST(KillResume, ChangedConfigStartsTheSeedOver) {
  const auto ref = reference("ref_lr", "training.learning_rate=0.02");
  const fs::path out = scratch("changed");
  const Result k = run(args(out), "step:10");
  ASSERT_TRUE(k.killed) << k.output;
  ASSERT_TRUE(fs::exists(out / "kill_resume/0/checkpoint.safetensors"));
  const Result r = run(args(out, "training.learning_rate=0.02"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("resuming after step"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the seed starts over"), std::string::npos) << r.output;
  expect_same(ref, out, "changed learning rate");
}

TEST(KillResume, ResumeFalseStartsOver) {
  const auto ref = reference("ref_nr");
  const fs::path out = scratch("noresume");
  ASSERT_TRUE(run(args(out), "step:10").killed);
  const Result r = run(args(out, "experiment.resume=false"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("resuming after step"), std::string::npos) << r.output;
  expect_same(ref, out, "resume=false");
}

TEST(KillResume, DamagedCheckpointIsRefusedWithOneLine) {
  const fs::path out = scratch("damaged");
  ASSERT_TRUE(run(args(out), "step:4").killed);
  const fs::path ckpt = out / "kill_resume/0/checkpoint.safetensors";
  ASSERT_TRUE(fs::exists(ckpt));
  fs::resize_file(ckpt, fs::file_size(ckpt) / 2);
  const Result r = run(args(out));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(ckpt.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("delete it or set experiment.resume=false"), std::string::npos) << r.output;
}

}  // namespace

namespace {

TEST(KillResume, NegativeCheckpointIntervalIsRefused) {
  const fs::path out = scratch("negative");
  const Result r = run(args(out, "training.checkpoint_every=-1"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("training.checkpoint_every"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("must be >= 0"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out / "kill_resume")) << "a refused config must not leave results behind";
}

}  // namespace
