// The Hugging Face peer: HF Transformers 4.33 (PyTorch) run by ../shared/peers/hf_bench.sh as a
// child process on the same shapes as imlhost's workloads, in the same run, so that every ratio
// compares two figures measured under the same load. Each invocation prints one JSON line with its
// own median (of a few steps); the comparison uses the median over invocations.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

// One imlhost workload's peer: the hf_bench.sh arguments and what each invocation returned.
struct PeerWorkload {
  std::string workload_id;        // the imlhost workload it is compared with ("train_70M", ...)
  std::vector<std::string> args;  // hf_bench.sh arguments
  std::string rate_key;           // "tokens_per_s" (train) or "new_tokens_per_s" (gen)
  int64_t flop_params = 0;        // imlhost's count (all but embed_in): the peer must match it
  nlohmann::json expect;          // fields the peer's JSON must echo, e.g. {"batch": 32, "seq": 48}
  std::string skipped;            // why it is not run at all (empty: it is run)

  std::vector<double> rates;          // one median per successful invocation
  std::vector<int> reps;              // the repetition each rate belongs to
  std::vector<nlohmann::json> runs;   // the JSON each successful invocation printed
  std::vector<std::string> failures;  // one message per failed invocation

  bool active() const { return skipped.empty() && failures.empty(); }
  // The peer's median of a JSON number (e.g. "mfu_6N_excl_embed_in") over its invocations.
  double median_of(const std::string& key) const;
};

struct Peer {
  std::string script;  // hf_bench.sh; empty when not found or --no-peer
  std::string status;  // one line: where it is, or why there is none
  std::vector<PeerWorkload> workloads;

  const PeerWorkload* find(const std::string& workload_id) const;
  std::string command(const PeerWorkload& w) const;  // the shell command of one invocation
};

// $IML_PEERS_DIR/hf_bench.sh if the variable is set, else <source_dir>/../shared/peers/hf_bench.sh;
// empty (and `why` set) when that file does not exist.
std::string find_peer_script(const std::string& source_dir, std::string* why);

// Runs one invocation of `w` (the child's stderr is kept and shown only on failure) and records
// its rate, or a failure message naming the command. Never throws for a failing peer.
void run_peer_once(const Peer& peer, PeerWorkload& w, int rep);

}  // namespace bench
