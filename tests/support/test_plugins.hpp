// Test helper: loads an in-tree plugin module from the build tree by name, directly through
// Boost.DLL (the host's full loader with its compatibility checks is tested separately).
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/dll/shared_library.hpp>

#include "imlsdk/plugin.hpp"

#ifndef IMLTEST_PLUGIN_DIR
#error "IMLTEST_PLUGIN_DIR must be defined by the build"
#endif

namespace imltest {

// Keeps the library loaded as long as the plugin object lives.
template <typename PluginT>
std::shared_ptr<PluginT> load_plugin(const std::string& name) {
  const std::string path = std::string(IMLTEST_PLUGIN_DIR) + "/imlplugin_" + name + ".so";
  auto lib = std::make_shared<boost::dll::shared_library>(
      path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  auto entry = lib->get<const imlsdk_entry_v1*()>(IMLSDK_ENTRY_SYMBOL)();
  auto* raw = static_cast<imlsdk::Plugin*>(entry->create());
  auto* typed = dynamic_cast<PluginT*>(raw);
  if (!typed) {
    entry->destroy(raw);
    throw std::runtime_error("plugin " + name + " is not of the requested kind");
  }
  auto destroy = entry->destroy;
  return std::shared_ptr<PluginT>(typed, [lib, destroy](PluginT* p) {
    destroy(static_cast<imlsdk::Plugin*>(p));
  });
}

// Fills a plugin's declared defaults into `overrides` (keys in overrides win).
inline imlsdk::Json with_defaults(const imlsdk::Plugin& p, imlsdk::Json overrides = imlsdk::Json::object()) {
  imlsdk::Json out = imlsdk::Json::object();
  for (const auto& spec : p.params())
    if (!spec.default_value.is_null()) out[spec.key] = spec.default_value;
  for (auto it = overrides.begin(); it != overrides.end(); ++it) out[it.key()] = it.value();
  return out;
}

// Where the conformance fixtures are: $IML_CONFORMANCE_DIR, default ../shared/conformance
// relative to the source tree.
inline std::string conformance_dir() {
  if (const char* e = std::getenv("IML_CONFORMANCE_DIR")) return e;
  return std::string(IMLTEST_SOURCE_DIR) + "/../shared/conformance";
}

}  // namespace imltest
