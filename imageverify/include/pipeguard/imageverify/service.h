// ImageVerificationService: cosign signature verification (signatures::Verifier over a registry::Registry) made
// fast and fail-closed for the admission path, shared by the webhook (/validate, /mutate) and the CLI.
//
// Per request (VerifyAll):
//   - the effective deadline is min(caller's deadline, now + images.deadline) and reaches every registry call;
//   - every distinct image string is handled once; each tag is resolved to a digest once; distinct digests are
//     verified in parallel (at most ServiceOptions::max_parallel per request), identical ones once.
// Across requests:
//   - verdict cache keyed on every input to the decision: registry host, repository, digest, the trusted key set
//     fingerprint (all of images.keys, or the subset a profile's spec.images.trustedKeys selects: see KeyScope) and
//     the verifier options fingerprint (signatures::Verifier::fingerprint: predicate types, Rekor logs from
//     images.rekor, require_tlog, limits). The repository is part of the key because signatures live next to the image:
//     the same digest may be signed in one repository and not in another. A key or option change is a miss.
//   - attestations (images.attestations): when requirements are configured, an image is verified only if its
//     signature verifies AND its verified attestations satisfy them (signatures::Verifier::VerifyAttestations, with
//     the same keys and keyless rule); otherwise reason kAttestationsNotSatisfied with CheckAttestations' failure
//     lines. The requirements' fingerprint is part of the verdict key (and so of the singleflight key). A positive
//     verdict that depends on the clock (a vulnerability scan's age, an allow-list waiver's expiry) is cached, and
//     served stale, no later than the time it would change.
//   - TTLs: positive results `positive_ttl`; definitive negatives (no signature, invalid signature, untrusted key,
//     not an image signature, digest mismatch, keyless, malformed) the shorter `negative_ttl`, so a newly pushed
//     signature is picked up quickly; transient failures (registry unreachable, denied, timed out) are NEVER cached.
//   - singleflight: concurrent admissions of the same (repository, digest, keys, options) share one verification;
//     concurrent resolutions of the same tag share one registry call.
//   - tag -> digest cache with its own short TTL (`tag_ttl`, tags move). TOCTOU: a tag verified now may point at
//     another digest when the kubelet pulls it, cache or no cache. With images.pinDigests (the default), /mutate
//     rewrites the image to the verified `name@sha256:...`, so the kubelet pulls exactly what was verified and the
//     tag cache only decides WHICH digest gets verified and pinned; the race is closed. With pinDigests off (GitOps)
//     the race cannot be closed by the webhook, so the service does not widen it: tags are resolved on every
//     request (`tag_ttl_unpinned`, default 0 = no tag cache).
// Failure semantics (fail closed): on a registry outage or deadline the image is NOT verified, with a reason such
// as "registry unreachable (...)" or "timed out after 4s (...)". Exceptions, both bounded by `stale_grace`:
//   - a fresh cached verdict keeps serving without any registry call (that is what a cache is);
//   - DECISION: an expired POSITIVE verdict is served when the registry fails transiently and the entry expired less
//     than `stale_grace` ago (default 1 h). A signature over a digest cannot change; the only things that can
//     revoke a positive verdict are the key set or options (part of the key: never served stale) and deleting the
//     signature from the registry, which an outage hides anyway. This keeps already-running pipelines (Airflow
//     pods after a node scale-up, Spark executors) schedulable through a registry blip (admission-peers P5) while
//     bounding staleness. Negative and transient results are never served stale. Set stale_grace to 0 to disable.
//   - likewise, with pinDigests on, an expired tag -> digest entry within `stale_grace` is used when resolution
//     fails transiently (the pod is then pinned to that verified digest).
//
// Thread-safe: one instance serves all admission threads. The service never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/imageverify/cache.h"
#include "pipeguard/imageverify/metrics.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/registry/registry.h"
#include "pipeguard/signatures/trusted_keys.h"
#include "pipeguard/signatures/verifier.h"

