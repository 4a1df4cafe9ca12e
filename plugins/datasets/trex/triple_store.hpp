// Every (subject, predicate, object) read from the inputs, de-duplicated in first-seen order.
//
// The full T-REx dump holds tens of millions of triples (most about other predicates, each
// repeated in many sentences), so strings are interned: a triple is four ids. First-seen order
// makes everything downstream deterministic; the reference de-duplicates through a Python set,
// whose order changes from process to process (spec §8).
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace trex {

// One triple as read. A subject is identified by its surface form AND its URI (empty when the
// input has none), so two works sharing a title but not a URI stay two entities.
struct RawTriple {
  std::string subject;
  std::string subject_uri;
  std::string predicate;  // Wikidata property id, e.g. "P50"
  std::string object;
};

class TripleStore {
 public:
  struct Triple {
    uint32_t subject, subject_uri, predicate, object;  // ids of interned strings
  };

  // Adds `t` unless the same (subject, subject URI, predicate, object) was added before.
  void add(const RawTriple& t);

  const std::vector<Triple>& triples() const { return triples_; }  // first-seen order
  const std::string& text(uint32_t id) const { return strings_[id]; }
  size_t read() const { return read_; }              // every add() call
  size_t duplicates() const { return read_ - triples_.size(); }

 private:
  uint32_t intern(const std::string& s);

  struct TripleHash {
    size_t operator()(const Triple& t) const;
  };
  struct TripleEq {
    bool operator()(const Triple& a, const Triple& b) const {
      return a.subject == b.subject && a.subject_uri == b.subject_uri &&
             a.predicate == b.predicate && a.object == b.object;
    }
  };

  std::deque<std::string> strings_;  // a deque: views into it stay valid as it grows
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::vector<Triple> triples_;
  std::unordered_set<Triple, TripleHash, TripleEq> seen_;
  size_t read_ = 0;
};

}  // namespace trex
