#include "plugin_registry.hpp"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

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

// The dynamic loader maps a module's segments without checking them against the file's size, so
// a truncated module crashes the process (SIGBUS) when a page past its end is touched. Check the
// ELF headers and every segment's bounds first; throw a UserError naming what is wrong.
void check_elf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw UserError(path + ": cannot read the plugin file");
  const auto size = static_cast<uint64_t>(in.tellg());
  auto fail = [&](const std::string& why) {
    throw UserError(path + ": not a loadable plugin module (" + why + "; the file has " + std::to_string(size) +
                    " bytes — truncated or not a shared library?)");
  };
  Elf64_Ehdr eh{};
  if (size < sizeof eh) fail("shorter than an ELF header");
  in.seekg(0);
  in.read(reinterpret_cast<char*>(&eh), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("no ELF magic");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) fail("not a 64-bit ELF file");
#if defined(__x86_64__)
  if (eh.e_machine != EM_X86_64) fail("built for another processor (e_machine " + std::to_string(eh.e_machine) + ")");
#elif defined(__aarch64__)
  if (eh.e_machine != EM_AARCH64) fail("built for another processor (e_machine " + std::to_string(eh.e_machine) + ")");
#endif
  if (eh.e_type != ET_DYN) fail("not a shared library (ELF type " + std::to_string(eh.e_type) + ")");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0) fail("no program headers");
  if (eh.e_phoff > size || uint64_t(eh.e_phnum) * eh.e_phentsize > size - eh.e_phoff) fail("program headers past the end of the file");
  if (eh.e_shoff != 0 && (eh.e_shoff > size || uint64_t(eh.e_shnum) * eh.e_shentsize > size - eh.e_shoff))
    fail("section headers past the end of the file");
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + uint64_t(i) * eh.e_phentsize));
    in.read(reinterpret_cast<char*>(&ph), sizeof ph);
    if (!in) fail("unreadable program header " + std::to_string(i));
    if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset))
      fail("segment " + std::to_string(i) + " ends at byte " + std::to_string(ph.p_offset + ph.p_filesz));
  }
}

PluginRecord load_plugin_file(const std::string& path) {
  check_elf_file(path);
  // Ask the dynamic loader first: its own message (a missing library or symbol, another
  // LibTorch) is what the user needs, and Boost.DLL's error code loses it.
  void* probe = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (!probe) {
    const char* why = ::dlerror();
    throw UserError(path + ": cannot load plugin module: " + (why ? why : "unknown dynamic-loader error"));
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local, ec);
  ::dlclose(probe);  // Boost.DLL holds its own reference now
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
        const auto winner = std::find_if(plugins_.begin(), plugins_.end(), [&](const PluginRecord& p) {
          return p.kind == rec.kind && p.name == rec.name;
        });
        if (winner == plugins_.end())
          plugins_.push_back(std::move(rec));
        else
          shadowed_.push_back(rec.file + ": " + imlsdk::kind_name(rec.kind) + " plugin '" + rec.name +
                              "' is also in " + winner->file + ", which is used (earlier on the search path)");
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
