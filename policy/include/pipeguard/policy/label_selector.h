// Kubernetes LabelSelector (metav1.LabelSelector) semantics: matchLabels AND every matchExpressions requirement.
// An empty selector matches every object, as in Kubernetes.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::policy {

using Labels = std::map<std::string, std::string, std::less<>>;

struct LabelRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;

  friend bool operator==(const LabelRequirement&, const LabelRequirement&) = default;
};

class LabelSelector {
 public:
  // Parses a metav1.LabelSelector. `where` names the field for error messages (e.g. "spec.podSelector").
  static StatusOr<LabelSelector> FromJson(const nlohmann::json& selector, const std::string& where);
  static LabelSelector MatchingLabel(std::string key, std::string value);

  bool Matches(const Labels& labels) const;
  bool empty() const { return match_labels_.empty() && requirements_.empty(); }

 private:
  Labels match_labels_;
  std::vector<LabelRequirement> requirements_;

  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

// Reads metadata.labels (or any string map) into Labels; non-string values are ignored.
Labels LabelsFromJson(const nlohmann::json& map);

}  // namespace pipeguard::policy
