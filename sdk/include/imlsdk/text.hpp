// Small text helpers.
#pragma once
#include <string>
#include <vector>

namespace imlsdk {

std::vector<std::string> split(const std::string& s, char sep);
std::string trim(const std::string& s);

}  // namespace imlsdk
