#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "errors.hpp"
#include "plugin_registry.hpp"
#include "scratch.hpp"

using namespace imlcore;

static std::string fake(const std::string& name) { return std::string(IMLTEST_FAKES_DIR) + "/" + name + ".so"; }

static std::string refusal(const std::string& path) {
  try {
    load_plugin_file(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Loader, LoadsARealPluginAndDescribesIt) {
  PluginRecord r = load_plugin_file(std::string(IMLTEST_PLUGIN_DIR) + "/imlplugin_exact_match.so");
  EXPECT_EQ(r.name, "exact_match");
  EXPECT_EQ(r.kind, imlsdk::Kind::Analysis);
  EXPECT_EQ(r.sdk_major, IMLSDK_VERSION_MAJOR);
  EXPECT_FALSE(r.torch_version.empty());  // it uses LibTorch and says which
  EXPECT_FALSE(r.description.empty());
  ASSERT_TRUE(r.plugin);
  EXPECT_FALSE(r.plugin->params().empty());
}

TEST(Loader, RefusesAWrongSdkMajorNamingBothVersions) {
  const std::string msg = refusal(fake("fake_wrong_major"));
  EXPECT_NE(msg.find("imlsdk " + std::to_string(IMLSDK_VERSION_MAJOR + 98) + ".0.0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("imlsdk " IMLSDK_VERSION_STRING), std::string::npos) << msg;
  EXPECT_NE(msg.find("fake_wrong_major.so"), std::string::npos) << msg;
}

TEST(Loader, RefusesAnSdk1PluginNamingBothVersions) {
  const std::string msg = refusal(fake("fake_sdk1"));
  EXPECT_NE(msg.find("imlsdk 1.1.0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("imlsdk " IMLSDK_VERSION_STRING), std::string::npos) << msg;
  EXPECT_NE(msg.find("fake_sdk1.so"), std::string::npos) << msg;
}

TEST(Loader, RefusesAnotherLibTorch) {
  const std::string msg = refusal(fake("fake_wrong_torch"));
  EXPECT_NE(msg.find("LibTorch 0.4.1"), std::string::npos) << msg;
}

TEST(Loader, RefusesAModuleWithoutEntryPoint) {
  const std::string msg = refusal(fake("fake_no_entry"));
  EXPECT_NE(msg.find("no 'imlsdk_plugin_entry' entry point"), std::string::npos) << msg;
}

TEST(Loader, RefusesANonPluginFile) {
  const auto dir = imltest::scratch_dir("loader");
  const std::string path = (dir / "imlplugin_garbage.so").string();
  std::ofstream(path) << "this is not a shared library, just a text file that is long enough to hold an ELF header";
  const std::string msg = refusal(path);
  EXPECT_NE(msg.find("not a loadable plugin module (no ELF magic"), std::string::npos) << msg;
  // A registry scanning that folder reports the problem instead of dying.
  PluginRegistry reg({dir.string()});
  EXPECT_TRUE(reg.plugins().empty());
  ASSERT_EQ(reg.problems().size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(Loader, RegistrySuggestsCloseNames) {
  PluginRegistry reg({IMLTEST_PLUGIN_DIR});
  try {
    reg.get(imlsdk::Kind::Analysis, "exact_mach");
    FAIL() << "expected a refusal";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean exact_match"), std::string::npos) << e.what();
  }
}

namespace {

std::filesystem::path scratch_dir(const std::string& name) { return imltest::scratch_dir("loader_" + name); }

// The first `bytes` bytes of a real plugin, saved as `path`.
void truncated_copy(const std::string& path, size_t bytes) {
  std::ifstream in(std::string(IMLTEST_PLUGIN_DIR) + "/imlplugin_exact_match.so", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(data.size(), bytes);
  std::ofstream(path, std::ios::binary) << data.substr(0, bytes);
}

}  // namespace

// A truncated module would crash the host in the dynamic loader (SIGBUS); it is refused first.
TEST(Loader, TruncatedPluginsAreRefusedNotLoaded) {
  const auto dir = scratch_dir("truncated");
  const size_t full = std::filesystem::file_size(std::string(IMLTEST_PLUGIN_DIR) + "/imlplugin_exact_match.so");
  for (size_t bytes : {size_t{3000}, full / 2, full - 100}) {
    const std::string path = (dir / "imlplugin_x.so").string();
    truncated_copy(path, bytes);
    const std::string msg = refusal(path);
    EXPECT_NE(msg.find(path + ": not a loadable plugin module"), std::string::npos) << bytes << ": " << msg;
    EXPECT_NE(msg.find("the file has " + std::to_string(bytes) + " bytes"), std::string::npos) << msg;
  }
  // A longer truncated copy of an installed plugin is reported, not dropped as a duplicate.
  truncated_copy((dir / "imlplugin_exact_match.so").string(), full / 2);
  PluginRegistry reg({IMLTEST_PLUGIN_DIR, dir.string()});
  bool reported = false;
  for (const auto& p : reg.problems()) reported |= p.find((dir / "imlplugin_exact_match.so").string()) != std::string::npos;
  EXPECT_TRUE(reported);
  std::filesystem::remove_all(dir);
}

TEST(Loader, TheDynamicLoadersOwnReasonIsShown) {
  const std::string msg = refusal(fake("fake_missing_symbol"));
  EXPECT_NE(msg.find("fake_missing_symbol.so: cannot load plugin module: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("undefined symbol: imltest_undefined_variable"), std::string::npos) << msg;
}

TEST(Loader, TwoPluginsOfOneNameAreReportedWithBothPathsAndTheWinner) {
  const auto dir = scratch_dir("duplicate");
  const std::string first = std::string(IMLTEST_PLUGIN_DIR) + "/imlplugin_exact_match.so";
  std::filesystem::copy_file(first, dir / "imlplugin_exact_match.so");
  PluginRegistry reg({IMLTEST_PLUGIN_DIR, dir.string()});
  ASSERT_EQ(reg.shadowed().size(), 1u);
  const std::string& msg = reg.shadowed()[0];
  EXPECT_NE(msg.find((dir / "imlplugin_exact_match.so").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("also in " + first + ", which is used"), std::string::npos) << msg;
  EXPECT_EQ(reg.get(imlsdk::Kind::Analysis, "exact_match").file, first);
  std::filesystem::remove_all(dir);
}
