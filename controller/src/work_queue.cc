#include "pipeguard/controller/work_queue.h"

#include <algorithm>
#include <cmath>

namespace pipeguard::controller {

WorkQueue::WorkQueue(const kube::Clock& clock, RateLimiterOptions options, std::chrono::milliseconds poll_interval)
    : clock_(clock),
      options_(options),
      poll_interval_(poll_interval),
      rng_(options.seed != 0 ? options.seed : std::random_device{}()) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key) != 0) return;
  dirty_.insert(key);
  if (processing_.count(key) != 0) return;  // re-queued by Done
  ready_.insert(key);
  order_.emplace(sequence_++, key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) {
    Add(key);
    return;
  }
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  const auto at = clock_.Now() + delay;
  auto it = delayed_at_.find(key);
  if (it != delayed_at_.end()) {
    if (it->second <= at) return;  // the earlier one wins
    for (auto d = delayed_.lower_bound(it->second); d != delayed_.end() && d->first == it->second; ++d) {
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
    }
  }
  delayed_at_[key] = at;
  delayed_.emplace(at, key);
  cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mu_);
    const int failures = failures_[key]++;
    const double base = static_cast<double>(options_.base_delay.count()) * std::pow(2.0, std::min(failures, 40));
    const double capped = std::min(base, static_cast<double>(options_.max_delay.count()));
    std::uniform_real_distribution<double> jitter(0.0, std::max(0.0, options_.jitter));
    const double jittered = std::min(capped * (1.0 + jitter(rng_)), static_cast<double>(options_.max_delay.count()));
    delay = std::chrono::milliseconds(static_cast<int64_t>(jittered));
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked() {
  const auto now = clock_.Now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_at_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::PopLocked() {
  if (order_.empty()) return std::nullopt;
  std::string key = order_.begin()->second;
  order_.erase(order_.begin());
  ready_.erase(key);
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked();
    if (auto key = PopLocked()) return key;
    cv_.wait_for(lock, poll_interval_);
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard lock(mu_);
  if (shutting_down_) return std::nullopt;
  PromoteDueLocked();
  return PopLocked();
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) != 0 && !shutting_down_) {
    ready_.insert(key);
    order_.emplace(sequence_++, key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

size_t WorkQueue::DelayedLen() const {
  std::lock_guard lock(mu_);
  return delayed_.size();
}

std::optional<std::chrono::system_clock::time_point> WorkQueue::NextDelayedAt() const {
  std::lock_guard lock(mu_);
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

}  // namespace pipeguard::controller
