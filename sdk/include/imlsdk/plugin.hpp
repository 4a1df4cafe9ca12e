// The plugin contract: every plugin is one shared library that exports one C entry point,
// `imlsdk_plugin_entry`, returning a plain-C description (no C++ objects) that the host reads
// and checks for compatibility BEFORE it creates any C++ object from the plugin.
//
// A plugin author writes one class derived from a kind's base (DatasetPlugin, TagPlugin,
// ModelPlugin, TaskPlugin, OptimizerPlugin, AnalysisPlugin) and one line:
//
//   IMLSDK_PLUGIN(MyTags, "my_tags", "1.0.0", "One-line description");
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <boost/config.hpp>  // BOOST_SYMBOL_EXPORT, as Boost.DLL expects
#include <nlohmann/json.hpp>

#include "imlsdk/version.hpp"

namespace imlsdk {

using Json = nlohmann::ordered_json;

// The entry's numbers are fixed forever (a 1.x plugin's entry is still read, then refused).
enum class Kind : uint32_t { Dataset = 1, Tag = 2, Model = 3, Optimizer = 4, Analysis = 5, Task = 6 };
const char* kind_name(Kind k);

// The type of a config value a plugin accepts.
enum class ParamType { Bool, Int, Float, String, List, Map, Any };
const char* param_type_name(ParamType t);

// One config key a plugin accepts: the host derives validation, defaults, `imlhost plugins`
// output and docs from this declaration alone.
struct ParamSpec {
  std::string key;
  ParamType type = ParamType::Any;
  Json default_value;  // null = required unless `optional`
  std::string help;
  bool optional = false;  // true: may be absent (no default), plugin handles absence
};

// Base of every plugin object. Plugin objects are factories: stateless apart from what
// their constructor sets up; per-run state lives in the objects they create.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // The config keys this plugin accepts (under its section in the YAML config).
  virtual std::vector<ParamSpec> params() const { return {}; }
};

// Does `value` have type `t`? (Int is accepted where Float is expected.)
bool json_matches(const Json& value, ParamType t);

}  // namespace imlsdk

extern "C" {
// Plain-C plugin description; layout fixed for entry_layout == 1 in every SDK version, so a
// host can read any plugin's versions before it trusts anything else in it.
struct imlsdk_entry_v1 {
  uint32_t magic;         // IMLSDK_ENTRY_MAGIC
  uint32_t entry_layout;  // 1
  uint32_t sdk_major, sdk_minor, sdk_patch;
  uint32_t kind;                // imlsdk::Kind
  const char* name;             // unique plugin name, e.g. "random_string"
  const char* version;          // the plugin's own version, e.g. "1.0.0"
  const char* description;      // one line
  const char* torch_version;    // LibTorch version built against, "" if it does not use LibTorch
  uint32_t cxx11_abi;           // _GLIBCXX_USE_CXX11_ABI
  void* (*create)();            // returns a new imlsdk::Plugin*, delete with destroy
  void (*destroy)(void*);
};
}
#define IMLSDK_ENTRY_MAGIC 0x504C4D49u /* "IMLP" */
#define IMLSDK_ENTRY_SYMBOL "imlsdk_plugin_entry"

#ifdef TORCH_VERSION
#define IMLSDK_TORCH_VERSION_STR TORCH_VERSION
#else
#define IMLSDK_TORCH_VERSION_STR ""
#endif
#ifdef _GLIBCXX_USE_CXX11_ABI
#define IMLSDK_CXX11_ABI _GLIBCXX_USE_CXX11_ABI
#else
#define IMLSDK_CXX11_ABI 0
#endif

// Declares `Class` (a subclass of one kind's plugin base) as this library's plugin.
#define IMLSDK_PLUGIN(Class, NAME, VERSION, DESCRIPTION)                                     \
  extern "C" BOOST_SYMBOL_EXPORT const imlsdk_entry_v1* imlsdk_plugin_entry() {              \
    static const imlsdk_entry_v1 entry = {                                                   \
        IMLSDK_ENTRY_MAGIC,                                                                  \
        1,                                                                                   \
        IMLSDK_VERSION_MAJOR,                                                                \
        IMLSDK_VERSION_MINOR,                                                                \
        IMLSDK_VERSION_PATCH,                                                                \
        static_cast<uint32_t>(Class::kKind),                                                 \
        NAME,                                                                                \
        VERSION,                                                                             \
        DESCRIPTION,                                                                         \
        IMLSDK_TORCH_VERSION_STR,                                                            \
        IMLSDK_CXX11_ABI,                                                                    \
        []() -> void* { return static_cast<::imlsdk::Plugin*>(new Class()); },               \
        [](void* p) { delete static_cast<::imlsdk::Plugin*>(p); }};                          \
    return &entry;                                                                           \
  }
