// HfBpeTokenizer: byte-level BPE from a Hugging Face tokenizer.json, encoding as the HF
// `tokenizers` library does (checked against its output for GPT-2 and GPT-NeoX-20B).
//
// The pipeline for one text, in HF's order:
//  1. added tokens whose `normalized` flag is false are matched in the raw text (leftmost,
//     then longest); each match is its id, the text between matches goes on;
//  2. that text is normalized (NFC, if the file says so) and the added tokens with
//     normalized=true are matched in it the same way (NeoX's runs of 2..24 spaces are such
//     tokens, so "a   b" encodes its three spaces as one added token);
//  3. what is left is pre-tokenized (ByteLevel: an optional prefix space, the GPT-2 pattern),
//     each piece's bytes are mapped to GPT-2's byte characters and byte-pair encoded.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "byte_level.hpp"
#include "imlsdk/pretrained_tokenizer.hpp"

namespace imlsdk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Added tokens to find in a text: a byte trie over their contents.
class TokenTrie {
 public:
  bool empty() const { return nodes_.size() == 1; }

  void insert(const std::string& pattern, int32_t value) {
    if (pattern.empty()) return;
    int32_t node = 0;
    for (const char ch : pattern) {
      const auto c = static_cast<unsigned char>(ch);
      int32_t child = find_child(node, c);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_[static_cast<size_t>(node)].next.emplace_back(c, child);
        nodes_.emplace_back();
      }
      node = child;
    }
    nodes_[static_cast<size_t>(node)].value = value;
    first_[static_cast<unsigned char>(pattern[0])] = true;
  }

  // The length of the longest pattern that starts at text[i] (0 if none), its value in `value`.
  size_t longest(std::string_view text, size_t i, int32_t& value) const {
    if (!first_[static_cast<unsigned char>(text[i])]) return 0;
    size_t best = 0;
    int32_t node = 0;
    for (size_t k = i; k < text.size(); ++k) {
      node = find_child(node, static_cast<unsigned char>(text[k]));
      if (node < 0) break;
      if (nodes_[static_cast<size_t>(node)].value >= 0) {
        best = k + 1 - i;
        value = nodes_[static_cast<size_t>(node)].value;
      }
    }
    return best;
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;
    int32_t value = -1;
  };
  int32_t find_child(int32_t node, unsigned char c) const {
    for (const auto& [b, child] : nodes_[static_cast<size_t>(node)].next)
      if (b == c) return child;
    return -1;
  }
  std::vector<Node> nodes_{1};
  bool first_[256] = {};
};

// The code point that ends just before byte `end` (kInvalidCodePoint if that is not a whole,
// well-formed character).
uint32_t code_point_before(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  uint32_t cp;
  const size_t len = tok::utf8_next(s, start, cp);
  return start + len == end ? cp : tok::kInvalidCodePoint;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parse_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": malformed JSON (" + e.what() + ")");
  }
}

// "'NFKC'" for a component object with a type, else its JSON.
std::string component_name(const json& c) {
  if (c.is_object() && c.contains("type") && c["type"].is_string())
    return "'" + c["type"].get<std::string>() + "'";
  return c.dump();
}

bool flag(const json& obj, const char* key, bool fallback) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? fallback : it->get<bool>();
}

// A BPE merge: the rank (earlier merges first) and the id of the merged token.
struct Merge {
  int32_t rank;
  int32_t id;
};

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace

struct HfBpeTokenizer::Impl {
  struct AddedToken {
    std::string content;
    int32_t id;
    bool special, single_word, lstrip, rstrip, normalized;
  };

  std::string path;
  // The model.
  std::unordered_map<std::string, int32_t> vocab;  // token (GPT-2 byte characters) -> id
  std::unordered_map<uint64_t, Merge> merges;      // pair_key(left id, right id) -> merge
  int32_t byte_ids[256];                            // id of each single byte's token, -1 if none
  int32_t model_unk = -1;
  bool ignore_merges = false;
  // Normalizer and pre-tokenizer.
  bool nfc = false;
  bool add_prefix_space = false;
  bool use_regex = true;
  // Added tokens, and tries over those matched before (raw) and after (normalized) normalizing.
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_ids;
  TokenTrie raw_trie, normalized_trie;
  // Decoding: the bytes of every id, and which ids exist.
  std::vector<std::string> id_bytes;
  std::vector<uint8_t> id_known;
  // Special ids.
  int64_t eos = -1, pad = -1, bos = -1, unk = -1;
  bool bos_first = false;

