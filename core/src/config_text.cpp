#include "config_text.hpp"

#include <cstdlib>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "errors.hpp"
#include "imlsdk/text.hpp"

namespace imlcore {

std::string SourceMap::where(const std::string& key) const {
  // The line of the key itself, or of its closest parent that has one.
  std::string k = key;
  while (true) {
    auto it = lines.find(k);
    if (it != lines.end())
      return it->second < 0 ? std::string("command line override") : file + ":" + std::to_string(it->second);
    const auto dot = k.rfind('.');
    if (dot == std::string::npos) break;
    k = k.substr(0, dot);
  }
  return file;
}

namespace {

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). yaml-cpp passes other bytes
// through, and JSON (config.json, the config hash) cannot hold them.
bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;
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

// ---- YAML -> JSON with line numbers ----------------------------------------------------

Json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: always a string
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  {
    std::istringstream in(s);
    long long v;
    if ((in >> v) && in.eof() && s.find_first_of(".eE") == std::string::npos) return v;
  }
  {
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && s.find_first_of("0123456789") != std::string::npos) return d;
  }
  return s;
}

Json to_json(const YAML::Node& n, const std::string& path, SourceMap& src, int line_override) {
  if (!path.empty()) src.lines[path] = line_override != 0 ? line_override : n.Mark().line + 1;
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar:
      if (!is_valid_utf8(n.Scalar()))
        throw UserError(src.file + ":" + std::to_string(n.Mark().line + 1) + ": '" + path +
                        "': the value is not valid UTF-8 (save the file as UTF-8)");
      return scalar_to_json(n);
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      size_t i = 0;
      for (const auto& c : n) a.push_back(to_json(c, path + "[" + std::to_string(i++) + "]", src, line_override));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      std::map<std::string, int> first_line;
      for (const auto& kv : n) {
        const int line = kv.first.Mark().line + 1;
        const std::string where = src.file + ":" + std::to_string(line) + ": ";
        if (!kv.first.IsScalar())
          throw UserError(where + "a key " + (path.empty() ? "" : "in '" + path + "' ") +
                          "must be a plain name, not a list, map or null");
        const std::string key = kv.first.Scalar();
        if (!is_valid_utf8(key))
          throw UserError(where + "a key " + (path.empty() ? "" : "in '" + path + "' ") +
                          "is not valid UTF-8 (save the file as UTF-8)");
        const std::string p = path.empty() ? key : path + "." + key;
        if (!first_line.emplace(key, line).second && line_override == 0)
          throw UserError(src.file + ":" + std::to_string(line) + ": '" + p + "' is given twice (lines " +
                          std::to_string(first_line.at(key)) + " and " + std::to_string(line) + "); keep one");
        if (line_override == 0) src.lines[p] = kv.first.Mark().line + 1;
        o[key] = to_json(kv.second, p, src, line_override);
        if (line_override == 0) src.lines[p] = kv.first.Mark().line + 1;
      }
      return o;
    }
  }
  return nullptr;
}

// ---- command-line overrides ---------------------------------------------------------------

void set_override(YAML::Node root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("override '" + assignment + "': expected dotted.key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw UserError("override '" + assignment + "': cannot parse value: " + e.msg);
  }
  const auto parts = imlsdk::split(key, '.');
  std::vector<YAML::Node> chain{root};
  // A value cannot have keys (yaml-cpp would throw its own error on the subscript).
  auto require_container = [&](const YAML::Node& n, size_t depth) {
    if (!n.IsScalar()) return;
    std::string prefix;
    for (size_t k = 0; k < depth; ++k) prefix += (k ? "." : "") + parts[k];
    throw UserError("override '" + assignment + "': '" + prefix + "' is a value, not a map or list");
  };
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node cur = chain.back();
    if (parts[i].empty()) throw UserError("override '" + assignment + "': empty key part");
    require_container(cur, i);
    if (cur.IsSequence()) {
      size_t idx = 0;
      try {
        if (parts[i].find_first_not_of("0123456789") != std::string::npos) throw 0;
        idx = std::stoul(parts[i]);
      } catch (...) {
        throw UserError("override '" + assignment + "': '" + parts[i] + "' must be a list index");
      }
      if (idx >= cur.size()) throw UserError("override '" + assignment + "': index " + parts[i] + " out of range");
      chain.push_back(cur[idx]);
    } else {
      if (!cur[parts[i]] || !(cur[parts[i]].IsMap() || cur[parts[i]].IsSequence())) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      chain.push_back(cur[parts[i]]);
    }
  }
  YAML::Node last = chain.back();
  require_container(last, parts.size() - 1);
  if (last.IsSequence()) {
    size_t idx = 0;
    try {
      if (parts.back().find_first_not_of("0123456789") != std::string::npos) throw 0;
      idx = std::stoul(parts.back());
    } catch (...) {
      throw UserError("override '" + assignment + "': '" + parts.back() + "' must be a list index");
    }
    if (idx >= last.size()) throw UserError("override '" + assignment + "': index out of range");
    last[idx] = parsed;
  } else {
    last[parts.back()] = parsed;
  }
}

void mark_overrides(const std::vector<std::string>& overrides, SourceMap& src) {
  for (const auto& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    // every key path with this prefix comes from the command line
    std::vector<std::string> hit;
    for (auto& kv : src.lines)
      if (kv.first == key || kv.first.rfind(key + ".", 0) == 0 || kv.first.rfind(key + "[", 0) == 0)
        kv.second = -1;
  }
}

}  // namespace

Json config_document(const std::string& path, const std::string& text,
                     const std::vector<std::string>& overrides, SourceMap& src) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw UserError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                    ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw UserError(path + ": cannot read config: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw UserError(path + ":1: the config must be a map of sections");
  Json doc = to_json(root, "", src, 0);
  for (const auto& o : overrides) {
    if (!is_valid_utf8(o)) throw UserError("override '" + o.substr(0, o.find('=')) + "...': not valid UTF-8");
    set_override(root, o);
  }
  if (!overrides.empty()) {
    SourceMap tmp = src;
    doc = to_json(root, "", tmp, 0);
    for (auto& kv : tmp.lines)
      if (!src.lines.count(kv.first)) src.lines[kv.first] = -1;
    mark_overrides(overrides, src);
  }
  return doc;
}

}  // namespace imlcore
