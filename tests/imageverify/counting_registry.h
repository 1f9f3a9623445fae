// Test support: a thread-safe, counting, fault-injecting registry::Registry in front of the signatures tests'
// in-process FakeRegistry (which holds artifacts made exactly as cosign makes them), and an injectable clock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "fake_registry.h"
#include "pipeguard/imageverify/service.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::imageverify::testing {

// A manually advanced clock. Thread-safe.
class FakeClock {
 public:
  TimePoint Now() const { return TimePoint(std::chrono::hours(1000)) + std::chrono::nanoseconds(offset_.load()); }
  void Advance(std::chrono::nanoseconds by) { offset_ += by.count(); }
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> offset_{0};
};

class CountingRegistry final : public registry::Registry {
 public:
  explicit CountingRegistry(signatures::testing::FakeRegistry& inner) : inner_(inner) {}

  // Every call fails with `status` while set (an outage); nullopt restores service.
  void SetOutage(std::optional<Status> status) {
    std::lock_guard lock(mutex_);
    outage_ = std::move(status);
  }
  // Called (outside the lock) at the start of every call, e.g. to advance the clock like a slow registry.
  void SetOnCall(std::function<void(const std::string& method)> hook) {
    std::lock_guard lock(mutex_);
    on_call_ = std::move(hook);
  }
  // While closed, GetReferrers (the first call of every verification) waits until Open().
  void CloseGate() {
    std::lock_guard lock(gate_mutex_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard lock(gate_mutex_);
      gate_open_ = true;
    }
    gate_cv_.notify_all();
  }
  // Callers currently waiting at the closed gate.
  int waiting_at_gate() const { return waiting_.load(); }

  int resolves() const { return resolves_.load(); }
  // GetReferrers is called exactly once per verification of a digest: the number of verifications.
  int verifications() const { return referrers_.load(); }
  int calls() const { return calls_.load(); }
  // The most verifications seen running at the same time.
  int max_concurrent_verifications() const { return max_concurrent_.load(); }
  // With a closed gate, GetReferrers waits for `n` concurrent verifications before passing (at most 10 s).
  void RequireConcurrentVerifications(int n) { required_concurrency_ = n; }

  StatusOr<std::string> ResolveDigest(const registry::ImageReference& ref, registry::Deadline deadline) override {
    ++resolves_;
    if (auto fault = Enter("ResolveDigest")) return *fault;
    std::lock_guard lock(mutex_);
    return inner_.ResolveDigest(ref, deadline);
  }
  StatusOr<registry::Manifest> GetManifest(const registry::ImageReference& ref, std::string_view tag_or_digest,
                                           registry::Deadline deadline) override {
    if (auto fault = Enter("GetManifest")) return *fault;
    std::lock_guard lock(mutex_);
    return inner_.GetManifest(ref, tag_or_digest, deadline);
  }
  StatusOr<std::string> GetBlob(const registry::ImageReference& ref, std::string_view digest, size_t max_bytes,
                                registry::Deadline deadline) override {
    if (auto fault = Enter("GetBlob")) return *fault;
    std::lock_guard lock(mutex_);
    return inner_.GetBlob(ref, digest, max_bytes, deadline);
  }
  StatusOr<std::optional<std::string>> GetReferrers(const registry::ImageReference& ref, std::string_view digest,
                                                    registry::Deadline deadline) override {
    ++referrers_;
    const int running = ++running_;
    for (int seen = max_concurrent_.load(); running > seen && !max_concurrent_.compare_exchange_weak(seen, running);) {
    }
    WaitAtGate();
    auto result = [&]() -> StatusOr<std::optional<std::string>> {
      if (auto fault = Enter("GetReferrers")) return *fault;
      std::lock_guard lock(mutex_);
      return inner_.GetReferrers(ref, digest, deadline);
    }();
    --running_;
    return result;
  }

 private:
  std::optional<Status> Enter(const std::string& method) {
    ++calls_;
    std::function<void(const std::string&)> hook;
    std::optional<Status> outage;
    {
      std::lock_guard lock(mutex_);
      hook = on_call_;
      outage = outage_;
    }
    if (hook) hook(method);
    return outage;
  }

  void WaitAtGate() {
    std::unique_lock lock(gate_mutex_);
    ++waiting_;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    gate_cv_.wait_until(lock, until, [&] {
      return gate_open_ || (required_concurrency_ > 0 && running_.load() >= required_concurrency_);
    });
    gate_cv_.notify_all();
    --waiting_;
  }

  signatures::testing::FakeRegistry& inner_;
  std::mutex mutex_;  // serialises the (not thread-safe) inner fake
  std::optional<Status> outage_;
  std::function<void(const std::string&)> on_call_;
  std::mutex gate_mutex_;
  std::condition_variable gate_cv_;
  bool gate_open_ = true;
  std::atomic<int> required_concurrency_{0};
  std::atomic<int> waiting_{0};
  std::atomic<int> running_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> resolves_{0};
  std::atomic<int> referrers_{0};
  std::atomic<int> calls_{0};
};

}  // namespace pipeguard::imageverify::testing
