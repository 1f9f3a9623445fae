#include "pipeguard/audit/evaluate.h"

#include <set>
#include <string>
#include <string_view>

namespace pipeguard::audit {
namespace {

using nlohmann::json;

std::string StringAt(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The kind of the object's controller (the ownerReference with controller: true), or "" when it has none.
std::string ControllerKind(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto owners = metadata->find("ownerReferences");
  if (owners == metadata->end() || !owners->is_array()) return {};
  for (const json& owner : *owners) {
    if (owner.is_object() && owner.value("controller", false) == true) return StringAt(owner, "kind");
  }
  return {};
}

}  // namespace

bool JudgedThroughItsOwner(const json& object) {
  if (!object.is_object()) return false;
  const std::string kind = StringAt(object, "kind");
  const std::string owner = ControllerKind(object);
  if (owner.empty()) return false;
  static const std::set<std::string, std::less<>> kPodControllers = {"ReplicaSet", "Job", "Pod", "SparkApplication"};
  if (kind == "Pod") return kPodControllers.count(owner) > 0;
  if (kind == "Job") return owner == "CronJob";
  if (kind == "ReplicaSet") return owner == "Deployment";
  return false;
}

std::vector<report::EvaluatedObject> EvaluateStoredObjects(const std::vector<const json*>& objects,
                                                           const policy::ContextSnapshot& snapshot,
                                                           const policy::Engine& engine, const ImageVerdictsFor& images,
                                                           std::int64_t now_unix_seconds,
                                                           const policy::ConfigMapLookup& config_maps) {
  std::vector<report::EvaluatedObject> evaluated;
  evaluated.reserve(objects.size());
  for (const json* object : objects) {
    if (object == nullptr || JudgedThroughItsOwner(*object)) continue;
    const json& metadata = object->contains("metadata") ? (*object)["metadata"] : json::object();
    policy::RequestInfo request;
    request.operation = "CREATE";
    request.namespace_ = StringAt(metadata, "namespace");
    request.kind = StringAt(*object, "kind");
    request.now_unix_seconds = now_unix_seconds;
    const policy::Review review = policy::PrepareReview(*object, request, snapshot, config_maps);
    const policy::ImageVerdictLookup lookup = review.governed() && images ? images(review) : nullptr;
    evaluated.push_back({StringAt(*object, "apiVersion"), request.kind, request.namespace_, StringAt(metadata, "name"),
                         StringAt(metadata, "uid"), engine.Evaluate(review, lookup)});
  }
  return evaluated;
}

}  // namespace pipeguard::audit
