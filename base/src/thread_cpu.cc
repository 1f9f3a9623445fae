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
  const std::chrono::steady_clock::time_point wall_start = std::chrono::steady_clock::now();
  const std::chrono::nanoseconds cpu_start = ThreadCpuTime();
  return [budget, deadline, wall_start, cpu_start] {
    const std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
    if (deadline != std::chrono::steady_clock::time_point{} && now >= deadline) return true;
    // A thread cannot have used more CPU than the wall time since the start, so its CPU clock (a system call, ten
    // times the cost of the steady clock's vDSO read) is read only once that much wall time has passed.
    if (now - wall_start < budget) return false;
    return ThreadCpuTime() - cpu_start >= budget;
  };
}

}  // namespace pipeguard::base
