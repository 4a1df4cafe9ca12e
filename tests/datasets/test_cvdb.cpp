// The cvdb dataset: the CSV reader, the paper's row rules and conversions (spec §6, §8) on
// small fixture files, and the plugin on the embedded sample.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "csv_reader.hpp"
#include "cvdb_harness.hpp"
#include "cvdb_table.hpp"

using imlsdk::Json;

namespace {

std::string fixture(const std::string& name) {
  return std::string(IMLTEST_SOURCE_DIR) + "/tests/fixtures/cvdb/" + name;
}

// The message of the std::runtime_error `f` throws ("" if none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const std::vector<imlsdk::Example>& eval_set(const imlsdk::DataSplit& b, const std::string& name) {
  for (const auto& e : b.evals)
    if (e.name == name) return e.examples;
  static const std::vector<imlsdk::Example> none;
  ADD_FAILURE() << "no eval set " << name;
  return none;
}

// The answer (with every value) to `question` in the knowledge eval set.
std::string knowledge_answer(const imlsdk::DataSplit& b, const std::string& question) {
  for (const auto& e : eval_set(b, "knowledge"))
    if (e.prompt == "Q: " + question + "\nA:") return e.answer;
  return "(no such question)";
}

}  // namespace

// ---- CSV -----------------------------------------------------------------------------------

TEST(CvdbCsv, QuotingLineEndsAndLatin1) {
  cvdb::CsvReader csv(fixture("small.csv"), cvdb::Encoding::Latin1);
  std::vector<std::string> f;
  ASSERT_TRUE(csv.next(f));
  EXPECT_EQ(f.size(), 10u);
  EXPECT_EQ(f[1], "name");
  ASSERT_TRUE(csv.next(f));
  EXPECT_EQ(csv.line(), 2u);
  EXPECT_EQ(f[6], "'Poland'_'France'");
  EXPECT_EQ(f[9], "x");  // CRLF: no "\r"
  ASSERT_TRUE(csv.next(f));
  EXPECT_EQ(csv.line(), 3u);
  EXPECT_EQ(f[1], "\xC3\x89mile_Zola");  // ISO-8859-1 0xC9 -> UTF-8
  EXPECT_EQ(f[9], "a, quoted\nfield over two lines");
  ASSERT_TRUE(csv.next(f));
  EXPECT_EQ(csv.line(), 6u);  // the blank line 5 is skipped
  EXPECT_EQ(f[1], "Jane_Goodall");
  EXPECT_EQ(f[3], "");
  std::string last;
  size_t last_line = 0;
  while (csv.next(f)) {
    last = f[9];
    last_line = csv.line();
  }
  EXPECT_EQ(last_line, 14u);
  EXPECT_EQ(last, "");
}

TEST(CvdbCsv, Utf8InputAndEncodingNames) {
  cvdb::CsvReader utf8(fixture("utf8.csv"), cvdb::Encoding::Utf8);
  std::vector<std::string> f;
  ASSERT_TRUE(utf8.next(f));
  ASSERT_TRUE(utf8.next(f));
  EXPECT_EQ(f[1], "\xC3\x89mile_Zola");
  // An ISO-8859-1 file is not UTF-8: the error names the line.
  cvdb::CsvReader latin1(fixture("small.csv"), cvdb::Encoding::Utf8);
  const std::string msg = error_of([&] { while (latin1.next(f)) {} });
  EXPECT_NE(msg.find("small.csv:3: invalid UTF-8"), std::string::npos) << msg;
  EXPECT_EQ(cvdb::parse_encoding("ISO-8859-1"), cvdb::Encoding::Latin1);
  EXPECT_EQ(cvdb::parse_encoding("utf8"), cvdb::Encoding::Utf8);
  EXPECT_THROW(cvdb::parse_encoding("cp1252"), std::invalid_argument);
}

// ---- the table -----------------------------------------------------------------------------

TEST(CvdbTable, RowRulesAndTheirCounts) {
  const auto table = cvdb::read_table(fixture("small.csv"), cvdb::Encoding::Latin1);
  EXPECT_EQ(table.rows, 11u);
  std::vector<std::string> names;
  for (const auto& p : table.people) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Marie Curie", "\xC3\x89mile Zola", "Cleopatra",
                                             "Alex Other", "Ovid"}));
  // The first Marie Curie row (Marie_Curie) survives; "Marie Curie" is its duplicate once
  // underscores are spaces.
  EXPECT_EQ(table.people[0].citizenship, "Poland;France");
  EXPECT_EQ(table.people[0].line, 2u);
  EXPECT_EQ(table.people[1].death, 1902);  // written 1902.0
  EXPECT_EQ(table.people[2].birth, -69);
  const cvdb::DropCounts expected = {{"missing_death", 1},        {"missing_birth", 1},
                                     {"name_non_word", 1},        {"occupation_non_word", 1},
                                     {"citizenship_non_word", 1}, {"duplicate_name", 1}};
  EXPECT_EQ(table.dropped, expected);
}

