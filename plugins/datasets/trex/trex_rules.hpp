// The per-value rules of the T-REx processing (spec §6 and the choices spec §8 asks for).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace trex {

// Removes every balanced "(...)" group (nested ones included) and normalises whitespace:
// "Solaris (1972 film)" -> "Solaris", "It (novel)" -> "It". An unbalanced '(' is left alone.
// The reference's greedy `\(.*\)` also eats the text between two groups ("A (x) B (y)" -> "A");
// here "A B" remains.
std::string strip_parentheses(const std::string& s);

// Collapses runs of spaces/tabs/newlines into one space and trims.
std::string normalize_space(const std::string& s);

// "he", "she", "it", "they", "him", "her", "them", any case: the coreference aligner's
// subjects and objects, which name nothing. Applied AFTER strip_parentheses (the reference
// applies it before, so "It (novel)" survives as the entity "It"): works titled like a pronoun
// are dropped rather than kept under a name the alignments also use for "it".
bool is_pronoun(const std::string& s);

// The year of a P577 value: the first run of exactly four digits ("21 September 1937",
// "1937-09-21T00:00:00Z", "c. 1503"), negative for a leading '-' ("-0044-03-15", ISO BCE) or a
// "BC"/"BCE" after it. Nothing when the value has no four-digit year ("spring", "44 BC").
std::optional<int64_t> publication_year(const std::string& s);

// The first name asked by the "First name of the ... of X?" questions. The reference takes
// the text before the first space if longer than one character, so "J. R. R. Tolkien" gives
// "J." and "The Dust Brothers" gives "The" (spec §8). Here:
//   - a leading title is skipped (Sir, Dame, Lord, Lady, Dr., Pope, King, Queen, Saint, ...;
//     not "Prince", a name too): "Sir Ridley Scott" -> "Ridley", "Pope Julius II" -> "Julius";
//   - leading initials are the first name together: "J. R. R. Tolkien" -> "J. R. R.",
//     "H.G. Wells" -> "H.G.";
//   - otherwise the first word: "Francis Ford Coppola" -> "Francis", "Jean-Luc Godard" ->
//     "Jean-Luc";
//   - nothing for a single word without a title (a mononym or an organisation: "Madonna",
//     "Pixar"), a name starting with an article ("The Dust Brothers": a group) or a lower-case
//     word, a first word with a digit, or initials without a surname. Such values are dropped
//     and counted.
// Names written family name first ("Bong Joon-ho") cannot be told apart and give the family
// name; the embedded sample avoids them.
// Objects are not typed in the dump, so an organisation with a multi-word name ("Walt Disney
// Pictures") still yields a first word; this is the reference's behaviour too.
std::optional<std::string> first_name(const std::string& full_name);

}  // namespace trex
