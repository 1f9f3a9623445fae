// Image signature verification in the webhook: one imageverify::ImageVerificationService per configuration
// snapshot, rebuilt when the configuration reloads, and its metrics in the webhook's Prometheus registry.
//
// Lifecycle: FileContextOptions::prepare is bound to ImageVerifiers::Prepare, so every snapshot is prepared BEFORE
// it is swapped in; a snapshot whose service cannot be built (unreadable key file, bad CA bundle, ...) is rejected
// and the previous snapshot with its service stays (at startup the error is a fatal configuration error). Handlers
// look the service up by the snapshot they evaluate against, so a request always uses the service built from the
// same configuration as its snapshot. All services share one VerificationCache: verdicts are keyed on the key-set
// and verifier fingerprints, so entries that are still valid survive a reload and stale ones are never found.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/imageverify/metrics.h"
#include "pipeguard/imageverify/service.h"
#include "pipeguard/policy/context.h"

namespace pipeguard::webhook {

// imageverify::MetricsSink over prometheus-cpp, registered in `registry` (the webhook's):
//   pipeguard_imageverify_verifications_total{result}
//   pipeguard_imageverify_verification_duration_seconds                       histogram
//   pipeguard_imageverify_cache_lookups_total{cache="verdict|tag", result="hit|miss|stale_hit"}
//   pipeguard_imageverify_shared_flights_total{what="verdict|tag"}
//   pipeguard_imageverify_registry_request_duration_seconds{registry, operation, code}   histogram
// Registry hosts come from image references in requests, so the `registry` label is bounded: after
// kMaxRegistryLabels distinct hosts, further hosts are reported as "other". Thread-safe, never throws.
class PrometheusImageMetrics final : public imageverify::MetricsSink {
 public:
  static constexpr size_t kMaxRegistryLabels = 64;

  explicit PrometheusImageMetrics(prometheus::Registry& registry);

  void OnVerification(std::string_view result, std::chrono::nanoseconds duration) override;
  void OnCacheLookup(imageverify::CacheKind cache, imageverify::CacheResult result) override;
  void OnSharedFlight(imageverify::CacheKind what) override;
  void OnRegistryCall(std::string_view registry, std::string_view operation, StatusCode code,
                      std::chrono::nanoseconds latency) override;

 private:
  prometheus::Family<prometheus::Counter>* verifications_;
  prometheus::Histogram* verification_duration_;
  prometheus::Family<prometheus::Counter>* cache_lookups_;
  prometheus::Family<prometheus::Counter>* shared_flights_;
  prometheus::Family<prometheus::Histogram>* registry_duration_;
  std::mutex hosts_mutex_;
  std::set<std::string, std::less<>> hosts_;
};

// The per-snapshot verification services.
class ImageVerifiers {
 public:
  // `base` is copied into every service: registry (tests inject one; null = the HTTP client built from
  // images.registries), metrics, clock, cache policy, verifier options. A null `base.cache` is replaced by one
  // cache shared by all services this object builds.
  explicit ImageVerifiers(imageverify::ServiceOptions base = {});
  ~ImageVerifiers();
  ImageVerifiers(const ImageVerifiers&) = delete;
  ImageVerifiers& operator=(const ImageVerifiers&) = delete;

  // Makes the service for `snapshot` available to For(). With images.verify off, no service (nothing to build).
  // When images.* equals the configuration of the newest prepared snapshot, that service is reused; otherwise a
  // new one is created. An error (the service's Create() error, naming the key, file or setting) means the
  // snapshot must not be used. Call from one thread at a time (the reloading thread).
  Status Prepare(const std::shared_ptr<const policy::ContextSnapshot>& snapshot);

  // The service prepared for `snapshot`; null when images.verify is off there or it was never prepared.
  // Thread-safe.
  std::shared_ptr<imageverify::ImageVerificationService> For(const policy::ContextSnapshot& snapshot) const;

  const std::shared_ptr<imageverify::VerificationCache>& cache() const { return base_.cache; }

 private:
  struct Entry {
    std::weak_ptr<const policy::ContextSnapshot> snapshot;
    std::shared_ptr<imageverify::ImageVerificationService> service;
  };

  imageverify::ServiceOptions base_;
  mutable std::mutex mutex_;
  // By snapshot address; an entry is pruned once its snapshot is gone (the weak_ptr guards against address reuse).
  std::map<const policy::ContextSnapshot*, Entry> entries_;
  // The newest successfully prepared configuration and its service (null when verify was off).
  std::shared_ptr<imageverify::ImageVerificationService> newest_;
};

// True when the two configurations build identical services (every images.* setting compared).
bool SameImagesConfig(const policy::ImagesConfig& a, const policy::ImagesConfig& b);

}  // namespace pipeguard::webhook
