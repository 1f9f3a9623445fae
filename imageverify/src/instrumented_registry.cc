#include "instrumented_registry.h"

#include <chrono>

namespace pipeguard::imageverify::internal {
namespace {

template <typename F>
auto Timed(MetricsSink& metrics, const registry::ImageReference& ref, std::string_view operation, F&& call) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  metrics.OnRegistryCall(ref.registry, operation, result.ok() ? StatusCode::kOk : result.status().code(),
                         std::chrono::steady_clock::now() - start);
  return result;
}

}  // namespace

StatusOr<std::string> InstrumentedRegistry::ResolveDigest(const registry::ImageReference& ref,
                                                          registry::Deadline deadline) {
  return Timed(*metrics_, ref, "resolve", [&] { return inner_->ResolveDigest(ref, deadline); });
}

StatusOr<registry::Manifest> InstrumentedRegistry::GetManifest(const registry::ImageReference& ref,
                                                               std::string_view tag_or_digest,
                                                               registry::Deadline deadline) {
  return Timed(*metrics_, ref, "manifest", [&] { return inner_->GetManifest(ref, tag_or_digest, deadline); });
}

StatusOr<std::string> InstrumentedRegistry::GetBlob(const registry::ImageReference& ref, std::string_view digest,
                                                    size_t max_bytes, registry::Deadline deadline) {
  return Timed(*metrics_, ref, "blob", [&] { return inner_->GetBlob(ref, digest, max_bytes, deadline); });
}

StatusOr<std::optional<std::string>> InstrumentedRegistry::GetReferrers(const registry::ImageReference& ref,
                                                                        std::string_view digest,
                                                                        registry::Deadline deadline) {
  return Timed(*metrics_, ref, "referrers", [&] { return inner_->GetReferrers(ref, digest, deadline); });
}

}  // namespace pipeguard::imageverify::internal
