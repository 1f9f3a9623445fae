// A registry::Registry decorator reporting every call's latency and status to a MetricsSink.
#pragma once

#include <memory>

#include "pipeguard/imageverify/metrics.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::imageverify::internal {

// Thread-safe when `inner` is. Owns neither pointer's lifetime beyond the shared ownership it holds.
class InstrumentedRegistry final : public registry::Registry {
 public:
  InstrumentedRegistry(std::shared_ptr<registry::Registry> inner, std::shared_ptr<MetricsSink> metrics)
      : inner_(std::move(inner)), metrics_(std::move(metrics)) {}

  StatusOr<std::string> ResolveDigest(const registry::ImageReference& ref, registry::Deadline deadline) override;
  StatusOr<registry::Manifest> GetManifest(const registry::ImageReference& ref, std::string_view tag_or_digest,
                                           registry::Deadline deadline) override;
  StatusOr<std::string> GetBlob(const registry::ImageReference& ref, std::string_view digest, size_t max_bytes,
                                registry::Deadline deadline) override;
  StatusOr<std::optional<std::string>> GetReferrers(const registry::ImageReference& ref, std::string_view digest,
                                                    registry::Deadline deadline) override;

 private:
  std::shared_ptr<registry::Registry> inner_;
  std::shared_ptr<MetricsSink> metrics_;
};

}  // namespace pipeguard::imageverify::internal
