// The metrics the image verification service reports, as a small abstract sink: the webhook implements it with
// prometheus-cpp (suggested names below), the CLI uses the no-op sink, tests count.
//
// Suggested Prometheus mapping (DESIGN.md: pipeguard_<component>_<what>_<unit>):
//   OnVerification  -> pipeguard_imageverify_verifications_total{result} and
//                      pipeguard_imageverify_verification_duration_seconds (histogram)
//   OnCacheLookup   -> pipeguard_imageverify_cache_lookups_total{cache="verdict|tag", result="hit|miss|stale_hit"}
//   OnSharedFlight  -> pipeguard_imageverify_shared_flights_total{what="verdict|tag"}
//   OnRegistryCall  -> pipeguard_imageverify_registry_request_duration_seconds{registry, operation, code}
//
// Contract for implementations: every method is called concurrently from admission threads, must be thread-safe,
// must not block and must not throw. No argument ever contains a secret.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::imageverify {

enum class CacheKind { kVerdict, kTag };
enum class CacheResult {
  kHit,       // a fresh entry answered
  kMiss,      // no fresh entry: the registry was asked
  kStaleHit,  // the registry failed and an expired positive entry within the grace window answered
};

// "verdict" / "tag"; "hit" / "miss" / "stale_hit" (label values).
std::string_view CacheKindName(CacheKind kind);
std::string_view CacheResultName(CacheResult result);

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  // A verification that actually ran against the registry (one per singleflight group, never for cache hits).
  // `result` is signatures::ReasonId of the outcome ("verified", "no_signature", "registry_unreachable", ...).
  virtual void OnVerification(std::string_view result, std::chrono::nanoseconds duration) = 0;
  // One lookup in the verdict or tag cache.
  virtual void OnCacheLookup(CacheKind cache, CacheResult result) = 0;
  // A caller joined a verification (kVerdict) or tag resolution (kTag) that another admission had in flight.
  virtual void OnSharedFlight(CacheKind what) = 0;
  // One registry::Registry call. `registry` is the host[:port]; `operation` one of "resolve", "manifest", "blob",
  // "referrers"; `code` the call's StatusCode (kNotFound is a normal answer for signature discovery).
  virtual void OnRegistryCall(std::string_view registry, std::string_view operation, StatusCode code,
                              std::chrono::nanoseconds latency) = 0;
};

// Discards everything.
class NoopMetricsSink final : public MetricsSink {
 public:
  void OnVerification(std::string_view, std::chrono::nanoseconds) override {}
  void OnCacheLookup(CacheKind, CacheResult) override {}
  void OnSharedFlight(CacheKind) override {}
  void OnRegistryCall(std::string_view, std::string_view, StatusCode, std::chrono::nanoseconds) override {}
};

// Counts everything (tests, benchmarks, the CLI's diagnostics). Thread-safe.
class CountingMetricsSink final : public MetricsSink {
 public:
  void OnVerification(std::string_view result, std::chrono::nanoseconds duration) override;
  void OnCacheLookup(CacheKind cache, CacheResult result) override;
  void OnSharedFlight(CacheKind what) override;
  void OnRegistryCall(std::string_view registry, std::string_view operation, StatusCode code,
                      std::chrono::nanoseconds latency) override;

  // Verifications that ran, in total or with one result id.
  int verifications() const;
  int verifications(std::string_view result) const;
  int cache_lookups(CacheKind cache, CacheResult result) const;
  int shared_flights(CacheKind what) const;
  // Registry calls, in total or for one operation.
  int registry_calls() const;
  int registry_calls(std::string_view operation) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int, std::less<>> verifications_;
  std::map<std::string, int, std::less<>> registry_calls_;
  std::array<std::array<int, 3>, 2> cache_{};
  std::array<int, 2> shared_{};
};

}  // namespace pipeguard::imageverify
