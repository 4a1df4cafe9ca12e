// The config loader's text half (core/src/config_text.cpp): YAML -> JSON with key lines and
// duplicate-key detection, then `dotted.key=value` overrides. Input: the YAML text, then each
// override after a NUL byte. Every failure must be a UserError with one line.
#include "config_text.hpp"
#include "errors.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::split_nul(data, size);
  const std::string text = parts[0];
  parts.erase(parts.begin());
  imlcore::SourceMap src;
  src.file = "fuzz.yaml";
  try {
    const imlcore::Json doc = imlcore::config_document("fuzz.yaml", text, parts, src);
    // What load_config does next with the result: look keys up and print where they came from.
    for (const auto& kv : src.lines) (void)src.where(kv.first + ".x");
    (void)doc.dump();
  } catch (const imlcore::UserError& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
