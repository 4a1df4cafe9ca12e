#include "triple_store.hpp"

#include <stdexcept>

namespace trex {

size_t TripleStore::TripleHash::operator()(const Triple& t) const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint32_t v : {t.subject, t.subject_uri, t.predicate, t.object}) {
    h ^= v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return static_cast<size_t>(h);
}

uint32_t TripleStore::intern(const std::string& s) {
  const auto it = ids_.find(std::string_view(s));
  if (it != ids_.end()) return it->second;
  if (strings_.size() >= UINT32_MAX) throw std::runtime_error("trex: too many distinct strings");
  const auto id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(s);
  ids_.emplace(std::string_view(strings_.back()), id);
  return id;
}

void TripleStore::add(const RawTriple& t) {
  ++read_;
  const Triple triple{intern(t.subject), intern(t.subject_uri), intern(t.predicate),
                      intern(t.object)};
  if (seen_.insert(triple).second) triples_.push_back(triple);
}

}  // namespace trex
