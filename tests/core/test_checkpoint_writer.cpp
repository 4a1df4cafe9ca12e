// CheckpointWriter (core/src/checkpoint.hpp): checkpoints written on a thread of their own hold
// the state of the moment write() was called, even when the tensors change right after; one
// write at a time, the latest whole on disk; a failed write's error reaches the next wait().
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "checkpoint.hpp"
#include "errors.hpp"

namespace {

namespace fs = std::filesystem;
using imlcore::CheckpointWriter;
using imlcore::StageCheckpoint;

// Named after the process, so that two runs of the tests (two users, two clones) do not meet.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

StageCheckpoint state_at(int64_t step, const at::Tensor& weight, const at::Tensor& moment) {
  StageCheckpoint c;
  c.config_hash = "0123456789abcdef";
  c.stage = "stage1";
  c.step = step;
  c.model["w"] = weight;
  c.optimizer["m"] = moment;
  return c;
}

TEST(CheckpointWriter, WritesTheStateOfTheMomentOfTheCallWhileTrainingGoesOn) {
  const fs::path dir = scratch("imltest_checkpoint_writer");
  const std::string path = (dir / "checkpoint.safetensors").string();
  at::Tensor w = at::arange(1000, at::kFloat), m = at::ones({10, 10});
  const at::Tensor w_then = w.clone(), m_then = m.clone();
  CheckpointWriter writer;
  writer.write(path, state_at(3, w, m));
  w.add_(1);  // the next optimizer steps change the live tensors at once
  m.mul_(5);
  writer.wait();
  StageCheckpoint back = imlcore::read_stage_checkpoint(path);
  EXPECT_EQ(back.step, 3);
  EXPECT_TRUE(at::equal(back.model.at("w"), w_then));
  EXPECT_TRUE(at::equal(back.optimizer.at("m"), m_then));

  // The next write replaces it whole; no temporary file is left.
  writer.write(path, state_at(6, w, m));
  writer.wait();
  back = imlcore::read_stage_checkpoint(path);
  EXPECT_EQ(back.step, 6);
  EXPECT_TRUE(at::equal(back.model.at("w"), w));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  fs::remove_all(dir);
}

// Tensors only the checkpoint holds (optimizers' state() returns copies) are written without a
// second copy; a view of a live tensor is still copied, though nothing else holds the view itself.
TEST(CheckpointWriter, CopiesWhatTheRunStillHoldsAndWritesWhatOnlyItHoldsAsItIs) {
  const fs::path dir = scratch("imltest_checkpoint_writer_views");
  const std::string path = (dir / "checkpoint.safetensors").string();
  at::Tensor live = at::arange(100, at::kFloat);
  const at::Tensor live_then = live.clone();
  StageCheckpoint c = state_at(4, live.narrow(0, 10, 20), at::full({3, 4}, 2.5));
  c.optimizer["only_here"] = at::arange(12, at::kFloat).reshape({3, 4});
  CheckpointWriter writer;
  writer.write(path, std::move(c));
  live.mul_(-3);  // the parameter the view looks at changes right after the call
  writer.wait();
  const StageCheckpoint back = imlcore::read_stage_checkpoint(path);
  EXPECT_TRUE(at::equal(back.model.at("w"), live_then.narrow(0, 10, 20)));
  EXPECT_TRUE(at::equal(back.optimizer.at("m"), at::full({3, 4}, 2.5)));
  EXPECT_TRUE(at::equal(back.optimizer.at("only_here"), at::arange(12, at::kFloat).reshape({3, 4})));
  fs::remove_all(dir);
}

TEST(CheckpointWriter, AFailedWriteIsReportedAtTheNextWait) {
  const fs::path dir = scratch("imltest_checkpoint_writer_fail");
  const std::string path = (dir / "no_such_folder" / "checkpoint.safetensors").string();
  CheckpointWriter writer;
  writer.write(path, state_at(1, at::zeros({4}), at::zeros({4})));
  try {
    writer.wait();
    FAIL() << "expected a UserError";
  } catch (const imlcore::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_folder"), std::string::npos) << e.what();
  }
  writer.wait();  // reported once
  // and the writer still works
  const std::string ok = (dir / "checkpoint.safetensors").string();
  writer.write(ok, state_at(2, at::zeros({4}), at::zeros({4})));
  writer.wait();
  EXPECT_EQ(imlcore::read_stage_checkpoint(ok).step, 2);
  fs::remove_all(dir);
}

}  // namespace
