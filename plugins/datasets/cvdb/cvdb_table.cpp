#include "cvdb_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include <imlsdk/text.hpp>

namespace cvdb {
namespace {

// The columns the paper keeps, in the order missing values are reported.
const std::vector<std::string> kColumns = {"name",
                                           "birth",
                                           "death",
                                           "gender",
                                           "level3_main_occ",
                                           "string_citizenship_raw_d",
                                           "un_region",
                                           "wiki_readers_2015_2018"};

// pandas.read_csv's default missing-value strings (what the reference's dropna drops).
bool is_missing(const std::string& v) {
  static const std::set<std::string> na = {"",      "#N/A", "#N/A N/A", "#NA",  "-1.#IND",
                                           "-1.#QNAN", "-NaN", "-nan",  "1.#IND", "1.#QNAN",
                                           "<NA>",  "N/A",  "NA",       "NULL", "NaN",
                                           "None",  "n/a",  "nan",      "null"};
  return na.count(v) > 0;
}

std::vector<uint32_t> code_points(const std::string& utf8) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    len = std::min(len, utf8.size() - i);
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Every character is a word character, a space, or one of `extra`.
bool only_word_characters(const std::string& s, const std::string& extra = "") {
  for (uint32_t cp : code_points(s))
    if (!is_word_char(cp) && !is_space_char(cp) &&
        !(cp < 0x80 && extra.find(static_cast<char>(cp)) != std::string::npos))
      return false;
  return true;
}

std::string underscores_to_spaces(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

double parse_number(const CsvReader& csv, const std::string& column, const std::string& text) {
  double v = 0;
  const std::string t = imlsdk::trim(text);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v) || t.empty())
    csv.fail(column + " '" + text + "' is not a number");
  return v;
}

int64_t parse_year(const CsvReader& csv, const std::string& column, const std::string& text) {
  const double v = parse_number(csv, column, text);  // pandas writes years as 1955.0 too
  if (v != std::floor(v) || std::abs(v) > 100000)
    csv.fail(column + " '" + text + "' is not a year");
  return static_cast<int64_t>(v);
}

}  // namespace

bool is_word_char(uint32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) || cp == '_';
  if (cp < 0x100)  // ª ² ³ µ ¹ º ¼ ½ ¾ and the Latin-1 letters except × and ÷
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE) || (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7);
  const bool punctuation_or_symbol =
      (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
      (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
      (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
  return !punctuation_or_symbol;
}

bool is_space_char(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string convert_citizenship(const std::string& raw) {
  // 'A'_'B': split on the quote-underscore-quote between values and drop the quotes around
  // each value; underscores inside a value are spaces. Apostrophes inside a value stay
  // ("Côte_d'Ivoire" -> "Côte d'Ivoire"; the reference deletes every quote).
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t at; (at = raw.find("'_'", from)) != std::string::npos; from = at + 3)
    parts.push_back(raw.substr(from, at - from));
  parts.push_back(raw.substr(from));
  std::string out;
  for (auto part : parts) {
    part = imlsdk::trim(part);
    if (!part.empty() && part.front() == '\'') part.erase(0, 1);
    if (!part.empty() && part.back() == '\'') part.pop_back();
    part = imlsdk::trim(underscores_to_spaces(part));
    if (part.empty()) continue;
    out += (out.empty() ? "" : ";") + part;
  }
  return out;
}

Table read_table(const std::string& path, Encoding encoding) {
  CsvReader csv(path, encoding);
  std::vector<std::string> fields;
  if (!csv.next(fields)) throw std::runtime_error(path + ":1: the file is empty (no header)");
  const size_t n_columns = fields.size();
  std::vector<size_t> at;  // kColumns[i] is field at[i]
  for (const auto& column : kColumns) {
    const auto it = std::find(fields.begin(), fields.end(), column);
    if (it == fields.end()) csv.fail("the header has no column '" + column + "'");
    at.push_back(static_cast<size_t>(it - fields.begin()));
  }

  Table table;
  while (csv.next(fields)) {
    ++table.rows;
    if (fields.size() != n_columns)
      csv.fail(std::to_string(fields.size()) + " fields, the header has " +
               std::to_string(n_columns));
    auto value = [&](size_t i) -> const std::string& { return fields[at[i]]; };

    std::string missing;
    for (size_t i = 0; i < kColumns.size() && missing.empty(); ++i)
      if (is_missing(value(i))) missing = kColumns[i];
    if (!missing.empty()) {
      ++table.dropped["missing_" + missing];
      continue;
    }
    Person p;
    p.line = csv.line();
    p.name = underscores_to_spaces(value(0));
    p.birth = parse_year(csv, "birth", value(1));
    p.death = parse_year(csv, "death", value(2));
    p.gender = value(3);
    p.occupation = underscores_to_spaces(value(4));
    p.region = value(6);
    p.readers = parse_number(csv, "wiki_readers_2015_2018", value(7));
    if (!only_word_characters(p.name)) {
      ++table.dropped["name_non_word"];
      continue;
    }
    if (!only_word_characters(p.occupation)) {
      ++table.dropped["occupation_non_word"];
      continue;
    }
    if (!only_word_characters(value(5), "'")) {
      ++table.dropped["citizenship_non_word"];
      continue;
    }
    p.citizenship = convert_citizenship(value(5));
    if (p.citizenship.empty()) {
      ++table.dropped["missing_string_citizenship_raw_d"];
      continue;
    }
    table.people.push_back(std::move(p));
  }

  // Rows that share a name once normalised: the most read stays, ties go to the first.
  std::map<std::string, size_t> chosen;  // name -> index into table.people
  for (size_t i = 0; i < table.people.size(); ++i) {
    const auto [it, fresh] = chosen.emplace(table.people[i].name, i);
    if (!fresh && table.people[i].readers > table.people[it->second].readers) it->second = i;
  }
  std::vector<Person> kept;
  for (size_t i = 0; i < table.people.size(); ++i) {
    if (chosen.at(table.people[i].name) == i)
      kept.push_back(std::move(table.people[i]));
    else
      ++table.dropped["duplicate_name"];
  }
  table.people = std::move(kept);
  return table;
}

std::vector<Person> most_read(const std::vector<Person>& people, size_t n_per_gender,
                              DropCounts& dropped) {
  std::vector<Person> out;
  for (const std::string gender : {"Male", "Female"}) {
    std::vector<Person> group;
    for (const auto& p : people)
      if (p.gender == gender) group.push_back(p);
    std::stable_sort(group.begin(), group.end(),
                     [](const Person& a, const Person& b) { return a.readers > b.readers; });
    if (group.size() > n_per_gender) {
      dropped["not_among_most_read"] += group.size() - n_per_gender;
      group.resize(n_per_gender);
    }
    out.insert(out.end(), group.begin(), group.end());
  }
  const size_t other = static_cast<size_t>(std::count_if(people.begin(), people.end(), [](const Person& p) {
    return p.gender != "Male" && p.gender != "Female";
  }));
  if (other > 0) dropped["gender_not_male_or_female"] += other;
  return out;
}

imlqa::Entity to_entity(const Person& p) {
  imlqa::Entity e;
  e.name = p.name;
  e.qa = {
      {"When was {} born?", imlqa::anonymize_year(p.birth), "birth"},
      {"When did {} die?", imlqa::anonymize_year(p.death), "death"},
      {"In which region did {} live?", p.region, "region"},
      {"What did {} do?", p.occupation, "occupation"},
      {"What was the nationality of {}?", p.citizenship, "nationality"},
      {"What was the gender of {}?", p.gender, "gender"},
  };
  return e;
}

}  // namespace cvdb
