// Which UPDATE requests need no evaluation: see UnevaluatedUpdateReason in engine.h.
#include <algorithm>
#include <array>

#include "pipeguard/policy/engine.h"

namespace pipeguard::policy {

using nlohmann::json;

namespace {

// metadata members no rule reads: bookkeeping of the API server, controllers and garbage collection.
constexpr std::array<std::string_view, 10> kUnreadMetadata = {"finalizers",        "managedFields",
                                                              "resourceVersion",   "generation",
                                                              "ownerReferences",   "uid",
                                                              "creationTimestamp", "deletionGracePeriodSeconds",
                                                              "selfLink",          "deletionTimestamp"};

// Annotations the rules read: pipeguard's own (break-glass and any later ones).
constexpr std::string_view kReadAnnotationPrefix = "pipeguard.io/";

const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// Absent and null are the same (Kubernetes reads null as unset).
bool Same(const json* a, const json* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return *a == *b;
}

// Whether the members of objects `a` and `b` that `counts(key)` selects are the same.
template <typename Counts>
bool SameMembers(const json& a, const json& b, Counts counts) {
  for (const auto& [key, value] : a.items()) {
    if (counts(key) && !Same(value.is_null() ? nullptr : &value, Member(b, key))) return false;
  }
  for (const auto& [key, value] : b.items()) {
    if (counts(key) && Member(a, key) == nullptr && !value.is_null()) return false;
  }
  return true;
}

bool SameAnnotationsRead(const json* a, const json* b) {
  // A malformed annotations member (not an object) is compared as it is.
  if ((a != nullptr && !a->is_object()) || (b != nullptr && !b->is_object())) return Same(a, b);
  static const json kNone = json::object();
  return SameMembers(a != nullptr ? *a : kNone, b != nullptr ? *b : kNone,
                     [](const std::string& key) { return key.rfind(kReadAnnotationPrefix, 0) == 0; });
}

bool SameMetadataRead(const json* a, const json* b) {
  if (a == nullptr || b == nullptr || !a->is_object() || !b->is_object()) return Same(a, b);
  if (!SameAnnotationsRead(Member(*a, "annotations"), Member(*b, "annotations"))) return false;
  return SameMembers(*a, *b, [](const std::string& key) {
    return key != "annotations" &&
           std::find(kUnreadMetadata.begin(), kUnreadMetadata.end(), key) == kUnreadMetadata.end();
  });
}

}  // namespace

std::optional<std::string> UnevaluatedUpdateReason(const json& old_object, const json& object) {
  if (!old_object.is_object() || !object.is_object()) return std::nullopt;
  const json* old_metadata = Member(old_object, "metadata");
  if (old_metadata != nullptr && Member(*old_metadata, "deletionTimestamp") != nullptr) {
    return "the object is being deleted (metadata.deletionTimestamp is set): its updates, such as removing a "
           "finalizer, are admitted without evaluation";
  }
  if (!SameMetadataRead(old_metadata, Member(object, "metadata"))) return std::nullopt;
  const bool same_rest =
      SameMembers(old_object, object, [](const std::string& key) { return key != "metadata" && key != "status"; });
  if (!same_rest) return std::nullopt;
  return "only metadata that no rule reads changed (finalizers, managedFields, resourceVersion, ownerReferences, "
         "status or annotations outside pipeguard.io/)";
}

}  // namespace pipeguard::policy
