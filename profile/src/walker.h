// The profile grammar's walker and its parts (internal to pipeguard::profile): one function per part of the
// CRD, each reporting every problem it finds through the Walker and filling its part of the ParsedProfile.
#pragma once

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/policy/json_pointer.h"
#include "pipeguard/policy/label_selector.h"
#include "pipeguard/profile/profile.h"
#include "pipeguard/profile/text_checks.h"

namespace pipeguard::api::internal {

using nlohmann::json;
using policy::PointerChild;

// Collects problems while walking the profile; every accessor records a problem and returns false/nullopt on a
// wrong shape, so one pass reports everything.
class Walker {
 public:
  std::vector<GuardrailViolation> problems;

  void Problem(const std::string& path, std::string message) { problems.push_back({path, std::move(message)}); }

  // `object[key]` if present (and `object` is an object), else nullptr.
  static const json* Find(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  // object[key] if present, else nullptr after reporting it as required ("is required" + `hint`).
  const json* Required(const json& object, const std::string& path, const char* key, std::string_view hint = "") {
    const json* v = Find(object, key);
    if (v == nullptr) Problem(PointerChild(path, key), "is required" + std::string(hint));
    return v;
  }

  bool IsObject(const json& v, const std::string& path) {
    if (v.is_object()) return true;
    Problem(path, "must be an object");
    return false;
  }

  // Reports keys other than `allowed`. The API server prunes unknown fields silently; files given to the CLI do not
  // pass through it, so a misspelt field (e.g. "prefix") is reported instead of being ignored.
  void KnownKeys(const json& object, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!object.is_object()) return;
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string accepted;
        for (const char* a : allowed) accepted.append(accepted.empty() ? "" : ", ").append(a);
        Problem(PointerChild(path, key), "unknown field (accepted here: " + accepted + ")");
      }
    }
  }

  std::optional<std::string> String(const json& v, const std::string& path) {
    if (v.is_string()) return v.get<std::string>();
    Problem(path, "must be a string");
    return std::nullopt;
  }

  std::optional<bool> Bool(const json& v, const std::string& path) {
    if (v.is_boolean()) return v.get<bool>();
    Problem(path, "must be true or false");
    return std::nullopt;
  }

  std::optional<long long> Integer(const json& v, const std::string& path, long long min, long long max) {
    if (v.is_number_integer() && v.get<long long>() >= min && v.get<long long>() <= max) return v.get<long long>();
    Problem(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }

  // An array of at most max_items (and at least min_items); nullptr (and a problem) otherwise.
  const json* Array(const json& v, const std::string& path, size_t min_items, size_t max_items) {
    if (!v.is_array()) {
      Problem(path, "must be a list");
      return nullptr;
    }
    if (v.size() < min_items || v.size() > max_items) {
      Problem(path, "must have " + (min_items > 0 ? std::to_string(min_items) + " to " : std::string("at most ")) +
                        std::to_string(max_items) + " items (has " + std::to_string(v.size()) + ")");
      return nullptr;
    }
    return &v;
  }

  // Calls item_fn(item, item_path) for each item of the list object[key] (at most max_items), reporting a list of
  // the wrong shape.
  template <typename ItemFn>
  void ForEachItem(const json& object, const std::string& path, const char* key, size_t max_items, ItemFn item_fn) {
    const json* list = Find(object, key);
    if (list == nullptr) return;
    const std::string list_path = PointerChild(path, key);
    if (!Array(*list, list_path, 0, max_items)) return;
    for (size_t i = 0; i < list->size(); ++i) item_fn((*list)[i], PointerChild(list_path, i));
  }

  // ForEachItem for lists of objects: item_fn(item, item_path) for each object; other items are reported.
  template <typename ItemFn>
  void ForEachObject(const json& object, const std::string& path, const char* key, size_t max_items, ItemFn item_fn) {
    ForEachItem(object, path, key, max_items, [&](const json& item, const std::string& item_path) {
      if (IsObject(item, item_path)) item_fn(item, item_path);
    });
  }

  // ForEachItem for lists of strings: item_fn(text, item_path) for each string; other items are reported.
  template <typename ItemFn>
  void ForEachString(const json& object, const std::string& path, const char* key, size_t max_items, ItemFn item_fn) {
    ForEachItem(object, path, key, max_items, [&](const json& item, const std::string& item_path) {
      if (auto text = String(item, item_path)) item_fn(*text, item_path);
    });
  }

  template <typename Enum>
  std::optional<Enum> OneOf(const json& v, const std::string& path,
                            std::initializer_list<std::pair<const char*, Enum>> values) {
    std::string accepted;
    for (const auto& [name, value] : values) {
      if (v.is_string() && v.get<std::string>() == name) return value;
      accepted.append(accepted.empty() ? "" : ", ").append(name);
    }
    Problem(path, "must be one of " + accepted);
    return std::nullopt;
  }

  // object[key] as one of `values`; a missing field is reported as required, naming the values ("a, b or c").
  template <typename Enum>
  std::optional<Enum> RequiredOneOf(const json& object, const std::string& path, const char* key,
                                    std::initializer_list<std::pair<const char*, Enum>> values) {
    const std::string field = PointerChild(path, key);
    if (const json* v = Find(object, key)) return OneOf(*v, field, values);
    std::string names;
    size_t i = 0;
    for (const auto& [name, value] : values) {
      names.append(i == 0 ? "" : (i + 1 == values.size() ? " or " : ", ")).append(name);
      ++i;
    }
    Problem(field, "is required: " + names);
    return std::nullopt;
  }

  // A LabelSelector as the API accepts it; returns it as given when valid.
  std::optional<json> Selector(const json& v, const std::string& path) {
    if (!IsObject(v, path)) return std::nullopt;
    KnownKeys(v, path, {"matchLabels", "matchExpressions"});
    auto selector = policy::LabelSelector::FromJson(v, path);
    if (!selector.ok()) {
      Problem(path, selector.status().message());
      return std::nullopt;
    }
    bool ok = true;
    if (const json* labels = Find(v, "matchLabels"); labels && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (!IsLabelKey(key)) {
          Problem(PointerChild(PointerChild(path, "matchLabels"), key),
                  "is not a valid label key (an optional DNS prefix and '/', then 1..63 of [A-Za-z0-9._-])");
          ok = false;
        } else if (!value.is_string() || !IsLabelValue(value.get<std::string>())) {
          Problem(PointerChild(PointerChild(path, "matchLabels"), key),
                  "must be a label value: 0..63 of [A-Za-z0-9._-], starting and ending alphanumeric");
          ok = false;
        }
      }
    }
    if (!ok) return std::nullopt;
    return v;
  }

  static bool IsLabelValue(std::string_view s) {
    if (s.size() > 63) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      const bool alnum = std::isalnum(static_cast<unsigned char>(s[i])) != 0;
      if (!alnum && ((s[i] != '-' && s[i] != '_' && s[i] != '.') || i == 0 || i + 1 == s.size())) return false;
    }
    return true;
  }

  static bool IsLabelKey(std::string_view s) {
    const auto slash = s.find('/');
    if (slash != std::string_view::npos) {
      if (!IsDnsSubdomain(s.substr(0, slash))) return false;
      s.remove_prefix(slash + 1);
    }
    return !s.empty() && IsLabelValue(s);
  }
};

// spec.aws (aws_grants.cc) and spec.network (network.cc).
void ParseAws(Walker& w, const json& aws, const std::string& path, AwsSpec& out);
void ParseNetwork(Walker& w, const json& network, const std::string& path, NetworkSpec& out);

}  // namespace pipeguard::api::internal
