// CheckpointWriter (core/src/checkpoint.hpp): checkpoints written on a thread of their own hold
// the state of the moment write() was called, even when the tensors change right after; one
// write at a time, the latest whole on disk; a failed write's error reaches the next wait().
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <string>

#include "checkpoint.hpp"
#include "errors.hpp"

namespace {

namespace fs = std::filesystem;
using imlcore::CheckpointWriter;
using imlcore::StageCheckpoint;

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
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
}

}  // namespace
