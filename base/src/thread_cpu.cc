#include "pipeguard/base/thread_cpu.h"

#include <time.h>

namespace pipeguard::base {

std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::function<bool()> CpuBudgetExhausted(std::chrono::milliseconds budget,
                                         std::chrono::steady_clock::time_point deadline) {
  const std::chrono::nanoseconds until = ThreadCpuTime() + budget;
  return [until, deadline] {
    if (deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() >= deadline) {
      return true;
    }
    return ThreadCpuTime() >= until;
  };
}

}  // namespace pipeguard::base
