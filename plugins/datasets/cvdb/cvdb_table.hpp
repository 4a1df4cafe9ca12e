// The CVDB table (Laouenan et al. 2022) as the paper uses it (spec §6): the eight columns it
// keeps, the rows its rules keep, the most read men and women, and their six questions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <imlqa/protocol.hpp>

#include "csv_reader.hpp"

namespace cvdb {

struct Person {
  std::string name;        // underscores replaced by spaces
  int64_t birth = 0, death = 0;
  std::string gender;      // "Male", "Female", ...
  std::string occupation;  // level3_main_occ, underscores replaced by spaces
  std::string citizenship;  // string_citizenship_raw_d converted: "A;B"
  std::string region;      // un_region
  double readers = 0;      // wiki_readers_2015_2018
  size_t line = 0;         // where the row is in the file
};

// Rows dropped, by reason, in the order the rules apply (e.g. "missing_death",
// "name_non_word", "duplicate_name", "not_among_most_read").
using DropCounts = std::map<std::string, size_t>;

struct Table {
  std::vector<Person> people;  // kept rows, file order
  size_t rows = 0;             // data rows read
  DropCounts dropped;
};

// Reads the CSV and applies the row rules: drop a row with a missing value in one of the eight
// columns (pandas' NA strings), replace "_" by " " in name and occupation, drop names and
// occupations with non-word characters (Python's [^\w\s]) and citizenships with characters
// other than word characters, spaces and "'", then de-duplicate names: of the rows that passed
// and share a name, the most read one (wiki_readers_2015_2018) stays, ties going to the first
// in file order (spec §8: normalise first, and a bad row never removes a good duplicate; the
// most read row is the person's main entry, a sparse duplicate such as "Mary_Shelley" next to
// "Mary Shelley" is not). Kept rows stay in file order.
// Malformed input throws std::runtime_error("FILE:LINE: what").
Table read_table(const std::string& path, Encoding encoding);

// The `n_per_gender` most read men and women (ties: file order), men first; rows of another
// gender and below the cut are counted into `dropped`.
std::vector<Person> most_read(const std::vector<Person>& people, size_t n_per_gender,
                              DropCounts& dropped);

// string_citizenship_raw_d -> answer list: "'United_Kingdom'_'Ireland'" -> "United Kingdom;Ireland"
// (the first is the training answer), "France" -> "France".
std::string convert_citizenship(const std::string& raw);

// The six questions of paper A.1, in the reference's order: birth, death, region, occupation,
// nationality, gender. Years anonymised (imlqa::anonymize_year).
imlqa::Entity to_entity(const Person& p);

// Python's \w and \s for one code point (exact for ISO-8859-1; above it, letters of every
// script count as word characters and the Unicode punctuation and symbol blocks do not).
bool is_word_char(uint32_t cp);
bool is_space_char(uint32_t cp);

}  // namespace cvdb
