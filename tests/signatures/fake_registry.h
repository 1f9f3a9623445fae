// An in-process registry::Registry for verifier tests: content-addressed blobs and manifests, tags, an optional
// OCI 1.1 referrers API, call recording and fault injection. Not thread-safe (tests call it from one thread).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeguard/registry/registry.h"

namespace pipeguard::signatures::testing {

class FakeRegistry : public registry::Registry {
 public:
  // Stores a blob; returns its "sha256:<hex>" digest.
  std::string PutBlob(const std::string& bytes);
  // Stores a manifest under its digest and, if given, a tag; returns the digest.
  std::string PutManifest(const std::string& body, const std::string& tag = "",
                          const std::string& media_type = "application/vnd.oci.image.manifest.v1+json");
  // Stores a referrer manifest (one with a `subject`) the way cosign/go-containerregistry pushes it: by digest, and
  // when the referrers API is off, also appended to the "sha256-<hex>" fallback index with `descriptor_artifact_type`.
  std::string PushReferrer(const std::string& body, const std::string& subject_digest,
                           const std::string& descriptor_artifact_type);
  // Replaces the body stored for a digest without changing the digest (a registry serving corrupted content).
  void CorruptManifest(const std::string& digest, const std::string& body) { manifests_[digest].body = body; }

  void set_referrers_api(bool enabled) { referrers_api_ = enabled; }
  // Return blobs larger than max_bytes anyway (a registry client that ignores the limit).
  void set_ignore_max_bytes(bool ignore) { ignore_max_bytes_ = ignore; }
  // Called before every operation with (method, argument); a returned Status fails that call.
  void set_fault(std::function<std::optional<Status>(const std::string&, const std::string&)> fault) {
    fault_ = std::move(fault);
  }

  // "Method argument" for each call, in order.
  const std::vector<std::string>& calls() const { return calls_; }
  // max_bytes passed to each GetBlob call, in order.
  const std::vector<size_t>& blob_limits() const { return blob_limits_; }

  StatusOr<std::string> ResolveDigest(const registry::ImageReference& ref, registry::Deadline deadline) override;
  StatusOr<registry::Manifest> GetManifest(const registry::ImageReference& ref, std::string_view tag_or_digest,
                                           registry::Deadline deadline) override;
  StatusOr<std::string> GetBlob(const registry::ImageReference& ref, std::string_view digest, size_t max_bytes,
                                registry::Deadline deadline) override;
  StatusOr<std::optional<std::string>> GetReferrers(const registry::ImageReference& ref, std::string_view digest,
                                                    registry::Deadline deadline) override;

 private:
  std::optional<Status> Enter(const std::string& method, const std::string& argument);

  std::map<std::string, std::string> blobs_;
  std::map<std::string, registry::Manifest> manifests_;
  std::map<std::string, std::string> tags_;
  // subject digest -> referrer descriptors (JSON objects), in push order
  std::map<std::string, std::vector<std::string>> referrers_;
  bool referrers_api_ = true;
  bool ignore_max_bytes_ = false;
  std::function<std::optional<Status>(const std::string&, const std::string&)> fault_;
  std::vector<std::string> calls_;
  std::vector<size_t> blob_limits_;
};

}  // namespace pipeguard::signatures::testing