  // Per-word BPE cache. Keys are views into `cache_keys` (a deque never moves its elements);
  // values are [offset, count) ranges of `cache_ids`.
  static constexpr size_t kCacheLimit = 1 << 18;
  mutable std::shared_mutex cache_mutex;
  mutable std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> cache;
  mutable std::deque<std::string> cache_keys;
  mutable std::vector<int32_t> cache_ids;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(path + ": " + what);
  }
  [[noreturn]] void unsupported(const std::string& component, const json& c,
                                const std::string& supported) const {
    fail("unsupported tokenizer.json " + component + " " + component_name(c) + " (supported: " +
         supported + ")");
  }

  void load(const json& j);
  void load_normalizer(const json& n);
  void load_pre_tokenizer(const json& p);
  void load_decoder(const json& d);
  void load_model(const json& m);
  void load_added_tokens(const json& a);
  void load_special_token_files();

  int64_t token_to_id(const std::string& token) const {
    if (const auto it = added_ids.find(token); it != added_ids.end()) return it->second;
    if (const auto it = vocab.find(token); it != vocab.end()) return it->second;
    return -1;
  }

  // Splits `text` at the added tokens of `trie` (HF semantics: leftmost-longest matches,
  // single_word / lstrip / rstrip); calls on_text(view) for the text between matches and
  // on_token(id) for each match, in order.
  template <typename OnText, typename OnToken>
  void split_added(const TokenTrie& trie, std::string_view text, OnText&& on_text,
                   OnToken&& on_token) const {
    if (trie.empty()) {
      on_text(text);
      return;
    }
    size_t done = 0, i = 0;
    while (i < text.size()) {
      int32_t index = -1;
      const size_t len = trie.longest(text, i, index);
      if (len == 0) {
        ++i;
        continue;
      }
      const AddedToken& t = added[static_cast<size_t>(index)];
      size_t start = i, end = i + len;
      if (t.single_word) {
        uint32_t after = 0;
        const bool word_before = start > 0 && tok::is_word_char(code_point_before(text, start));
        const bool word_after = end < text.size() && (tok::utf8_next(text, end, after), tok::is_word_char(after));
        if (word_before || word_after) {
          i = end;  // the match is consumed, as in HF's non-overlapping search
          continue;
        }
      }
      if (t.lstrip)  // absorb the whitespace before the match (not before `done`)
        while (start > done) {
          size_t s = start - 1;
          while (s > done && start - s < 4 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
          uint32_t cp;
          if (s + tok::utf8_next(text, s, cp) != start || !tok::is_whitespace(cp)) break;
          start = s;
        }
      if (t.rstrip)  // and the whitespace after it
        while (end < text.size()) {
          uint32_t cp;
          const size_t n = tok::utf8_next(text, end, cp);
          if (!tok::is_whitespace(cp)) break;
          end += n;
        }
      if (start > done) on_text(text.substr(done, start - done));
      on_token(t.id);
      done = i = end;
    }
    if (done < text.size()) on_text(text.substr(done));
  }

  // The ids of text that contains no added token: ByteLevel pre-tokenization, then BPE.
  void encode_plain(std::string_view text, std::vector<int64_t>& ids) const {
    if (text.empty()) return;
    std::string prefixed;
    if (add_prefix_space && text[0] != ' ') {
      prefixed.reserve(text.size() + 1);
      prefixed += ' ';
      prefixed += text;
      text = prefixed;
    }
    if (!use_regex) {
      encode_word(text, ids);
      return;
    }
    thread_local std::vector<std::string_view> words;
    words.clear();
    tok::split_gpt2(text, words);
    for (const auto& w : words) encode_word(w, ids);
  }

  // One pre-token: from the cache, else by BPE (then cached).
  void encode_word(std::string_view word, std::vector<int64_t>& ids) const {
    {
      std::shared_lock lock(cache_mutex);
      const auto it = cache.find(word);
      if (it != cache.end()) {
        const int32_t* p = cache_ids.data() + it->second.first;
        ids.insert(ids.end(), p, p + it->second.second);
        return;
      }
    }
    thread_local std::vector<int32_t> out;
    out.clear();
    bpe(word, out);
    ids.insert(ids.end(), out.begin(), out.end());
    std::unique_lock lock(cache_mutex);
    if (cache.count(word)) return;  // another thread was faster
    if (cache.size() >= kCacheLimit) {
      cache.clear();
      cache_keys.clear();
      cache_ids.clear();
    }
    cache_keys.emplace_back(word);
    cache.emplace(cache_keys.back(), std::make_pair(static_cast<uint32_t>(cache_ids.size()),
                                                    static_cast<uint32_t>(out.size())));
    cache_ids.insert(cache_ids.end(), out.begin(), out.end());
  }

  // Byte-pair encodes one pre-token, as HF's BPE::merge_word: always apply the lowest-ranked
  // merge present (leftmost on ties) until none applies. A heap of candidate merges over a
  // linked list of symbols keeps long words O(n log n).
  void bpe(std::string_view word, std::vector<int32_t>& out) const {
    if (ignore_merges) {
      std::string mapped;
      for (const char c : word) mapped += tok::byte_chars()[static_cast<unsigned char>(c)];
      if (const auto it = vocab.find(mapped); it != vocab.end()) {
        out.push_back(it->second);
        return;
      }
    }
    struct Symbol {
      int32_t id, prev, next;
      bool alive;
    };
    std::vector<Symbol> sym;
    sym.reserve(word.size());
    for (const char c : word) {
      int32_t id = byte_ids[static_cast<unsigned char>(c)];
      if (id < 0) id = model_unk;
      if (id < 0) continue;  // no token for this byte and no unk: HF drops it
      const auto n = static_cast<int32_t>(sym.size());
      sym.push_back({id, n - 1, n + 1, true});
    }
    if (sym.empty()) return;
    sym.back().next = -1;

    struct Candidate {
      int32_t rank, pos, id;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto consider = [&](int32_t pos) {
      const int32_t next = sym[static_cast<size_t>(pos)].next;
      if (next < 0) return;
      const auto it = merges.find(pair_key(sym[static_cast<size_t>(pos)].id, sym[static_cast<size_t>(next)].id));
      if (it != merges.end()) heap.push({it->second.rank, pos, it->second.id});
    };
    for (int32_t p = 0; p + 1 < static_cast<int32_t>(sym.size()); ++p) consider(p);

    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      Symbol& left = sym[static_cast<size_t>(c.pos)];
      if (!left.alive || left.next < 0) continue;
      Symbol& right = sym[static_cast<size_t>(left.next)];
      // Stale: one side was merged into something else since this candidate was pushed.
      const auto it = merges.find(pair_key(left.id, right.id));
      if (it == merges.end() || it->second.id != c.id) continue;
      left.id = c.id;
      right.alive = false;
      left.next = right.next;
      if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = c.pos;
      if (left.prev >= 0) consider(left.prev);
      consider(c.pos);
    }
    for (int32_t p = 0; p >= 0; p = sym[static_cast<size_t>(p)].next) out.push_back(sym[static_cast<size_t>(p)].id);
  }
};

