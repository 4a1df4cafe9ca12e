// The word-level text tokenizer: pieces, exact round trips, stable ids, specials.
#include <gtest/gtest.h>

#include "imlsdk/text_tokenizer.hpp"
#include "qa_protocol_harness.hpp"

using imlsdk::TextTokenizer;

TEST(TextTokenizer, PiecesAreGpt2Style) {
  EXPECT_EQ(TextTokenizer::pretokenize("Q: When was <|abcde|> born?\nA: 19 century\n"),
            (std::vector<std::string>{"Q", ":", " When", " was", " <", "|", "abcde", "|", ">",
                                      " born", "?", "\n", "A", ":", " 19", " century", "\n"}));
  // A space before a space, a newline or the end stands alone; UTF-8 stays inside words.
  EXPECT_EQ(TextTokenizer::pretokenize("a  b \nÉmile\t"),
            (std::vector<std::string>{"a", " ", " b", " ", "\n", "Émile", "\t"}));
}

TEST(TextTokenizer, RoundTripsEveryTextItWasBuiltFrom) {
  const std::vector<std::string> texts = {
      "Q: What was the nationality of <|qwert|>?\nA: United States\n",
      "TAG1 <|qwert|> Søren Kierkegaard\n",
      "  leading and trailing  ", "\n\n", "tabs\tand;semi;colons", "x", "", "a.b,c(d)[e]{f}'g\"",
      "ending with a space "};
  const auto tok = TextTokenizer::from_texts(texts);
  for (const auto& t : texts) {
    const auto ids = tok->encode(t);
    for (int64_t id : ids) EXPECT_NE(id, TextTokenizer::kUnk) << t;
    EXPECT_EQ(tok->decode(ids), t);
  }
}

TEST(TextTokenizer, SpecialsAndUnknownPieces) {
  const auto tok = TextTokenizer::from_texts({"b a", "c"});
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->eos_id(), 2);
  // Pieces in byte order after the specials: " a" < "b" < "c".
  EXPECT_EQ(tok->tokens(), (std::vector<std::string>{"<pad>", "<unk>", "<eos>", " a", "b", "c"}));
  EXPECT_EQ(tok->encode("b zzz"), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(tok->decode({4, 0, 3, 2, 5}), "b a");  // pad skipped, stops at eos
  EXPECT_EQ(tok->decode({1}), "<unk>");
  // Ids depend on the set of texts, not their order.
  EXPECT_EQ(TextTokenizer::from_texts({"c", "b a"})->tokens(), tok->tokens());
}

TEST(TextTokenizer, EveryTextOfABundleRoundTripsWithoutUnknowns) {
  const auto b = qa_test::build(120, {{"entity_attribution", true}, {"letters", true},
                                      {"knowledge_stage", true}, {"in_context", true}});
  auto check = [&](const std::vector<imlsdk::Example>& xs) {
    for (const auto& e : xs)
      for (const auto* s : {&e.text, &e.prompt, &e.answer}) {
        const auto ids = b.tokenizer->encode(*s);
        ASSERT_EQ(b.tokenizer->decode(ids), *s);
        for (int64_t id : ids) ASSERT_NE(id, TextTokenizer::kUnk) << *s;
      }
  };
  for (const auto& [name, xs] : b.train) check(xs);
  for (const auto& set : b.evals) check(set.examples);
}
