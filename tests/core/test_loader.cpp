#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "errors.hpp"
#include "plugin_registry.hpp"

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
  const auto dir = std::filesystem::temp_directory_path() / "imltest_loader";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "imlplugin_garbage.so").string();
  std::ofstream(path) << "this is not a shared library";
  const std::string msg = refusal(path);
  EXPECT_NE(msg.find("cannot load plugin module"), std::string::npos) << msg;
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
