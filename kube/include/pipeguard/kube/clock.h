// Time as an injected dependency (DESIGN.md guideline 8): leader election and token refresh read the time through
// a Clock so unit tests can drive them deterministically with a FakeClock.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace pipeguard::kube {

// Thread-safe. Now() is wall-clock time (Kubernetes stores wall-clock timestamps in Leases and Events).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The real clock; a process-wide instance that lives forever.
Clock& SystemClock();

// A manually advanced clock for tests. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)))
      : now_(start) {}
  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point now_;
};

// Kubernetes MicroTime ("2006-01-02T15:04:05.000000Z", always UTC), as Leases and Events use.
std::string FormatMicroTime(std::chrono::system_clock::time_point t);
// Parses RFC 3339 timestamps with or without a fraction, "Z" or a numeric offset. Returns false on bad input.
bool ParseTime(const std::string& text, std::chrono::system_clock::time_point* out);

}  // namespace pipeguard::kube