// How many ids below the largest may name no token (HF numbers its vocabularies densely).
constexpr int64_t kMaxUnusedIds = 1 << 16;

void HfBpeTokenizer::Impl::load(const json& j) {
  if (!j.is_object()) fail("malformed tokenizer.json (not a JSON object)");
  if (!j.contains("model")) fail("malformed tokenizer.json (no 'model')");
  load_model(j.at("model"));
  load_normalizer(j.value("normalizer", json()));
  load_pre_tokenizer(j.value("pre_tokenizer", json()));
  load_decoder(j.value("decoder", json()));
  // post_processor only adds special tokens around sequences, which encode() never does.
  load_added_tokens(j.value("added_tokens", json::array()));

  // Decoding table: a token's characters mapped back to bytes (a character outside GPT-2's
  // mapping stands for itself, as in HF's ByteLevel decoder); added tokens as written.
  int64_t size = 0;
  for (const auto& [token, id] : vocab) size = std::max<int64_t>(size, id + 1);
  for (const auto& t : added) size = std::max<int64_t>(size, t.id + 1);
  // Real vocabularies number their tokens 0..n-1 (added tokens may leave a few holes); an id far
  // past the ids the file defines would make this table gigabytes for a few kilobytes of file.
  const int64_t defined = static_cast<int64_t>(vocab.size() + added.size());
  if (size > defined + kMaxUnusedIds)
    fail("malformed tokenizer.json (token id " + std::to_string(size - 1) + " is far past the " +
         std::to_string(defined) + " tokens the file defines; at most " + std::to_string(kMaxUnusedIds) +
         " ids may name no token)");
  id_bytes.assign(static_cast<size_t>(size), std::string());
  id_known.assign(static_cast<size_t>(size), 0);
  for (const auto& [token, id] : vocab) {
    std::string& bytes = id_bytes[static_cast<size_t>(id)];
    for (size_t i = 0; i < token.size();) {
      uint32_t cp;
      const size_t len = tok::utf8_next(token, i, cp);
      const int b = cp == tok::kInvalidCodePoint ? -1 : tok::char_byte(cp);
      if (b >= 0)
        bytes += static_cast<char>(b);
      else
        bytes.append(token, i, len);
      i += len;
    }
    id_known[static_cast<size_t>(id)] = 1;
  }
  for (const auto& t : added) {
    id_bytes[static_cast<size_t>(t.id)] = t.content;
    id_known[static_cast<size_t>(t.id)] = 1;
  }

  eos = token_to_id("<|endoftext|>");
  pad = token_to_id("<|padding|>");
  if (pad < 0) pad = eos;
  unk = model_unk;
  load_special_token_files();
}

