#include "pipeguard/aws/clock.h"

#include <thread>

namespace pipeguard::aws {
namespace {

class RealClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now(); }
  void SleepFor(std::chrono::milliseconds duration) const override { std::this_thread::sleep_for(duration); }
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

SystemRandom::SystemRandom() : engine_(std::random_device{}()) {}

std::int64_t SystemRandom::UniformInclusive(std::int64_t bound) {
  if (bound <= 0) return 0;
  std::lock_guard lock(mu_);
  return std::uniform_int_distribution<std::int64_t>(0, bound)(engine_);
}

}  // namespace pipeguard::aws
