// imlsdk: the SDK for imlhost plugins. A complete tag plugin:
//
//   #include <imlsdk/tags.hpp>
//
//   class Shouting : public imlsdk::TagPlugin {
//    public:
//     std::vector<imlsdk::ParamSpec> params() const override {
//       return {{"suffix", imlsdk::ParamType::String, "!", "appended to every tag"}};
//     }
//     std::unique_ptr<imlsdk::Tagger> create(const imlsdk::Json& p, imlsdk::Rng&) const override {
//       struct T : imlsdk::Tagger {
//         std::string suffix;
//         std::string tag(int i) const override { return "TAG" + std::to_string(i) + suffix; }
//         std::vector<std::string> vocabulary() const override { return {tag(1), tag(2), tag(3)}; }
//         imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
//           return imlsdk::render_ordered_definition(tag(d.tag_index), d);
//         }
//       };
//       auto t = std::make_unique<T>();
//       t->suffix = p.at("suffix").get<std::string>();
//       return t;
//     }
//   };
//   IMLSDK_PLUGIN(Shouting, "shouting", "1.0.0", "Tags TAG1!, TAG2!, ...")
//
// Build it with find_package(imlsdk) and imlsdk_add_plugin(shouting shouting.cpp); see
// docs/sdk.md for the compatibility policy.
#pragma once
#include "imlsdk/data.hpp"
#include "imlsdk/params.hpp"
#include "imlsdk/tags.hpp"
#include "imlsdk/tokenizer.hpp"
#include "imlsdk/plugin.hpp"
#include "imlsdk/rng.hpp"
#include "imlsdk/text.hpp"
#include "imlsdk/version.hpp"
