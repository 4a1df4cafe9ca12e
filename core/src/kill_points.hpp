// Deterministic kill points for the kill-and-resume tests (tests/e2e/test_kill_resume.cpp).
// IMLHOST_TEST_KILL_AT=<event>:<n> makes the process raise SIGKILL on itself at the n-th
// (1-based) occurrence of <event> in this process:
//   step        after an optimizer step (before that step's checkpoint, if one is due)
//   eval        in an evaluation, after metrics.jsonl got its lines, before the next checkpoint
//   checkpoint  in a checkpoint write: the temporary file is complete, not yet renamed
// Unset (always, outside tests), kill_point() costs one branch on a cached flag.
#pragma once

namespace imlcore {

void kill_point(const char* event);

// Whether IMLHOST_TEST_KILL_AT is set (a kill-and-resume test): checkpoints are then written
// synchronously, so that a kill at a step finds every earlier checkpoint on disk.
bool kill_points_armed();

}  // namespace imlcore
