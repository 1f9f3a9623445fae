// The OCI distribution API as the signature verifier needs it (docs: ../shared/reference/cosign-signatures.md §7).
//
// `Registry` is the interface the signatures component depends on; `HttpRegistry` (registry/src) is the real
// client, tested against a real docker-registry on loopback; unit tests of the verifier use in-process fakes.
// Every body fetched by digest is verified against that digest before it is returned.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::registry {

using Deadline = std::chrono::steady_clock::time_point;

// A normalised image reference: "python:3.11" -> registry "index.docker.io", repository "library/python",
// tag "3.11". When a digest is present the tag is kept for display but ignored for resolution.
struct ImageReference {
  std::string registry;    // host[:port] as used for the API; Docker Hub is "index.docker.io"
  std::string repository;  // lowercase path, e.g. "library/python"
  std::string tag;         // "latest" when neither tag nor digest is given
  std::string digest;      // "sha256:<64 hex>" or empty

  // Parses a Kubernetes image string; errors say which part is malformed.
  static StatusOr<ImageReference> Parse(std::string_view image);
  // "registry/repository@digest" when a digest is known, else "registry/repository:tag".
  std::string String() const;
  // The same repository at `digest`.
  ImageReference WithDigest(std::string digest) const;
};

struct Manifest {
  std::string media_type;  // Content-Type without parameters (or the body's mediaType)
  std::string digest;      // sha256 of the raw body bytes
  std::string body;        // raw bytes exactly as served
};

// Size caps (defence against hostile registries).
struct RegistryLimits {
  size_t max_manifest_bytes = 4u << 20;
  size_t max_blob_bytes = 256u << 10;  // signature payloads and bundles are small
  int max_redirects = 5;
  int max_referrer_pages = 10;
};

// Thread-safe. Errors: NotFound (manifest/blob/tag absent), PermissionDenied (credentials refused),
// Unavailable (connection refused, 5xx, 429 after retries), DeadlineExceeded, InvalidArgument (a body that
// fails its digest, exceeds a limit or cannot be parsed).
class Registry {
 public:
  virtual ~Registry() = default;

  // The digest of ref: its own digest if it has one (not re-checked against the registry), else the digest the
  // registry reports for the tag, asking for index and manifest media types (OCI and Docker).
  virtual StatusOr<std::string> ResolveDigest(const ImageReference& ref, Deadline deadline) = 0;

  // The manifest at `tag_or_digest` in ref's repository. By digest, the body is verified against it.
  virtual StatusOr<Manifest> GetManifest(const ImageReference& ref, std::string_view tag_or_digest,
                                         Deadline deadline) = 0;

  // A blob by digest, verified, at most `max_bytes` (InvalidArgument beyond). Follows redirects itself,
  // without forwarding credentials to another host.
  virtual StatusOr<std::string> GetBlob(const ImageReference& ref, std::string_view digest, size_t max_bytes,
                                        Deadline deadline) = 0;

  // The OCI 1.1 referrers index of `digest` (all pages merged into one index JSON), or nullopt when the registry
  // has no referrers API (404), in which case callers use the "sha256-<hex>" fallback tag.
  virtual StatusOr<std::optional<std::string>> GetReferrers(const ImageReference& ref, std::string_view digest,
                                                            Deadline deadline) = 0;
};

}  // namespace pipeguard::registry
