#include "pipeguard/desired/service_account.h"

#include "owned_metadata.h"
#include "short_hash.h"

namespace pipeguard::desired {

using nlohmann::json;

std::string ProfileLabelValue(std::string_view profile_name) {
  if (profile_name.size() <= 63) return std::string(profile_name);
  std::string out(profile_name.substr(0, 50));
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();  // end alphanumeric before '-'
  out.append("-").append(internal::ShortHash(profile_name));
  return out;
}

json OwnedLabels(const api::ParsedProfile& profile) {
  return {{std::string(kManagedByLabel), std::string(kManagedByValue)},
          {std::string(kProfileLabel), ProfileLabelValue(profile.name)},
          {std::string(kProfileUidLabel), profile.uid}};
}

json ProfileOwnerReference(const api::ParsedProfile& profile) {
  return {{"apiVersion", std::string(api::kProfileApiVersion)},
          {"kind", std::string(api::kProfileKind)},
          {"name", profile.name},
          {"uid", profile.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

StatusOr<json> DesiredServiceAccount(const api::ParsedProfile& profile, const std::optional<std::string>& role_arn) {
  if (profile.uid.empty()) {
    return Status::FailedPrecondition("PipelineSecurityProfile " + profile.namespace_ + "/" + profile.name +
                                      " has no metadata.uid; desired objects are built only for profiles read from "
                                      "the API server");
  }
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata",
              {{"name", profile.service_account},
               {"namespace", profile.namespace_},
               {"labels", OwnedLabels(profile)},
               {"ownerReferences", json::array({ProfileOwnerReference(profile)})}}},
             {"automountServiceAccountToken", profile.automount_token}};
  if (role_arn) {
    sa["metadata"]["annotations"] = {{std::string(kRoleArnAnnotation), *role_arn},
                                     {std::string(kStsRegionalAnnotation), "true"}};
  }
  return sa;
}

namespace {

// Merges desired[section] (a string map) into observed[section]; true when something changed.
bool MergeStringMap(const json& desired, json& observed) {
  bool changed = false;
  if (!observed.is_object()) {
    observed = json::object();
  }
  for (const auto& [key, value] : desired.items()) {
    auto it = observed.find(key);
    if (it == observed.end() || *it != value) {
      observed[key] = value;
      changed = true;
    }
  }
  return changed;
}

// Adds desired's owner references that `observed` lacks (matched by uid); true when something changed.
bool MergeOwnerReferences(const json& desired, json& observed) {
  bool changed = false;
  if (!observed.is_array()) observed = json::array();
  for (const auto& ref : desired) {
    bool found = false;
    for (auto& existing : observed) {
      if (existing.value("uid", "") == ref.value("uid", "")) {
        found = true;
        if (existing != ref) {
          existing = ref;
          changed = true;
        }
      }
    }
    if (!found) {
      observed.push_back(ref);
      changed = true;
    }
  }
  return changed;
}

}  // namespace

bool internal::MergeOwnedMetadata(const json& desired, json& updated) {
  bool changed = false;
  json& meta = updated["metadata"];
  const json& want = desired.at("metadata");
  if (auto it = want.find("labels"); it != want.end()) changed |= MergeStringMap(*it, meta["labels"]);
  if (auto it = want.find("ownerReferences"); it != want.end()) {
    changed |= MergeOwnerReferences(*it, meta["ownerReferences"]);
  }
  return changed;
}

std::optional<json> PlanServiceAccountUpdate(const json& desired, const json& observed) {
  json updated = observed;
  bool changed = internal::MergeOwnedMetadata(desired, updated);
  const json& want = desired.at("metadata");
  const json no_annotations = json::object();
  const json& want_annotations = want.contains("annotations") ? want["annotations"] : no_annotations;
  if (!want_annotations.empty()) changed |= MergeStringMap(want_annotations, updated["metadata"]["annotations"]);
  // Our annotations that the desired object lacks (the profile no longer has spec.aws) are removed.
  json& annotations = updated["metadata"]["annotations"];
  for (const std::string& key : {std::string(kRoleArnAnnotation), std::string(kStsRegionalAnnotation)}) {
    if (!want_annotations.contains(key) && annotations.is_object() && annotations.contains(key)) {
      annotations.erase(key);
      changed = true;
    }
  }
  if (annotations.is_null() || (annotations.is_object() && annotations.empty() &&
                                !(observed.contains("metadata") && observed["metadata"].contains("annotations")))) {
    updated["metadata"].erase("annotations");
  }
  const json& automount = desired.at("automountServiceAccountToken");
  if (!observed.contains("automountServiceAccountToken") || observed["automountServiceAccountToken"] != automount) {
    updated["automountServiceAccountToken"] = automount;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return updated;
}

}  // namespace pipeguard::desired
