#include "imlsdk/plugin.hpp"

namespace imlsdk {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Dataset: return "dataset";
    case Kind::Tag: return "tag";
    case Kind::Model: return "model";
    case Kind::Optimizer: return "optimizer";
    case Kind::Analysis: return "analysis";
    case Kind::Task: return "task";
  }
  return "unknown";
}

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Bool: return "bool";
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::String: return "string";
    case ParamType::List: return "list";
    case ParamType::Map: return "map";
    case ParamType::Any: return "any";
  }
  return "unknown";
}

bool json_matches(const Json& v, ParamType t) {
  switch (t) {
    case ParamType::Bool: return v.is_boolean();
    case ParamType::Int: return v.is_number_integer();
    case ParamType::Float: return v.is_number();
    case ParamType::String: return v.is_string();
    case ParamType::List: return v.is_array();
    case ParamType::Map: return v.is_object();
    case ParamType::Any: return true;
  }
  return false;
}

}  // namespace imlsdk