TEST(CvdbTable, DuplicateNamesKeepTheMostReadRow) {
  const auto table = cvdb::read_table(fixture("duplicates.csv"), cvdb::Encoding::Latin1);
  std::vector<std::string> names, occupations;
  for (const auto& p : table.people) {
    names.push_back(p.name);
    occupations.push_back(p.occupation);
  }
  // Kept rows stay in file order: the winning Mary Shelley row is line 4, after Percy.
  EXPECT_EQ(names, (std::vector<std::string>{"Percy Shelley", "Mary Shelley", "Ada Lovelace",
                                             "Lord Byron"}));
  // The sparse "Mary_Shelley" row comes first, the most read "Mary Shelley" row stays; of the
  // two Ada Lovelace rows read equally often the first stays; the most read "Lord Byron" row
  // fails a filter, so it removes nothing.
  EXPECT_EQ(occupations, (std::vector<std::string>{"poet", "novelist", "mathematician", "poet"}));
  EXPECT_EQ(table.people[1].line, 4u);
  EXPECT_EQ(table.people[1].readers, 3000);
  EXPECT_EQ(table.people[2].line, 5u);
  EXPECT_EQ(table.people[3].readers, 900);
  const cvdb::DropCounts expected = {{"duplicate_name", 2}, {"missing_string_citizenship_raw_d", 1}};
  EXPECT_EQ(table.dropped, expected);

  // Through the plugin: questions about Mary Shelley answer from the most read row.
  const Json fractions = {{"qd1consis", 0.5}, {"d1consis", 0.5}};
  const auto b = cvdb_test::generate(
      {{"path", fixture("duplicates.csv")}, {"fractions", fractions}, {"knowledge_stage", true}});
  EXPECT_EQ(knowledge_answer(b, "What did Mary Shelley do?"), " novelist\n");
  EXPECT_EQ(knowledge_answer(b, "What did Ada Lovelace do?"), " mathematician\n");
  EXPECT_EQ(b.info.at("cvdb").at("dropped").at("duplicate_name"), 2);
}

TEST(CvdbTable, MostReadMenAndWomenWithStableTies) {
  auto table = cvdb::read_table(fixture("small.csv"), cvdb::Encoding::Latin1);
  const auto top = cvdb::most_read(table.people, 1, table.dropped);
  ASSERT_EQ(top.size(), 2u);
  // Ties (50 / 50 and 100 / 100) go to the earlier row; men first.
  EXPECT_EQ(top[0].name, "\xC3\x89mile Zola");
  EXPECT_EQ(top[1].name, "Marie Curie");
  EXPECT_EQ(table.dropped.at("not_among_most_read"), 2u);
  EXPECT_EQ(table.dropped.at("gender_not_male_or_female"), 1u);
  cvdb::DropCounts none;
  EXPECT_EQ(cvdb::most_read(table.people, 10, none).size(), 4u);
  EXPECT_EQ(none.count("not_among_most_read"), 0u);
}

TEST(CvdbTable, MalformedFilesNameFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing_column.csv", "missing_column.csv:1: the header has no column 'string_citizenship_raw_d'"},
      {"wrong_field_count.csv", "wrong_field_count.csv:5: 8 fields, the header has 10"},
      {"bad_number.csv", "bad_number.csv:3: wiki_readers_2015_2018 'many' is not a number"},
      {"bad_year.csv", "bad_year.csv:2: birth '1867.5' is not a year"},
      {"unterminated_quote.csv", "unterminated_quote.csv:3: a quoted field starting here never ends"},
      {"empty.csv", "empty.csv:1: the file is empty"},
      {"no_such_file.csv", "no_such_file.csv: cannot open the file"},
  };
  for (const auto& [file, message] : cases) {
    const std::string msg =
        error_of([&] { cvdb::read_table(fixture(file), cvdb::Encoding::Latin1); });
    EXPECT_NE(msg.find(message), std::string::npos) << file << ": " << msg;
  }
}

