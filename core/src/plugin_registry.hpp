// Finds plugin modules (imlplugin_*.so) on the search path, checks each one's plain-C entry for
// compatibility before creating any C++ object from it, and hands out typed plugin objects.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/plugin.hpp"

namespace boost::dll { class shared_library; }

namespace imlcore {

struct PluginRecord {
  std::string name, version, description, torch_version, file;
  imlsdk::Kind kind{};
  int sdk_major = 0, sdk_minor = 0, sdk_patch = 0;
  std::shared_ptr<imlsdk::Plugin> plugin;  // keeps its library loaded
};

// Whether `rec` was built against SDK major.minor or later: what decides which of the virtuals
// added by a minor version the host may call on it.
inline bool sdk_at_least(const PluginRecord& rec, int major, int minor) {
  return rec.sdk_major > major || (rec.sdk_major == major && rec.sdk_minor >= minor);
}

// Loads one module file. Throws UserError naming the file when it is no loadable ELF shared
// library (checked before the dynamic loader maps it: a truncated file would crash the host),
// when the loader refuses it (its dlerror() message), when it is not an imlhost plugin (no entry
// point, wrong magic) or is incompatible (SDK major/minor, LibTorch, C++ ABI).
PluginRecord load_plugin_file(const std::string& path);

// The default search path: the build tree's plugin folder, the install prefix's, then the
// folders of $IML_PLUGIN_PATH (':'-separated).
std::vector<std::string> default_plugin_path();

class PluginRegistry {
 public:
  // Scans every folder for imlplugin_*.so. Files that fail to load are remembered as problems
  // (reported by `imlhost plugins` and when such a plugin is asked for), not fatal.
  explicit PluginRegistry(std::vector<std::string> search_path = default_plugin_path());

  const std::vector<PluginRecord>& plugins() const { return plugins_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // Plugins whose name and kind an earlier file on the path already has: both paths, and which wins.
  const std::vector<std::string>& shadowed() const { return shadowed_; }
  const std::vector<std::string>& search_path() const { return path_; }

  // The plugin of this kind and name; UserError with close names if absent.
  const PluginRecord& get(imlsdk::Kind kind, const std::string& name) const;

  template <typename T>
  std::shared_ptr<T> get_as(const std::string& name) const {
    const auto& rec = get(T::kKind, name);
    auto typed = std::dynamic_pointer_cast<T>(rec.plugin);
    if (!typed) throw_wrong_base(rec);
    return typed;
  }

 private:
  [[noreturn]] static void throw_wrong_base(const PluginRecord& rec);
  std::vector<std::string> path_;
  std::vector<PluginRecord> plugins_;
  std::vector<std::string> problems_;
  std::vector<std::string> shadowed_;
};

}  // namespace imlcore
