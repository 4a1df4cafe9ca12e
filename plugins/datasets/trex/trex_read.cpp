#include "trex_read.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace trex {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error(where + ": " + what);
}

std::string extension_of(const std::string& file) {
  std::string ext = fs::path(file).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return ext;
}

bool has_known_extension(const std::string& file) {
  const auto ext = extension_of(file);
  return ext == ".json" || ext == ".jsonl" || ext == ".tsv";
}

Format format_of(const std::string& file, Format configured) {
  if (configured != Format::Auto) return configured;
  const auto ext = extension_of(file);
  if (ext == ".json") return Format::TrexJson;
  if (ext == ".jsonl") return Format::TripletsJsonl;
  if (ext == ".tsv") return Format::TripletsTsv;
  fail(file, "unknown extension '" + ext +
                 "': expected .json (T-REx dump), .jsonl or .tsv (triplets), or set `format`");
}

std::string read_bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix; it already says
// "parse error at line L, column C: ...".
std::string parse_error_text(const json::exception& e) {
  std::string m = e.what();
  const auto close = m.find("] ");
  return close == std::string::npos ? m : m.substr(close + 2);
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t min_cp = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// ---- the T-REx dump -------------------------------------------------------------------------

// The document fields the dump carries besides "triples": the text and its annotations are most
// of each file, so they are skipped while parsing rather than built and thrown away.
bool is_skipped_document_key(const json& key) {
  return key == "text" || key == "entities" || key == "words_boundaries" ||
         key == "sentences_boundaries";
}

// `part`["surfaceform"] (required string) of a triple's subject or object.
std::string surface_form(const json& triple, const char* part, const std::string& where) {
  if (!triple.contains(part) || !triple[part].is_object())
    fail(where, std::string("no \"") + part + "\" object");
  const json& p = triple[part];
  if (!p.contains("surfaceform") || !p["surfaceform"].is_string())
    fail(where, std::string(part) + ".surfaceform is missing or not a string");
  return p["surfaceform"].get<std::string>();
}

// `part`["uri"]: a string, or empty when absent or null.
std::string optional_uri(const json& triple, const char* part, const std::string& where) {
  const json& p = triple[part];
  if (!p.contains("uri") || p["uri"].is_null()) return "";
  if (!p["uri"].is_string()) fail(where, std::string(part) + ".uri is not a string");
  return p["uri"].get<std::string>();
}

void read_document(const json& doc, const std::string& where, TripleStore& store) {
  if (!doc.is_object()) fail(where, "a document must be a JSON object");
  if (!doc.contains("triples") || !doc["triples"].is_array())
    fail(where, "no \"triples\" list");
  size_t index = 0;
  for (const json& triple : doc["triples"]) {
    const std::string at = where + ": triple " + std::to_string(++index);
    if (!triple.is_object()) fail(at, "a triple must be a JSON object");
    RawTriple t;
    t.subject = surface_form(triple, "subject", at);
    t.subject_uri = optional_uri(triple, "subject", at);
    t.object = surface_form(triple, "object", at);
    if (!triple.contains("predicate") || !triple["predicate"].is_object())
      fail(at, "no \"predicate\" object");
    const std::string uri = optional_uri(triple, "predicate", at);
    t.predicate = predicate_id(uri);
    if (t.predicate.empty())
      fail(at, "predicate.uri '" + uri + "' does not end in a Wikidata property id (P<number>)");
    store.add(t);
  }
}

void read_trex_json(const std::string& file, TripleStore& store) {
  json data;
  try {
    data = json::parse(read_bytes(file), [](int depth, json::parse_event_t event, json& parsed) {
      return !(depth == 2 && event == json::parse_event_t::key && is_skipped_document_key(parsed));
    });
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large
    fail(file, "invalid JSON: " + parse_error_text(e));
  }
  if (data.is_object()) data = json::array({std::move(data)});  // a single document
  if (!data.is_array()) fail(file, "expected a JSON list of T-REx documents");
  size_t record = 0;
  for (const json& doc : data) {
    std::string where = file + ": record " + std::to_string(++record);
    if (doc.is_object() && doc.contains("docid") && doc["docid"].is_string())
      where += " (docid " + doc["docid"].get<std::string>() + ")";
    read_document(doc, where, store);
  }
}

// ---- triplet files ------------------------------------------------------------------------

std::string strip_cr(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

template <typename PerLine>
void for_each_line(const std::string& file, PerLine per_line) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open the file");
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    line = strip_cr(line);
    if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    per_line(line, file + ":" + std::to_string(n), n);
  }
}

