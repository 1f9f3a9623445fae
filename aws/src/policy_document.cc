#include "pipeguard/aws/policy_document.h"

#include <algorithm>

namespace pipeguard::aws {
namespace {

using nlohmann::json;

// A string or a list of values -> sorted, de-duplicated; one element -> that element alone.
json NormalizeSet(const json& v) {
  if (!v.is_array()) return v;
  std::vector<json> items(v.begin(), v.end());
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  if (items.size() == 1) return items.front();
  return json(items);
}

Status NormalizeStatement(json& statement, std::size_t index) {
  if (!statement.is_object()) {
    return Status::InvalidArgument("policy document: Statement[" + std::to_string(index) +
                                   "] is not an object; each statement must be a JSON object");
  }
  for (const char* key : {"Action", "NotAction", "Resource", "NotResource"}) {
    if (auto it = statement.find(key); it != statement.end()) *it = NormalizeSet(*it);
  }
  for (const char* key : {"Principal", "NotPrincipal"}) {
    auto it = statement.find(key);
    if (it == statement.end() || !it->is_object()) continue;  // "*" stays as it is
    for (auto& [type, value] : it->items()) value = NormalizeSet(value);
  }
  if (auto it = statement.find("Condition"); it != statement.end() && it->is_object()) {
    for (auto& [op, keys] : it->items()) {
      if (!keys.is_object()) continue;
      for (auto& [key, value] : keys.items()) value = NormalizeSet(value);
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<json> CanonicalPolicy(std::string_view document) {
  json doc;
  try {
    doc = json::parse(document);
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument("policy document is not valid JSON: " + std::string(e.what()));
  }
  if (!doc.is_object()) return Status::InvalidArgument("policy document must be a JSON object");
  if (auto it = doc.find("Statement"); it != doc.end()) {
    if (it->is_object()) *it = json::array({*it});
    if (!it->is_array()) {
      return Status::InvalidArgument("policy document: Statement must be an object or an array of objects");
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (Status s = NormalizeStatement((*it)[i], i); !s.ok()) return s;
    }
  }
  return doc;
}

StatusOr<std::string> CanonicalPolicyString(std::string_view document) {
  auto canonical = CanonicalPolicy(document);
  if (!canonical.ok()) return canonical.status();
  return canonical->dump();
}

bool PoliciesEquivalent(std::string_view a, std::string_view b) {
  auto ca = CanonicalPolicy(a);
  auto cb = CanonicalPolicy(b);
  return ca.ok() && cb.ok() && *ca == *cb;
}

}  // namespace pipeguard::aws
