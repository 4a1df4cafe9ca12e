#include "plugin_registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <boost/dll/shared_library.hpp>
#include <torch/version.h>

#include "errors.hpp"
#include "imlsdk/text.hpp"

namespace fs = std::filesystem;

namespace imlcore {

#ifndef IMLHOST_BUILD_PLUGIN_DIR
#define IMLHOST_BUILD_PLUGIN_DIR ""
#endif
#ifndef IMLHOST_INSTALL_PLUGIN_DIR
#define IMLHOST_INSTALL_PLUGIN_DIR ""
#endif

std::vector<std::string> default_plugin_path() {
  std::vector<std::string> path;
  for (const char* d : {IMLHOST_BUILD_PLUGIN_DIR, IMLHOST_INSTALL_PLUGIN_DIR})
    if (*d) path.emplace_back(d);
  if (const char* env = std::getenv("IML_PLUGIN_PATH"))
    for (const auto& d : imlsdk::split(env, ':'))
      if (!d.empty()) path.push_back(d);
  return path;
}

static std::string major_minor(const std::string& v) {
  const auto parts = imlsdk::split(v, '.');
  return parts.size() >= 2 ? parts[0] + "." + parts[1] : v;
}

PluginRecord load_plugin_file(const std::string& path) {
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local, ec);
  if (ec) throw UserError(path + ": cannot load plugin module: " + ec.message());
  if (!lib->has(IMLSDK_ENTRY_SYMBOL))
    throw UserError(path + ": not an imlhost plugin (no '" IMLSDK_ENTRY_SYMBOL "' entry point)");
  const imlsdk_entry_v1* e = lib->get<const imlsdk_entry_v1*()>(IMLSDK_ENTRY_SYMBOL)();
  if (!e || e->magic != IMLSDK_ENTRY_MAGIC || e->entry_layout != 1)
    throw UserError(path + ": not an imlhost plugin (bad entry magic/layout)");
  const std::string name = e->name ? e->name : "?";
  const std::string built = std::to_string(e->sdk_major) + "." + std::to_string(e->sdk_minor) +
                            "." + std::to_string(e->sdk_patch);
  if (static_cast<int>(e->sdk_major) != imlsdk::kVersionMajor ||
      static_cast<int>(e->sdk_minor) > imlsdk::kVersionMinor)
    throw UserError(path + ": plugin '" + name + "' was built against imlsdk " + built +
                    ", this host provides imlsdk " IMLSDK_VERSION_STRING
                    " (needs the same major and a minor <= " +
                    std::to_string(imlsdk::kVersionMinor) + "); rebuild the plugin");
  const std::string torch = e->torch_version ? e->torch_version : "";
  if (!torch.empty() && major_minor(torch) != major_minor(TORCH_VERSION))
    throw UserError(path + ": plugin '" + name + "' was built against LibTorch " + torch +
                    ", this host uses LibTorch " TORCH_VERSION "; rebuild the plugin");
  if (static_cast<int>(e->cxx11_abi) != IMLSDK_CXX11_ABI)
    throw UserError(path + ": plugin '" + name + "' uses _GLIBCXX_USE_CXX11_ABI=" +
                    std::to_string(e->cxx11_abi) + ", the host " +
                    std::to_string(IMLSDK_CXX11_ABI) + "; rebuild the plugin");
  if (e->kind < 1 || e->kind > static_cast<uint32_t>(imlsdk::Kind::Task))
    throw UserError(path + ": plugin '" + name + "' declares unknown kind " +
                    std::to_string(e->kind));

  PluginRecord r;
  r.name = name;
  r.version = e->version ? e->version : "";
  r.description = e->description ? e->description : "";
  r.torch_version = torch;
  r.file = path;
  r.kind = static_cast<imlsdk::Kind>(e->kind);
  r.sdk_major = e->sdk_major;
  r.sdk_minor = e->sdk_minor;
  r.sdk_patch = e->sdk_patch;
  // Only now, with the entry checked, do we create a C++ object from the plugin.
  auto destroy = e->destroy;
  auto* obj = static_cast<imlsdk::Plugin*>(e->create());
  if (!obj) throw UserError(path + ": plugin '" + name + "' failed to create its object");
  r.plugin = std::shared_ptr<imlsdk::Plugin>(obj, [lib, destroy](imlsdk::Plugin* p) { destroy(p); });
  return r;
}

PluginRegistry::PluginRegistry(std::vector<std::string> search_path) : path_(std::move(search_path)) {
  for (const auto& dir : path_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string fname = entry.path().filename().string();
      if (fname.rfind("imlplugin_", 0) == 0 && entry.path().extension() == ".so")
        files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        PluginRecord rec = load_plugin_file(f);
        // Earlier folders on the path win (build tree before install prefix before env).
        const bool dup = std::any_of(plugins_.begin(), plugins_.end(), [&](const PluginRecord& p) {
          return p.kind == rec.kind && p.name == rec.name;
        });
        if (!dup) plugins_.push_back(std::move(rec));
      } catch (const std::exception& ex) {
        problems_.push_back(ex.what());
      }
    }
  }
}

const PluginRecord& PluginRegistry::get(imlsdk::Kind kind, const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.kind == kind && p.name == name) return p;
  std::vector<std::string> names;
  for (const auto& p : plugins_)
    if (p.kind == kind) names.push_back(p.name);
  std::string msg = std::string("unknown ") + imlsdk::kind_name(kind) + " plugin '" + name + "'";
  const std::string s = suggest(name, names);
  if (!s.empty()) {
    msg += s;
  } else {
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
    msg += " (available: " + (all.empty() ? std::string("none") : all) + ")";
  }
  for (const auto& pr : problems_)
    if (pr.find("'" + name + "'") != std::string::npos) msg += "; note: " + pr;
  throw UserError(msg);
}

void PluginRegistry::throw_wrong_base(const PluginRecord& rec) {
  throw UserError(rec.file + ": plugin '" + rec.name + "' declares kind " +
                  imlsdk::kind_name(rec.kind) + " but does not derive from that kind's base class");
}

}  // namespace imlcore
