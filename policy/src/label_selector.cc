#include "pipeguard/policy/label_selector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace pipeguard::policy {

using nlohmann::json;

Labels LabelsFromJson(const json& map) {
  Labels labels;
  if (!map.is_object()) return labels;
  for (const auto& [key, value] : map.items()) {
    if (value.is_string()) labels.emplace(key, value.get<std::string>());
  }
  return labels;
}

LabelSelector LabelSelector::MatchingLabel(std::string key, std::string value) {
  LabelSelector s;
  s.match_labels_.emplace(std::move(key), std::move(value));
  return s;
}

StatusOr<LabelSelector> LabelSelector::FromJson(const json& selector, const std::string& where) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) {
    return Status::InvalidArgument(where + " must be a label selector object with matchLabels/matchExpressions");
  }
  for (const auto& [key, value] : selector.items()) {
    if (key == "matchLabels") {
      if (!value.is_object()) return Status::InvalidArgument(where + ".matchLabels must be a map of strings");
      for (const auto& [label, label_value] : value.items()) {
        if (!label_value.is_string()) {
          return Status::InvalidArgument(where + ".matchLabels." + label +
                                         " must be a string (quote values such as \"True\" or \"1\")");
        }
        out.match_labels_.emplace(label, label_value.get<std::string>());
      }
    } else if (key == "matchExpressions") {
      if (!value.is_array()) return Status::InvalidArgument(where + ".matchExpressions must be a list");
      for (size_t i = 0; i < value.size(); ++i) {
        const json& e = value[i];
        const std::string at = where + ".matchExpressions[" + std::to_string(i) + "]";
        if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("operator") ||
            !e["operator"].is_string()) {
          return Status::InvalidArgument(at + " needs a string key and operator (In, NotIn, Exists, DoesNotExist)");
        }
        LabelRequirement r;
        r.key = e["key"].get<std::string>();
        const auto op = e["operator"].get<std::string>();
        if (op == "In") {
          r.op = LabelRequirement::Op::kIn;
        } else if (op == "NotIn") {
          r.op = LabelRequirement::Op::kNotIn;
        } else if (op == "Exists") {
          r.op = LabelRequirement::Op::kExists;
        } else if (op == "DoesNotExist") {
          r.op = LabelRequirement::Op::kDoesNotExist;
        } else {
          return Status::InvalidArgument(at + ".operator \"" + op + "\" is not one of In, NotIn, Exists, DoesNotExist");
        }
        if (e.contains("values")) {
          if (!e["values"].is_array()) return Status::InvalidArgument(at + ".values must be a list of strings");
          for (const auto& v : e["values"]) {
            if (!v.is_string()) return Status::InvalidArgument(at + ".values must be a list of strings");
            r.values.push_back(v.get<std::string>());
          }
        }
        const bool set_op = r.op == LabelRequirement::Op::kIn || r.op == LabelRequirement::Op::kNotIn;
        if (set_op && r.values.empty()) return Status::InvalidArgument(at + ": " + op + " needs non-empty values");
        if (!set_op && !r.values.empty()) return Status::InvalidArgument(at + ": " + op + " takes no values");
        out.requirements_.push_back(std::move(r));
      }
    } else {
      return Status::InvalidArgument(where + "." + key +
                                     " is not a label selector field (matchLabels, matchExpressions)");
    }
  }
  return out;
}

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& [key, value] : match_labels_) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    const bool present = it != labels.end();
    const auto in_values = [&] {
      return present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    };
    switch (r.op) {
      case LabelRequirement::Op::kIn:
        if (!in_values()) return false;
        break;
      case LabelRequirement::Op::kNotIn:
        if (in_values()) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!present) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (present) return false;
        break;
    }
  }
  return true;
}

}  // namespace pipeguard::policy