void HfBpeTokenizer::Impl::load_normalizer(const json& n) {
  if (n.is_null()) return;
  const std::string type = n.value("type", "");
  if (type == "NFC") {
    nfc = true;
  } else if (type == "Sequence") {
    for (const auto& member : n.at("normalizers")) load_normalizer(member);
  } else {
    unsupported("normalizer", n, "NFC");
  }
}

void HfBpeTokenizer::Impl::load_pre_tokenizer(const json& p) {
  if (p.is_object() && p.value("type", "") == "Sequence") {
    const json& members = p.at("pretokenizers");
    if (members.size() != 1) {
      for (const auto& m : members)
        if (m.value("type", "") != "ByteLevel") unsupported("pre_tokenizer", m, "ByteLevel");
      fail("unsupported tokenizer.json pre_tokenizer: a Sequence of " + std::to_string(members.size()) +
           " (supported: one ByteLevel)");
    }
    load_pre_tokenizer(members[0]);
    return;
  }
  if (!p.is_object() || p.value("type", "") != "ByteLevel") unsupported("pre_tokenizer", p, "ByteLevel");
  add_prefix_space = flag(p, "add_prefix_space", true);
  use_regex = flag(p, "use_regex", true);
}

void HfBpeTokenizer::Impl::load_decoder(const json& d) {
  // A missing decoder is read as ByteLevel, the only one that makes sense for this model.
  if (d.is_null()) return;
  if (d.is_object() && d.value("type", "") == "Sequence") {
    for (const auto& member : d.at("decoders")) load_decoder(member);
    return;
  }
  if (!d.is_object() || d.value("type", "") != "ByteLevel") unsupported("decoder", d, "ByteLevel");
}

