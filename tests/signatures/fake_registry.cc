#include "fake_registry.h"

#include <nlohmann/json.hpp>

#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures::testing {

std::optional<Status> FakeRegistry::Enter(const std::string& method, const std::string& argument) {
  calls_.push_back(method + " " + argument);
  if (fault_) return fault_(method, argument);
  return std::nullopt;
}

std::string FakeRegistry::PutBlob(const std::string& bytes) {
  std::string digest = "sha256:" + Sha256Hex(bytes);
  blobs_[digest] = bytes;
  return digest;
}

std::string FakeRegistry::PutManifest(const std::string& body, const std::string& tag, const std::string& media_type) {
  std::string digest = "sha256:" + Sha256Hex(body);
  manifests_[digest] = registry::Manifest{media_type, digest, body};
  if (!tag.empty()) tags_[tag] = digest;
  return digest;
}

std::string FakeRegistry::PushReferrer(const std::string& body, const std::string& subject_digest,
                                       const std::string& descriptor_artifact_type) {
  std::string digest = PutManifest(body);
  nlohmann::json descriptor = {
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"size", body.size()}, {"digest", digest}};
  if (!descriptor_artifact_type.empty()) descriptor["artifactType"] = descriptor_artifact_type;
  referrers_[subject_digest].push_back(descriptor.dump());
  if (!referrers_api_) {
    // go-containerregistry's fallback: an OCI index at tag "sha256-<hex>" listing every referrer.
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
    index["manifests"] = nlohmann::json::array();
    for (const auto& item : referrers_[subject_digest]) index["manifests"].push_back(nlohmann::json::parse(item));
    PutManifest(index.dump(), "sha256-" + subject_digest.substr(7), "application/vnd.oci.image.index.v1+json");
  }
  return digest;
}

StatusOr<std::string> FakeRegistry::ResolveDigest(const registry::ImageReference& ref, registry::Deadline) {
  if (auto fault = Enter("ResolveDigest", ref.tag)) return *fault;
  if (!ref.digest.empty()) return ref.digest;
  auto it = tags_.find(ref.tag);
  if (it == tags_.end()) return Status::NotFound("manifest unknown: tag '" + ref.tag + "'");
  return it->second;
}

StatusOr<registry::Manifest> FakeRegistry::GetManifest(const registry::ImageReference&, std::string_view tag_or_digest,
                                                       registry::Deadline) {
  const std::string key(tag_or_digest);
  if (auto fault = Enter("GetManifest", key)) return *fault;
  std::string digest = key;
  if (auto tag = tags_.find(key); tag != tags_.end()) digest = tag->second;
  auto it = manifests_.find(digest);
  if (it == manifests_.end()) return Status::NotFound("manifest unknown: '" + key + "'");
  return it->second;
}

StatusOr<std::string> FakeRegistry::GetBlob(const registry::ImageReference&, std::string_view digest, size_t max_bytes,
                                            registry::Deadline) {
  const std::string key(digest);
  blob_limits_.push_back(max_bytes);
  if (auto fault = Enter("GetBlob", key)) return *fault;
  auto it = blobs_.find(key);
  if (it == blobs_.end()) return Status::NotFound("blob unknown: '" + key + "'");
  if (it->second.size() > max_bytes && !ignore_max_bytes_) {
    return Status::InvalidArgument("blob " + key + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return it->second;
}

StatusOr<std::optional<std::string>> FakeRegistry::GetReferrers(const registry::ImageReference&,
                                                                std::string_view digest, registry::Deadline) {
  const std::string key(digest);
  if (auto fault = Enter("GetReferrers", key)) return *fault;
  if (!referrers_api_) return std::optional<std::string>();
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
  index["manifests"] = nlohmann::json::array();
  for (const auto& item : referrers_[key]) index["manifests"].push_back(nlohmann::json::parse(item));
  return std::optional<std::string>(index.dump());
}

}  // namespace pipeguard::signatures::testing
