#include "pipeguard/aws/retry.h"

#include <algorithm>

namespace pipeguard::aws {

bool IsRetryable(const AwsError& error, const RetryPolicy& policy) {
  if (error.code == errc::kConnectionError) return true;
  if (error.http_status >= 500 || error.http_status == 429) return true;
  return std::find(policy.retryable_codes.begin(), policy.retryable_codes.end(), error.code) !=
         policy.retryable_codes.end();
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, RandomSource& random) {
  const std::int64_t base = std::max<std::int64_t>(0, policy.base_delay.count());
  const std::int64_t cap = std::max<std::int64_t>(0, policy.max_delay.count());
  std::int64_t ceiling = base;
  for (int i = 1; i < retry && ceiling < cap; ++i) ceiling *= 2;  // base * 2^(retry-1), stopping at the cap
  ceiling = std::min(ceiling, cap);
  return std::chrono::milliseconds(random.UniformInclusive(ceiling));
}

}  // namespace pipeguard::aws