void HfBpeTokenizer::Impl::load_model(const json& m) {
  if (!m.is_object()) fail("malformed tokenizer.json ('model' is not an object)");
  // Old files have no model type; HF then recognizes BPE by its merges.
  const std::string type = m.contains("type") ? m.at("type").get<std::string>() : (m.contains("merges") ? "BPE" : "?");
  if (type != "BPE") unsupported("model", m.contains("type") ? m : json("untyped"), "BPE");
  if (!m.contains("vocab") || !m.at("vocab").is_object()) fail("malformed tokenizer.json (model.vocab is not an object)");
  if (!m.contains("merges") || !m.at("merges").is_array()) fail("malformed tokenizer.json (model.merges is not an array)");
  if (m.contains("dropout") && !m.at("dropout").is_null() && m.at("dropout").get<double>() != 0.0)
    fail("unsupported tokenizer.json model.dropout (BPE dropout is not deterministic)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (m.contains(key) && !m.at(key).is_null() && !m.at(key).get<std::string>().empty())
      fail(std::string("unsupported tokenizer.json model.") + key + " '" + m.at(key).get<std::string>() +
           "' (byte-level BPE has none)");
  ignore_merges = flag(m, "ignore_merges", false);
  // byte_fallback only matters for bytes without a token; byte-level vocabularies have them all.

  for (const auto& [token, id] : m.at("vocab").items()) {
    if (!id.is_number_integer()) fail("malformed tokenizer.json (model.vocab['" + token + "'] is not an integer id)");
    const int64_t v = id.get<int64_t>();
    if (v < 0 || v > INT32_MAX) fail("malformed tokenizer.json (model.vocab['" + token + "'] = " + std::to_string(v) + ")");
    vocab.emplace(token, static_cast<int32_t>(v));
  }
  auto id_of = [&](const std::string& token, size_t rank) {
    const auto it = vocab.find(token);
    if (it == vocab.end())
      fail("malformed tokenizer.json (merge " + std::to_string(rank + 1) + " uses '" + token +
           "', which is not in model.vocab)");
    return it->second;
  };
  const json& list = m.at("merges");
  merges.reserve(list.size());
  for (size_t rank = 0; rank < list.size(); ++rank) {
    const json& entry = list[rank];
    std::string a, b;
    if (entry.is_string()) {  // "a b"
      const std::string s = entry.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        fail("malformed tokenizer.json (merge " + std::to_string(rank + 1) + " '" + s + "' is not two tokens)");
      a = s.substr(0, space), b = s.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2) {  // ["a", "b"]
      a = entry[0].get<std::string>(), b = entry[1].get<std::string>();
    } else {
      fail("malformed tokenizer.json (merge " + std::to_string(rank + 1) + " is " + entry.dump() + ")");
    }
    const int32_t left = id_of(a, rank), right = id_of(b, rank), merged = id_of(a + b, rank);
    merges[pair_key(left, right)] = {static_cast<int32_t>(rank), merged};  // a repeat wins, as in HF
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab.find(tok::byte_chars()[static_cast<size_t>(b)]);
    byte_ids[b] = it == vocab.end() ? -1 : it->second;
  }
  if (m.contains("unk_token") && !m.at("unk_token").is_null()) {
    const std::string u = m.at("unk_token").get<std::string>();
    const auto it = vocab.find(u);
    if (it == vocab.end()) fail("malformed tokenizer.json (model.unk_token '" + u + "' is not in model.vocab)");
    model_unk = it->second;
  }
}

void HfBpeTokenizer::Impl::load_added_tokens(const json& a) {
  if (!a.is_array()) fail("malformed tokenizer.json (added_tokens is not an array)");
  for (const auto& t : a) {
    AddedToken token;
    token.content = t.at("content").get<std::string>();
    const int64_t id = t.at("id").get<int64_t>();
    if (id < 0 || id > INT32_MAX) fail("malformed tokenizer.json (added token '" + token.content + "' has id " + std::to_string(id) + ")");
    token.id = static_cast<int32_t>(id);
    token.special = flag(t, "special", false);
    token.single_word = flag(t, "single_word", false);
    token.lstrip = flag(t, "lstrip", false);
    token.rstrip = flag(t, "rstrip", false);
    token.normalized = flag(t, "normalized", !token.special);
    if (token.content.empty()) fail("malformed tokenizer.json (added token " + std::to_string(id) + " is empty)");
    added_ids[token.content] = token.id;
    added.push_back(std::move(token));
  }
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& t = added[i];
    if (!t.normalized) {
      raw_trie.insert(t.content, static_cast<int32_t>(i));
    } else {
      // Matched in normalized text, so the pattern is the normalized content.
      std::string normalized;
      const bool changed = nfc && tok::nfc_normalize(t.content, normalized);
      normalized_trie.insert(changed ? normalized : t.content, static_cast<int32_t>(i));
    }
  }
}