namespace pipeguard::imageverify {

using Clock = std::function<TimePoint()>;

struct CachePolicy {
  std::chrono::milliseconds positive_ttl = std::chrono::minutes(15);
  std::chrono::milliseconds negative_ttl = std::chrono::seconds(30);  // must not exceed positive_ttl
  std::chrono::milliseconds tag_ttl = std::chrono::seconds(30);       // with images.pinDigests
  std::chrono::milliseconds tag_ttl_unpinned{0};                      // without images.pinDigests
  std::chrono::milliseconds stale_grace = std::chrono::hours(1);      // see the header comment; 0 disables
};

struct ServiceOptions {
  // The registry client. Null: an HttpRegistry built from images.registries (MakeHttpRegistry).
  std::shared_ptr<registry::Registry> registry;
  // Null: NoopMetricsSink.
  std::shared_ptr<MetricsSink> metrics;
  // TTLs and deadlines are judged with this clock (injected by tests). Null: steady_clock::now.
  Clock clock;
  // Null: a private cache. Pass the same cache to the service built after a configuration reload to keep the
  // entries that are still valid (their keys carry the fingerprints).
  std::shared_ptr<VerificationCache> cache;
  // Verifier options (predicate types, Rekor keys, limits). The clock field is overridden with `clock`.
  signatures::VerifierOptions verifier;
  // Wall-clock Unix seconds, for the age of vulnerability scans and waiver expiries (injected by tests). Null: the
  // system clock.
  std::function<std::int64_t()> unix_clock;
  CachePolicy cache_policy;
  // Distinct images verified concurrently per VerifyAll call (the calling thread is one of them). The registry
  // client additionally limits requests per registry host.
  int max_parallel = 4;
};

// Where a verdict came from.
enum class VerdictSource {
  kVerification,  // this call verified against the registry
  kShared,        // another admission's concurrent verification (singleflight)
  kCache,         // a fresh cached verdict
  kStaleCache,    // an expired positive verdict within the grace window, served because the registry failed
  kNotChecked,    // nothing was asked: the image reference is malformed
};
std::string_view VerdictSourceName(VerdictSource source);

// The outcome for one image string.
struct ImageOutcome {
  std::string image;             // as given
  policy::ImageVerdict verdict;  // what the engine consumes (verified, digest, reason)
  signatures::Reason reason = signatures::Reason::kNoSignature;
  std::string key_name;  // when verified
  signatures::SignatureFormat format = signatures::SignatureFormat::kNone;
  std::string signature_location;
  bool tlog_verified = false;  // the accepted signature has a verified Rekor entry (images.rekor)
  std::string attestations;    // with images.attestations: what the verified attestations showed (when verified)
  VerdictSource source = VerdictSource::kVerification;
  // One line for logs and the CLI: image, digest and why (or which key). No secrets.
  std::string message;
};

using ImageVerdicts = std::map<std::string, policy::ImageVerdict>;
using ImageOutcomes = std::map<std::string, ImageOutcome>;
// Verdicts by policy::KeyScope::Id(), then by image string.
using ScopedImageVerdicts = std::map<std::string, ImageVerdicts>;

class ImageVerificationService {
 public:
  // Loads the trusted keys (images.keys) and the Rekor log keys (images.rekor; file reads happen here: images.rekor
  // replaces options.verifier.rekor when configured, and images.rekor.required turns require_tlog on), builds the
  // verifier and, without an injected
  // registry, the HttpRegistry (CA and credentials files are read here). Errors (InvalidArgument / NotFound) name
  // the key, file or setting; they are configuration errors (CLI exit 2, webhook refuses to start/reload).
  static StatusOr<std::unique_ptr<ImageVerificationService>> Create(const policy::ImagesConfig& config,
                                                                    ServiceOptions options = {});
  ~ImageVerificationService();

  // Verifies every image (duplicates are handled once) and returns one entry per distinct image string. Never
  // fails as a whole: each image gets a verdict, failing closed on errors. `deadline` is capped at
  // now + images.deadline.
  //
  // `scope` selects the keys that may vouch (default: all of images.keys). A restricted scope naming a key this
  // configuration does not have, or no key, verifies nothing: every image gets reason untrusted key.
  ImageOutcomes VerifyAllDetailed(const std::vector<std::string>& images, registry::Deadline deadline,
                                  const policy::KeyScope& scope = {});
  ImageVerdicts VerifyAll(const std::vector<std::string>& images, registry::Deadline deadline,
                          const policy::KeyScope& scope = {});
  // Every (image, scope) of policy::Review::image_checks: one VerifyAllDetailed per distinct scope, all within
  // `deadline`. Keyed by KeyScope::Id(), then image.
  std::map<std::string, ImageOutcomes> VerifyChecksDetailed(const std::vector<policy::ImageCheck>& checks,
                                                            registry::Deadline deadline);
  ScopedImageVerdicts VerifyChecks(const std::vector<policy::ImageCheck>& checks, registry::Deadline deadline);
  // The images of policy::CollectImages(object), with the deadline now + images.deadline.
  ImageVerdicts VerifyAll(const std::vector<policy::ImageRef>& refs);
  ImageOutcome Verify(const std::string& image, registry::Deadline deadline, const policy::KeyScope& scope = {});

  // Hex fingerprint of the decision inputs fixed by this instance (all trusted keys + verifier options).
  const std::string& fingerprint() const { return fingerprint_; }
  const policy::ImagesConfig& config() const { return config_; }
  const signatures::TrustedKeySet& keys() const;
  // Drops every cached verdict and tag resolution (shared caches included).
  void ClearCache();

 private:
  class Impl;
  explicit ImageVerificationService(std::unique_ptr<Impl> impl, policy::ImagesConfig config, std::string fingerprint);

  std::unique_ptr<Impl> impl_;
  policy::ImagesConfig config_;
  std::string fingerprint_;
};

// The engine's lookup over VerifyChecks results (copied into the closure; safe to outlive `verdicts`).
policy::ImageVerdictLookup MakeLookup(ScopedImageVerdicts verdicts);
// The same over an unrestricted VerifyAll result: lookups with a restricted KeyScope find nothing (fail closed).
policy::ImageVerdictLookup MakeLookup(ImageVerdicts verdicts);

// The real registry client for `config.registries` (TLS, credentials, insecure hosts).
StatusOr<std::shared_ptr<registry::Registry>> MakeHttpRegistry(const policy::ImagesConfig& config);

}  // namespace pipeguard::imageverify