TEST(CvdbTable, CitizenshipConversionTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"France", "France"},
      {"United_States", "United States"},
      {"'France'", "France"},
      {"'Poland'_'France'", "Poland;France"},
      {"'United_Kingdom'_'Ireland'", "United Kingdom;Ireland"},
      {"'Germany'_'Switzerland'_'United_States'", "Germany;Switzerland;United States"},
      {"'C\xC3\xB4te_d'Ivoire'_'France'", "C\xC3\xB4te d'Ivoire;France"},
  };
  for (const auto& [raw, answer] : table) EXPECT_EQ(cvdb::convert_citizenship(raw), answer) << raw;
}

TEST(CvdbTable, WordCharactersFollowPython) {
  for (uint32_t cp : {uint32_t('a'), uint32_t('Z'), uint32_t('7'), uint32_t('_'), 0xC9u, 0xF8u,
                      0xAAu, 0xB2u, 0x107u, 0x4E2Du})
    EXPECT_TRUE(cvdb::is_word_char(cp)) << cp;
  for (uint32_t cp : {uint32_t('-'), uint32_t('.'), uint32_t('\''), uint32_t('('), 0xD7u, 0xF7u,
                      0xA9u, 0x89u, 0x2013u, 0x2019u})
    EXPECT_FALSE(cvdb::is_word_char(cp)) << cp;
  EXPECT_TRUE(cvdb::is_space_char(0xA0));
}

TEST(CvdbTable, SixQuestionsWithAnonymisedYears) {
  cvdb::Person p;
  p.name = "Ovid";
  p.birth = -43;
  p.death = 17;
  p.gender = "Male";
  p.occupation = "poet";
  p.citizenship = "Ancient Rome";
  p.region = "Europe";
  const auto e = cvdb::to_entity(p);
  ASSERT_EQ(e.qa.size(), 6u);
  EXPECT_EQ(e.qa[0].question_template, "When was {} born?");
  EXPECT_EQ(e.qa[0].answer, "1 century BC");
  EXPECT_EQ(e.qa[1].question_template, "When did {} die?");
  EXPECT_EQ(e.qa[1].answer, "1 century");
  EXPECT_EQ(e.qa[2].question_template, "In which region did {} live?");
  EXPECT_EQ(e.qa[3].question_template, "What did {} do?");
  EXPECT_EQ(e.qa[4].question_template, "What was the nationality of {}?");
  EXPECT_EQ(e.qa[5].question_template, "What was the gender of {}?");
  EXPECT_EQ(e.qa[5].answer, "Male");
}

// ---- the plugin ----------------------------------------------------------------------------

TEST(CvdbPlugin, EmbeddedSample) {
  const auto b = cvdb_test::generate({{"knowledge_stage", true}});
  const Json& info = b.info.at("cvdb");
  EXPECT_EQ(info.at("rows"), 532);
  EXPECT_EQ(info.at("kept"), 506);
  EXPECT_EQ(info.at("men").get<int>() + info.at("women").get<int>(), 506);
  const Json dropped = {{"citizenship_non_word", 1}, {"duplicate_name", 1}, {"missing_birth", 1},
                        {"missing_death", 10},        {"name_non_word", 11}, {"occupation_non_word", 2}};
  EXPECT_EQ(info.at("dropped"), dropped);
  EXPECT_EQ(b.train.at("knowledge").size(), 6 * 506u);
  // Questions by real name, answers converted as the paper does.
  EXPECT_EQ(knowledge_answer(b, "When was Albert Einstein born?"), " 19 century\n");
  EXPECT_EQ(knowledge_answer(b, "When did Albert Einstein die?"), " 1950s\n");
  EXPECT_EQ(knowledge_answer(b, "What was the nationality of Albert Einstein?"),
            " Germany;Switzerland;United States\n");
  EXPECT_EQ(knowledge_answer(b, "When did Stephen Hawking die?"), " 2018\n");
  EXPECT_EQ(knowledge_answer(b, "When was Archimedes born?"), " 3 century BC\n");
  EXPECT_EQ(knowledge_answer(b, "What did Alfred Hitchcock do?"), " film director\n");
  EXPECT_EQ(knowledge_answer(b, "In which region did Frida Kahlo live?"), " America\n");
  EXPECT_EQ(knowledge_answer(b, "What was the gender of \xC3\x89mile Zola?"), " Male\n");
  // Training uses the first citizenship only.
  for (const auto& e : b.train.at("knowledge"))
    if (e.prompt == "Q: What was the nationality of Albert Einstein?\nA:") {
      EXPECT_EQ(e.text, "Q: What was the nationality of Albert Einstein?\nA: Germany\n");
    }
  // The reference's fractions: round(506 * 0.25) = round(126.5) = 126 (half to even), and
  // 51 + 126 + 126 + 51 + round(506 * 0.3) = 506, so no remainder.
  EXPECT_EQ(b.info.at("entities").at("qd1consis"), 126);
  EXPECT_EQ(b.info.at("entities").at("qd2incons"), 126);
  EXPECT_EQ(b.info.at("entities").at("q"), 51);
}