bool is_blank(const std::string& s) {
  return s.find_first_not_of(" \t") == std::string::npos;
}

void set_predicate(RawTriple& t, const std::string& value, const std::string& where) {
  t.predicate = predicate_id(value);
  if (t.predicate.empty())
    fail(where, "predicate '" + value + "' is not a Wikidata property id (P<number>) or its URI");
}

void read_triplets_jsonl(const std::string& file, TripleStore& store) {
  for_each_line(file, [&](const std::string& line, const std::string& where, size_t) {
    if (is_blank(line)) return;
    json row;
    try {
      row = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large
      fail(where, "invalid JSON: " + parse_error_text(e));
    }
    if (!row.is_object()) fail(where, "expected a JSON object");
    auto field = [&](const char* key, bool required) -> std::string {
      if (!row.contains(key) || row[key].is_null()) {
        if (required) fail(where, std::string("no \"") + key + "\"");
        return "";
      }
      if (!row[key].is_string()) fail(where, std::string("\"") + key + "\" is not a string");
      return row[key].get<std::string>();
    };
    RawTriple t;
    t.subject = field("subject", true);
    set_predicate(t, field("predicate", true), where);
    t.object = field("object", true);
    t.subject_uri = field("subject_uri", false);
    store.add(t);
  });
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t begin = 0;
  for (;;) {
    const auto tab = line.find('\t', begin);
    fields.push_back(line.substr(begin, tab == std::string::npos ? tab : tab - begin));
    if (tab == std::string::npos) return fields;
    begin = tab + 1;
  }
}

void read_triplets_tsv(const std::string& file, TripleStore& store) {
  for_each_line(file, [&](const std::string& line, const std::string& where, size_t n) {
    if (is_blank(line) || line[0] == '#') return;
    if (n == 1 && line.rfind("subject\tpredicate", 0) == 0) return;  // header
    if (!is_valid_utf8(line)) fail(where, "not valid UTF-8");
    const auto f = split_tabs(line);
    if (f.size() != 3 && f.size() != 4)
      fail(where, "expected 3 or 4 tab-separated fields (subject, predicate, object[, "
                  "subject_uri]), found " + std::to_string(f.size()));
    RawTriple t;
    t.subject = f[0];
    set_predicate(t, f[1], where);
    t.object = f[2];
    if (f.size() == 4) t.subject_uri = f[3];
    store.add(t);
  });
}

}  // namespace

Format parse_format(const std::string& name) {
  if (name == "auto") return Format::Auto;
  if (name == "trex_json") return Format::TrexJson;
  if (name == "triplets_jsonl") return Format::TripletsJsonl;
  if (name == "triplets_tsv") return Format::TripletsTsv;
  throw std::invalid_argument("trex: format must be auto, trex_json, triplets_jsonl or "
                              "triplets_tsv, not '" + name + "'");
}

std::vector<std::string> resolve_inputs(const std::vector<std::string>& paths,
                                        const std::string& base_dir) {
  std::vector<std::string> files;
  for (const auto& configured : paths) {
    fs::path p(configured);
    if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(p))
        if (entry.is_regular_file() && has_known_extension(entry.path().string()))
          found.push_back(entry.path().string());
      if (found.empty())
        throw std::runtime_error("trex: folder " + p.string() + " holds no .json/.jsonl/.tsv file");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p.string());
    } else {
      throw std::runtime_error("trex: " + p.string() + " (path '" + configured +
                               "') is not a file or folder");
    }
  }
  return files;
}

void read_triples(const std::string& file, Format format, TripleStore& store) {
  switch (format_of(file, format)) {
    case Format::TrexJson: return read_trex_json(file, store);
    case Format::TripletsJsonl: return read_triplets_jsonl(file, store);
    case Format::TripletsTsv: return read_triplets_tsv(file, store);
    case Format::Auto: break;
  }
  fail(file, "no format");
}

std::string predicate_id(const std::string& uri) {
  const auto slash = uri.find_last_of("/#");
  const std::string last = slash == std::string::npos ? uri : uri.substr(slash + 1);
  if (last.size() < 2 || last[0] != 'P' || last[1] < '1' || last[1] > '9') return "";
  size_t i = 1;
  while (i < last.size() && last[i] >= '0' && last[i] <= '9') ++i;
  for (size_t k = i; k < last.size(); ++k)
    if (last[k] < 'a' || last[k] > 'z') return "";
  return last.substr(0, i);
}

}  // namespace trex