// transformers keeps special token names beside tokenizer.json; where present they override
// the defaults (special_tokens_map.json over tokenizer_config.json, as transformers does).
void HfBpeTokenizer::Impl::load_special_token_files() {
  const fs::path dir = fs::path(path).parent_path();
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path file = dir / name;
    if (!fs::is_regular_file(file)) continue;
    const json j = parse_json_file(file.string());
    if (!j.is_object()) throw std::invalid_argument(file.string() + ": malformed (not a JSON object)");
    for (const auto& [key, target] : {std::pair<const char*, int64_t*>{"bos_token", &bos},
                                      {"eos_token", &eos}, {"pad_token", &pad}, {"unk_token", &unk}}) {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) continue;
      std::string token;
      if (it->is_string())
        token = it->get<std::string>();
      else if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        token = (*it)["content"].get<std::string>();
      else
        throw std::invalid_argument(file.string() + ": malformed " + key + " " + it->dump());
      const int64_t id = token_to_id(token);
      if (id < 0)
        throw std::invalid_argument(file.string() + ": " + key + " '" + token + "' is not a token of " + path);
      *target = id;
    }
    if (const auto it = j.find("add_bos_token"); it != j.end() && it->is_boolean()) bos_first = it->get<bool>();
  }
  if (bos < 0) bos_first = false;
}

HfBpeTokenizer::HfBpeTokenizer(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  const json j = parse_json_file(path);
  try {
    impl_->load(j);
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    throw std::invalid_argument(path + ": malformed tokenizer.json (" + e.what() + ")");
  }
}

HfBpeTokenizer::~HfBpeTokenizer() = default;

std::vector<int64_t> HfBpeTokenizer::encode(const std::string& text) const {
  const Impl& m = *impl_;
  std::vector<int64_t> ids;
  ids.reserve(text.size() / 3 + 4);
  auto push_id = [&](int32_t id) { ids.push_back(id); };
  m.split_added(
      m.raw_trie, text,
      [&](std::string_view raw) {
        std::string normalized;
        const std::string_view piece = m.nfc && tok::nfc_normalize(raw, normalized) ? std::string_view(normalized) : raw;
        m.split_added(m.normalized_trie, piece, [&](std::string_view plain) { m.encode_plain(plain, ids); }, push_id);
      },
      push_id);
  return ids;
}

std::string HfBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  const Impl& m = *impl_;
  std::string out;
  for (const int64_t id : ids) {
    if (id == m.eos) break;
    if (id == m.pad || id == m.bos) continue;
    if (id < 0 || id >= vocab_size() || !m.id_known[static_cast<size_t>(id)])
      throw std::out_of_range(m.path + ": no token has id " + std::to_string(id));
    out += m.id_bytes[static_cast<size_t>(id)];
  }
  return out;
}

int64_t HfBpeTokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_bytes.size()); }
int64_t HfBpeTokenizer::pad_id() const { return impl_->pad; }
int64_t HfBpeTokenizer::eos_id() const { return impl_->eos; }
int64_t HfBpeTokenizer::bos_id() const { return impl_->bos; }
bool HfBpeTokenizer::add_bos() const { return impl_->bos_first; }
int64_t HfBpeTokenizer::unk_id() const { return impl_->unk; }
int64_t HfBpeTokenizer::token_to_id(const std::string& token) const { return impl_->token_to_id(token); }

std::string HfBpeTokenizer::describe() const {
  const Impl& m = *impl_;
  return "byte-level BPE from " + m.path + " (" + std::to_string(vocab_size()) + " ids, " +
         std::to_string(m.merges.size()) + " merges, " + std::to_string(m.added.size()) +
         " added tokens; eos " + std::to_string(m.eos) + ", pad " + std::to_string(m.pad) +
         (m.bos >= 0 ? ", bos " + std::to_string(m.bos) : "") + (m.nfc ? "; NFC" : "") + ")";
}

}  // namespace imlsdk
