// imlhost: runs implicit meta-learning experiments composed from plugins by a YAML config.

#include <cstdio>
#include <unistd.h>
#include <cstring>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "config.hpp"
#include "errors.hpp"
#include "imlsdk/version.hpp"
#include "plugin_registry.hpp"
#include "environment.hpp"
#include "experiment.hpp"

using namespace imlcore;

static const char* kUsage =
    "usage: imlhost CONFIG.yaml [dotted.key=value ...]     run the experiment\n"
    "       imlhost validate CONFIG.yaml [key=value ...]   resolve plugins, check the whole config\n"
    "       imlhost data CONFIG.yaml --out DIR [key=value ...]\n"
    "                                                      write every generated train/eval set as JSONL\n"
    "       imlhost plugins [NAME]                         list plugins (or one plugin's config keys)\n"
    "       imlhost --help | --version\n"
    "\n"
    "Plugins are searched in the build tree, the install prefix, then $IML_PLUGIN_PATH (':'-separated).\n"
    "Results go to <experiment.output_dir>/<experiment.name>/<seed>/. Exit codes: 0 ok, 2 bad input, 1 other errors.\n";

static void print_spec(const std::vector<imlsdk::ParamSpec>& spec) {
  for (const auto& p : spec)
    std::printf("    %-28s %-7s %-18s %s\n", p.key.c_str(), imlsdk::param_type_name(p.type),
                p.default_value.is_null() ? (p.optional ? "(optional)" : "(required)") : p.default_value.dump().c_str(),
                p.help.c_str());
}

static int cmd_plugins(const std::vector<std::string>& args) {
  PluginRegistry reg;
  if (!args.empty()) {
    bool found = false;
    for (const auto& r : reg.plugins())
      if (r.name == args[0]) {
        found = true;
        std::printf("%s (%s %s) — %s\n  file: %s\n  built against imlsdk %d.%d.%d%s%s\n  config keys:\n",
                    r.name.c_str(), imlsdk::kind_name(r.kind), r.version.c_str(), r.description.c_str(), r.file.c_str(),
                    r.sdk_major, r.sdk_minor, r.sdk_patch, r.torch_version.empty() ? "" : ", LibTorch ",
                    r.torch_version.c_str());
        print_spec(r.plugin->params());
      }
    if (!found) throw UserError("no plugin named '" + args[0] + "'");
    return 0;
  }
  std::printf("%-16s %-10s %-8s %-52s %s\n", "name", "kind", "version", "description", "file");
  for (const auto& r : reg.plugins())
    std::printf("%-16s %-10s %-8s %-52s %s\n", r.name.c_str(), imlsdk::kind_name(r.kind), r.version.c_str(),
                r.description.c_str(), r.file.c_str());
  for (const auto& p : reg.problems()) std::printf("refused: %s\n", p.c_str());
  for (const auto& p : reg.shadowed()) std::printf("shadowed: %s\n", p.c_str());
  std::printf("search path:");
  for (const auto& d : reg.search_path()) std::printf(" %s", d.c_str());
  std::printf("\n");
  return 0;
}

// An error ends a progress line drawn on a terminal first; in a log file it is one line.
static const char* line_break() { return ::isatty(STDERR_FILENO) ? "\n" : ""; }

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  spdlog::set_pattern("[%H:%M:%S] %v");
  try {
    imlcore::configure_memory();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(kUsage, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
      std::printf("imlhost %s (imlsdk %s, LibTorch %s)\n", IMLHOST_VERSION, IMLSDK_VERSION_STRING, TORCH_VERSION);
      return 0;
    }
    if (args[0] == "plugins") return cmd_plugins({args.begin() + 1, args.end()});
    std::string command = "run";
    if (args[0] == "validate" || args[0] == "data") {
      command = args[0];
      args.erase(args.begin());
    }
    if (args.empty()) throw UserError("missing CONFIG.yaml (see imlhost --help)");
    const std::string config_path = args[0];
    std::string out_dir;
    std::vector<std::string> overrides;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--out" && command == "data") {
        if (i + 1 >= args.size()) throw UserError("--out needs a directory");
        out_dir = args[++i];
      } else if (args[i].rfind("--", 0) == 0) {
        throw UserError("unknown option '" + args[i] + "' (see imlhost --help)");
      } else if (args[i].find('=') == std::string::npos) {
        throw UserError("argument '" + args[i] + "' is not a dotted.key=value override");
      } else {
        overrides.push_back(args[i]);
      }
    }
    if (command == "data" && out_dir.empty()) throw UserError("imlhost data needs --out DIR");
    PluginRegistry reg;
    Config cfg = load_config(config_path, overrides, reg);
    if (command == "validate") {
      validate_experiment(cfg, reg);
      std::printf("%s: ok (data %s, tags %s, task %s, model %s, optimizer %s, %zu stage(s), %zu seed(s) x %zu stage-2 seed(s))\n",
                  config_path.c_str(), cfg.data.plugin.c_str(), cfg.tags.plugin.c_str(), cfg.task.plugin.c_str(), cfg.model.plugin.c_str(),
                  cfg.optimizer.plugin.c_str(), cfg.stages.size(), cfg.experiment.seeds.size(),
                  cfg.experiment.stage2_seeds.size());
      return 0;
    }
    if (command == "data") {
      write_data(cfg, reg, out_dir);
      return 0;
    }
    run_experiment(cfg, reg);
    return 0;
  } catch (const UserError& e) {
    std::fprintf(stderr, "%simlhost: error: %s\n", line_break(), e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "%simlhost: error (LibTorch): %s\n", line_break(), e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%simlhost: error: %s\n", line_break(), e.what());
    return 1;
  }
}
