// The T-REx readers (plugins/datasets/trex/trex_read.cpp) into the triple store. Input: one
// byte choosing the format (0: the dump's .json, 1: triplets .jsonl, 2: triplets .tsv, by
// value mod 3), then the file.
#include <stdexcept>

#include "fuzz_util.hpp"
#include "trex_read.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kNames[] = {"trex.json", "triplets.jsonl", "triplets.tsv"};
  const std::string& path = fuzz::write_input(data + 1, size - 1, kNames[data[0] % 3]);
  try {
    trex::TripleStore store;
    trex::read_triples(path, trex::Format::Auto, store);
    (void)store.duplicates();
  } catch (const std::runtime_error& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
