// The calling thread's CPU time, and a budget on it (for policy::WorkBudget: an evaluation runs on one thread).
#pragma once

#include <chrono>
#include <functional>

namespace pipeguard::base {

// CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
std::chrono::nanoseconds ThreadCpuTime();

// A predicate that is true once the CALLING thread has used more than `budget` of CPU since this call, or, when
// `deadline` is set (not the epoch), once the steady clock passes it. Must be called on the thread that created it
// (the CPU clock is per thread). Cheap: a steady-clock read per call, and the CPU clock's only once the budget's
// worth of wall time has passed.
std::function<bool()> CpuBudgetExhausted(std::chrono::milliseconds budget,
                                         std::chrono::steady_clock::time_point deadline = {});

}  // namespace pipeguard::base
