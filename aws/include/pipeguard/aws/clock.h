// Time and randomness, injected so retries and credential expiry are deterministic in tests (DESIGN.md
// guideline 8).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace pipeguard::aws {

// Wall-clock time (signatures and expirations are in UTC) and sleeping. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  virtual void SleepFor(std::chrono::milliseconds duration) const = 0;
};

// A uniform random source for backoff jitter. Implementations are thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // A uniformly distributed integer in [0, bound], bound >= 0.
  virtual std::int64_t UniformInclusive(std::int64_t bound) = 0;
};

// The process's clock; SleepFor really sleeps.
const Clock& SystemClock();

// std::mt19937_64 seeded from std::random_device, behind a mutex.
class SystemRandom : public RandomSource {
 public:
  SystemRandom();
  std::int64_t UniformInclusive(std::int64_t bound) override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace pipeguard::aws