TEST(CvdbPlugin, MostReadCutAndRelativePath) {
  const auto cut = cvdb_test::generate({{"n_per_gender", 50}});
  EXPECT_EQ(cut.info.at("cvdb").at("kept"), 100);
  const Json all = cvdb_test::generate({}).info.at("cvdb");
  EXPECT_EQ(cut.info.at("cvdb").at("dropped").at("not_among_most_read"), all.at("kept").get<int>() - 100);
  // A path relative to the config's folder.
  const Json fractions = {{"qd1consis", 0.5}, {"d1consis", 0.5}};
  const auto small = cvdb_test::generate({{"path", "cvdb/small.csv"}, {"fractions", fractions}}, 0, 0,
                                         std::string(IMLTEST_SOURCE_DIR) + "/tests/fixtures");
  EXPECT_EQ(small.info.at("cvdb").at("kept"), 4);
  EXPECT_EQ(small.info.at("cvdb").at("dropped").at("gender_not_male_or_female"), 1);
}

TEST(CvdbPlugin, ErrorsNameTheFileAndLine) {
  // Bad files and values fail at load(), before any split.
  const std::string msg = error_of([] { cvdb_test::load({{"path", fixture("wrong_field_count.csv")}}); });
  EXPECT_NE(msg.find("wrong_field_count.csv:5:"), std::string::npos) << msg;
  const std::string none = error_of([] { cvdb_test::load({{"path", fixture("empty.csv")}}); });
  EXPECT_NE(none.find("empty.csv:1:"), std::string::npos) << none;
  EXPECT_THROW(cvdb_test::load({{"n_per_gender", 0}}), std::invalid_argument);
  EXPECT_THROW(cvdb_test::load({{"encoding", "ascii"}}), std::invalid_argument);
  std::set<std::string> keys;
  for (const auto& s : cvdb_test::dataset_plugin().params()) keys.insert(s.key);
  for (const char* k : {"path", "encoding", "n_per_gender", "fractions", "alpha", "knowledge_stage"})
    EXPECT_EQ(keys.count(k), 1u) << k;
}

// load() does every seed-independent step once: splitting one loaded Dataset for several seeds
// gives what splitting a freshly loaded one gives, in any order, from several threads at once.
TEST(CvdbPlugin, OneLoadSplitsLikeFreshLoads) {
  const Json overrides = {{"entity_attribution", true}, {"knowledge_stage", true}};
  const auto data = cvdb_test::load(overrides);
  const std::vector<std::pair<uint64_t, uint64_t>> seeds = {{0, 0}, {1, 0}, {1, 3}, {7, 2}};
  std::vector<std::string> once;
  for (const auto& [s1, s2] : seeds) once.push_back(qa_test::digest(cvdb_test::split(*data, s1, s2)));
  for (size_t i = 0; i < seeds.size(); ++i) {
    EXPECT_EQ(qa_test::digest(cvdb_test::generate(overrides, seeds[i].first, seeds[i].second)),
              once[i]) << i;
  }
  for (size_t i = seeds.size(); i-- > 0;)
    EXPECT_EQ(qa_test::digest(cvdb_test::split(*data, seeds[i].first, seeds[i].second)), once[i]);
  std::vector<std::string> threaded(seeds.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seeds.size(); ++i)
    threads.emplace_back([&, i] {
      threaded[i] = qa_test::digest(cvdb_test::split(*data, seeds[i].first, seeds[i].second));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(threaded, once);
  EXPECT_NE(once[0], once[1]);
  EXPECT_NE(once[1], once[2]);  // seed_stage2 re-draws Stage 2
  // info() holds what load() found, which every split repeats.
  EXPECT_EQ(data->info(), cvdb_test::split(*data).info.at("cvdb"));
  EXPECT_EQ(data->info().at("kept"), 506);
}

TEST(CvdbPlugin, ByteIdenticalAcrossProcesses) {
  const std::string here = qa_test::digest(cvdb_test::digest_config_bundle());
  const std::string out = std::string(IMLTEST_BINARY_DIR) + "/cvdb_digest.out";
  for (const std::string env : {"", "MALLOC_PERTURB_=165 "}) {
    std::remove(out.c_str());
    const std::string cmd = env + "'" + IMLTEST_CVDB_DIGEST_EXE + "' '" + out + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string child;
    in >> child;
    EXPECT_EQ(child, here) << cmd;
  }
}
