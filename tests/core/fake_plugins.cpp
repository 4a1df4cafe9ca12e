// Deliberately broken plugin modules for the loader's refusal tests.
#include "imlsdk/tags.hpp"

#ifdef FAKE_MISSING_SYMBOL
// Data relocations are resolved when the module is loaded: dlopen fails naming this symbol.
extern "C" int imltest_undefined_variable;
extern "C" BOOST_SYMBOL_EXPORT int* fake_uses_undefined() { return &imltest_undefined_variable; }
#endif

#ifndef FAKE_NO_ENTRY
namespace {
class FakeTags : public imlsdk::TagPlugin {
 public:
  std::unique_ptr<imlsdk::Tagger> create(const imlsdk::Json&, imlsdk::Rng&) const override { return nullptr; }
};
}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const imlsdk_entry_v1* imlsdk_plugin_entry() {
  static const imlsdk_entry_v1 e = {IMLSDK_ENTRY_MAGIC, 1,
#if defined(FAKE_WRONG_MAJOR)
                                    IMLSDK_VERSION_MAJOR + 98, 0, 0,
#elif defined(FAKE_SDK1)
                                    1, 1, 0,  // what a plugin built against SDK 1.1 declares
#else
                                    IMLSDK_VERSION_MAJOR, 0, 0,
#endif
 static_cast<uint32_t>(imlsdk::Kind::Tag), "fake", "0.0.1", "a fake",
#ifdef FAKE_WRONG_TORCH
                                    "0.4.1",
#else
                                    "",
#endif
                                    IMLSDK_CXX11_ABI,
                                    // create must never be called for a refused plugin
                                    []() -> void* { std::abort(); },
                                    [](void* p) { delete static_cast<imlsdk::Plugin*>(p); }};
  return &e;
}
#else
extern "C" int some_other_function() { return 42; }
#endif
