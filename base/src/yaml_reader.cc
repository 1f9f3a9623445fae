#include "pipeguard/base/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace pipeguard::base {
namespace {

// Milliseconds in `count` `unit`s, or nullopt when `unit` is not one of `units`.
std::optional<long long> DurationMilliseconds(const std::string& text, const std::map<std::string, long long>& units) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  const auto unit = units.find(text.substr(digits));
  if (unit == units.end()) return std::nullopt;
  return std::stoll(text.substr(0, digits)) * unit->second;
}

}  // namespace

Status YamlReader::Error(const YAML::Node& node, const std::string& key, const std::string& problem) const {
  std::string message = source_;
  const auto mark = node.Mark();
  if (mark.line >= 0) message.append(":").append(std::to_string(mark.line + 1));
  message.append(": ").append(key).append(": ").append(problem);
  return Status::InvalidArgument(std::move(message));
}

Status YamlReader::CheckKeys(const YAML::Node& map, const std::string& where,
                             const std::set<std::string>& allowed) const {
  if (!map.IsMap()) return Error(map, where.empty() ? "(top level)" : where, "must be a mapping");
  for (const auto& entry : map) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (!allowed.count(key)) {
      std::string accepted;
      for (const auto& name : allowed) accepted.append(accepted.empty() ? "" : ", ").append(name);
      return Error(entry.first, Join(where, key), "unknown setting (accepted here: " + accepted + ")");
    }
  }
  return Status::Ok();
}

Status YamlReader::Bool(const YAML::Node& node, const std::string& key, bool& out) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) return Error(node, key, "must be true or false");
  out = value;
  return Status::Ok();
}

Status YamlReader::String(const YAML::Node& node, const std::string& key, std::string& out) const {
  if (!node.IsScalar()) return Error(node, key, "must be a string");
  out = node.Scalar();
  return Status::Ok();
}

Status YamlReader::StringList(const YAML::Node& node, const std::string& key, std::vector<std::string>& out) const {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsSequence()) return Error(node, key, "must be a list of strings");
  std::vector<std::string> values;
  for (const auto& item : node) {
    if (!item.IsScalar()) return Error(item, key, "must be a list of strings");
    values.push_back(item.Scalar());
  }
  out = std::move(values);
  return Status::Ok();
}

Status YamlReader::Int(const YAML::Node& node, const std::string& key, int min, int max, int& out) const {
  const std::string problem = "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!node.IsScalar()) return Error(node, key, problem);
  const std::string& text = node.Scalar();
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(node, key, problem);
  }
  const int value = std::stoi(text);
  if (value < min || value > max) return Error(node, key, problem);
  out = value;
  return Status::Ok();
}

Status YamlReader::Duration(const YAML::Node& node, const std::string& key, std::chrono::milliseconds& out) const {
  static const std::map<std::string, long long> kUnits = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  const auto milliseconds = node.IsScalar() ? DurationMilliseconds(node.Scalar(), kUnits) : std::nullopt;
  if (!milliseconds) return Error(node, key, "must be a duration such as 500ms, 4s, 15m or 168h");
  out = std::chrono::milliseconds(*milliseconds);
  return Status::Ok();
}

Status YamlReader::Duration(const YAML::Node& node, const std::string& key, std::chrono::seconds& out) const {
  static const std::map<std::string, long long> kUnits = {{"s", 1000}, {"m", 60000}, {"h", 3600000}};
  const auto milliseconds = node.IsScalar() ? DurationMilliseconds(node.Scalar(), kUnits) : std::nullopt;
  if (!milliseconds) return Error(node, key, "must be a duration such as 90s, 15m or 10h");
  out = std::chrono::seconds(*milliseconds / 1000);
  return Status::Ok();
}

}  // namespace pipeguard::base
