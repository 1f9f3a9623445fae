#include "pipeguard/imageverify/metrics.h"

namespace pipeguard::imageverify {

std::string_view CacheKindName(CacheKind kind) { return kind == CacheKind::kVerdict ? "verdict" : "tag"; }

std::string_view CacheResultName(CacheResult result) {
  switch (result) {
    case CacheResult::kHit:
      return "hit";
    case CacheResult::kMiss:
      return "miss";
    case CacheResult::kStaleHit:
      return "stale_hit";
  }
  return "unknown";
}

void CountingMetricsSink::OnVerification(std::string_view result, std::chrono::nanoseconds) {
  std::lock_guard lock(mutex_);
  auto it = verifications_.find(result);
  if (it == verifications_.end()) it = verifications_.emplace(std::string(result), 0).first;
  ++it->second;
}

void CountingMetricsSink::OnCacheLookup(CacheKind cache, CacheResult result) {
  std::lock_guard lock(mutex_);
  ++cache_[static_cast<size_t>(cache)][static_cast<size_t>(result)];
}

void CountingMetricsSink::OnSharedFlight(CacheKind what) {
  std::lock_guard lock(mutex_);
  ++shared_[static_cast<size_t>(what)];
}

void CountingMetricsSink::OnRegistryCall(std::string_view, std::string_view operation, StatusCode,
                                         std::chrono::nanoseconds) {
  std::lock_guard lock(mutex_);
  auto it = registry_calls_.find(operation);
  if (it == registry_calls_.end()) it = registry_calls_.emplace(std::string(operation), 0).first;
  ++it->second;
}

int CountingMetricsSink::verifications() const {
  std::lock_guard lock(mutex_);
  int total = 0;
  for (const auto& [result, count] : verifications_) total += count;
  return total;
}

int CountingMetricsSink::verifications(std::string_view result) const {
  std::lock_guard lock(mutex_);
  auto it = verifications_.find(result);
  return it == verifications_.end() ? 0 : it->second;
}

int CountingMetricsSink::cache_lookups(CacheKind cache, CacheResult result) const {
  std::lock_guard lock(mutex_);
  return cache_[static_cast<size_t>(cache)][static_cast<size_t>(result)];
}

int CountingMetricsSink::shared_flights(CacheKind what) const {
  std::lock_guard lock(mutex_);
  return shared_[static_cast<size_t>(what)];
}

int CountingMetricsSink::registry_calls() const {
  std::lock_guard lock(mutex_);
  int total = 0;
  for (const auto& [operation, count] : registry_calls_) total += count;
  return total;
}

int CountingMetricsSink::registry_calls(std::string_view operation) const {
  std::lock_guard lock(mutex_);
  auto it = registry_calls_.find(operation);
  return it == registry_calls_.end() ? 0 : it->second;
}

}  // namespace pipeguard::imageverify
