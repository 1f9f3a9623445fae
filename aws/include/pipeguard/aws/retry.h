// Retry policy for AWS calls: full-jitter exponential backoff, bounded by attempts and by a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeguard/aws/clock.h"
#include "pipeguard/aws/error.h"

namespace pipeguard::aws {

struct RetryPolicy {
  int max_attempts = 6;                               // including the first; 1 disables retries
  std::chrono::milliseconds base_delay{200};          // backoff cap for the first retry
  std::chrono::milliseconds max_delay{20'000};        // backoff cap never exceeds this
  std::chrono::milliseconds deadline{60'000};         // total time for all attempts and sleeps
  std::chrono::milliseconds attempt_timeout{10'000};  // per HTTP round trip (clipped to what is left)
  // AWS error codes retried besides HTTP 5xx, HTTP 429 and connection errors.
  std::vector<std::string> retryable_codes = {"Throttling",
                                              "ThrottlingException",
                                              "RequestLimitExceeded",
                                              "TooManyRequestsException",
                                              "RequestThrottled",
                                              "ServiceUnavailable",
                                              "ServiceFailure",
                                              "InternalFailure",
                                              "ConcurrentModification",
                                              "IDPCommunicationError",
                                              "PriorRequestNotComplete"};
};

// True when `error` is worth retrying under `policy`: connection errors, HTTP 5xx or 429, or a code in
// policy.retryable_codes.
bool IsRetryable(const AwsError& error, const RetryPolicy& policy);

// The full-jitter delay before retry number `retry` (1 for the first retry): uniform in
// [0, min(max_delay, base_delay * 2^(retry-1))], drawn from `random`.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, RandomSource& random);

}  // namespace pipeguard::aws
