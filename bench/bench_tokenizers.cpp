// Tokenizer encode throughput on one core: HF tokenizer.json (byte-level BPE) and SentencePiece
// tokenizer.model, on English text (the project's own docs and README, line by line, as a data
// pipeline encodes examples). Not a test.
//
//   bench_tokenizers [--reps N] [--fixtures DIR]    (DIR = ../shared/fixtures or $IML_FIXTURES_DIR)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/pretrained_tokenizer.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> corpus(const fs::path& source_dir) {
  std::vector<std::string> lines;
  std::vector<fs::path> files = {source_dir / "README.md"};
  for (const auto& e : fs::directory_iterator(source_dir / "docs"))
    if (e.path().extension() == ".md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) try {
  int reps = 5;
  const char* env = std::getenv("IML_FIXTURES_DIR");
  fs::path fixtures = env ? fs::path(env) : fs::path(BENCH_SOURCE_DIR) / "../shared/fixtures";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--fixtures" && i + 1 < argc) fixtures = argv[++i];
    else throw std::invalid_argument("usage: bench_tokenizers [--reps N] [--fixtures DIR]");
  }
  const auto lines = corpus(BENCH_SOURCE_DIR);
  size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  std::printf("corpus: %zu lines, %.1f kB of English text (README.md, docs/*.md); one thread; medians of %d\n",
              lines.size(), bytes / 1e3, reps);
  std::printf("%-44s %10s %12s %10s\n", "tokenizer", "tokens", "tokens/s", "MB/s");
  struct Case {
    const char* label;
    fs::path file;
    bool bpe;
  };
  const Case cases[] = {
      {"GPT-NeoX-20B tokenizer.json (byte-level BPE)", fixtures / "tokenizers/gpt-neox-20b/20B_tokenizer.json", true},
      {"GPT-2 tokenizer.json (byte-level BPE)", fixtures / "tokenizers/gpt2/gpt2.json", true},
      {"Llama 2 tokenizer.model (SentencePiece BPE)", fixtures / "tokenizers/llama2/tokenizer.model", false},
  };
  for (const auto& c : cases) {
    if (!fs::exists(c.file)) {
      std::printf("%-44s skipped: %s is absent\n", c.label, c.file.c_str());
      continue;
    }
    std::unique_ptr<imlsdk::Tokenizer> tok;
    if (c.bpe) tok = std::make_unique<imlsdk::HfBpeTokenizer>(c.file.string());
    else tok = std::make_unique<imlsdk::SentencePieceTokenizer>(c.file.string());
    size_t tokens = 0;
    for (const auto& l : lines) tokens += tok->encode(l).size();  // warm-up (caches)
    std::vector<double> rates, mbs;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      size_t n = 0;
      for (const auto& l : lines) n += tok->encode(l).size();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rates.push_back(n / s);
      mbs.push_back(bytes / s / 1e6);
    }
    std::printf("%-44s %10zu %12.0f %10.2f\n", c.label, tokens, median(rates), median(mbs));
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_tokenizers: " << e.what() << "\n";
  return 2;
}
