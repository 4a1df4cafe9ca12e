// Config keys declared once. A plugin (or the host) lists each key of a settings struct one time
// — name, member, default, help, and optionally the key Hugging Face's config.json uses — and
// everything else is derived from that list: the ParamSpec declarations the host validates and
// `imlhost plugins` prints, reading the validated params into the struct, and reading/writing
// HF config.json. Example:
//
//   struct Shape { int64_t layers = 0; double eps = 0; };
//   const imlsdk::Schema<Shape>& shape_schema() {
//     static const auto s = imlsdk::Schema<Shape>()
//         .add("num_layers", &Shape::layers, int64_t{6}, "transformer blocks", "num_hidden_layers")
//         .add("layer_norm_eps", &Shape::eps, 1e-5, "LayerNorm epsilon", "layer_norm_eps");
//     return s;
//   }
//   params() returns shape_schema().specs(); create() calls shape_schema().read(params).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "imlsdk/plugin.hpp"

namespace imlsdk {

template <typename T>
constexpr ParamType param_type_of() {
  if constexpr (std::is_same_v<T, bool>) return ParamType::Bool;
  else if constexpr (std::is_integral_v<T>) return ParamType::Int;
  else if constexpr (std::is_floating_point_v<T>) return ParamType::Float;
  else if constexpr (std::is_same_v<T, std::string>) return ParamType::String;
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return ParamType::List;
  else return ParamType::Any;
}

template <typename S>
class Schema {
 public:
  // A key with a default. `hf_key` names the same setting in HF's config.json ("" = none).
  template <typename T, typename D>
  Schema& add(std::string key, T S::*member, D default_value, std::string help,
              std::string hf_key = "") {
    Field f;
    f.spec = ParamSpec{key, param_type_of<T>(), Json(T(default_value)), std::move(help)};
    f.hf_key = std::move(hf_key);
    f.read = [member, key](const Json& j, S& s) { s.*member = j.get<T>(); };
    f.write = [member](const S& s) { return Json(s.*member); };
    fields_.push_back(std::move(f));
    return *this;
  }

  // A key without a default: the config must give it (or, with `optional`, may leave it out,
  // and the member keeps its initial value).
  template <typename T>
  Schema& add_required(std::string key, T S::*member, std::string help, bool optional = false,
                       std::string hf_key = "") {
    Field f;
    f.spec = ParamSpec{key, param_type_of<T>(), Json(), std::move(help), optional};
    f.hf_key = std::move(hf_key);
    f.read = [member](const Json& j, S& s) {
      if (!j.is_null()) s.*member = j.get<T>();
    };
    f.write = [member](const S& s) { return Json(s.*member); };
    fields_.push_back(std::move(f));
    return *this;
  }

  std::vector<ParamSpec> specs() const {
    std::vector<ParamSpec> out;
    for (const auto& f : fields_) out.push_back(f.spec);
    return out;
  }

  // The struct from validated params (the host has filled every default in). Keys absent from
  // `params` keep their declared default. A value of the wrong type (e.g. a list of numbers
  // where strings are declared) is a std::invalid_argument naming the key.
  S read(const Json& params) const {
    S s{};
    for (const auto& f : fields_) {
      const Json& v = params.contains(f.spec.key) ? params.at(f.spec.key) : f.spec.default_value;
      if (v.is_null()) continue;
      try {
        f.read(v, s);
      } catch (const Json::exception&) {
        throw std::invalid_argument("'" + f.spec.key + "': expected " +
                                    param_type_name(f.spec.type) +
                                    (f.spec.type == ParamType::List ? " of strings" : "") +
                                    ", got " + v.dump());
      }
    }
    return s;
  }

  // The struct from an HF config.json object: keys with an hf_key are read from there (absent →
  // the declared default); `where` names the file in errors.
  S read_hf(const Json& hf, const std::string& where) const {
    S s = read(Json::object());
    for (const auto& f : fields_) {
      if (f.hf_key.empty() || !hf.contains(f.hf_key) || hf.at(f.hf_key).is_null()) continue;
      if (!json_matches(hf.at(f.hf_key), f.spec.type))
        throw std::invalid_argument(where + ": '" + f.hf_key + "' must be " +
                                    param_type_name(f.spec.type) + ", got " + hf.at(f.hf_key).dump());
      try {
        f.read(hf.at(f.hf_key), s);
      } catch (const Json::exception&) {
        throw std::invalid_argument(where + ": '" + f.hf_key + "' must be " +
                                    param_type_name(f.spec.type) + ", got " + hf.at(f.hf_key).dump());
      }
    }
    return s;
  }

  // Every key with its value, under the config's names.
  Json write(const S& s) const {
    Json j = Json::object();
    for (const auto& f : fields_) j[f.spec.key] = f.write(s);
    return j;
  }

  // The keys that have an hf_key, under HF's names (for config.json).
  Json write_hf(const S& s) const {
    Json j = Json::object();
    for (const auto& f : fields_)
      if (!f.hf_key.empty()) j[f.hf_key] = f.write(s);
    return j;
  }

 private:
  struct Field {
    ParamSpec spec;
    std::string hf_key;
    std::function<void(const Json&, S&)> read;
    std::function<Json(const S&)> write;
  };
  std::vector<Field> fields_;
};

}  // namespace imlsdk
