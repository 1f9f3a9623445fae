#include "pipeguard/imageverify/cache.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>

namespace pipeguard::imageverify {
namespace {

// A bounded LRU map whose entries carry their own fresh/servable deadlines. Not thread-safe (the cache locks).
template <typename V>
class ExpiringLru {
 public:
  explicit ExpiringLru(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

  std::optional<VerificationCache::Hit<V>> Find(const std::string& key, TimePoint now) {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    Entry& entry = *it->second;
    if (now >= entry.servable_until) {
      order_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return VerificationCache::Hit<V>{entry.value, now < entry.fresh_until};
  }

  void Put(const std::string& key, V value, TimePoint fresh_until, TimePoint servable_until) {
    servable_until = std::max(servable_until, fresh_until);
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->value = std::move(value);
      it->second->fresh_until = fresh_until;
      it->second->servable_until = servable_until;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(Entry{key, std::move(value), fresh_until, servable_until});
    index_.emplace(key, order_.begin());
    while (order_.size() > capacity_) {
      index_.erase(order_.back().key);
      order_.pop_back();
    }
  }

  void Clear() {
    order_.clear();
    index_.clear();
  }
  size_t size() const { return order_.size(); }

 private:
  struct Entry {
    std::string key;
    V value;
    TimePoint fresh_until;
    TimePoint servable_until;
  };
  size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace

class VerificationCache::Impl {
 public:
  explicit Impl(Limits limits) : verdicts(limits.max_verdicts), tags(limits.max_tags) {}
  mutable std::mutex verdict_mutex;
  ExpiringLru<DigestVerdict> verdicts;
  mutable std::mutex tag_mutex;
  ExpiringLru<std::string> tags;
};

VerificationCache::VerificationCache(Limits limits) : impl_(std::make_unique<Impl>(limits)) {}
VerificationCache::~VerificationCache() = default;

std::optional<VerificationCache::Hit<DigestVerdict>> VerificationCache::FindVerdict(const std::string& key,
                                                                                    TimePoint now) {
  std::lock_guard lock(impl_->verdict_mutex);
  return impl_->verdicts.Find(key, now);
}

void VerificationCache::PutVerdict(const std::string& key, DigestVerdict verdict, TimePoint fresh_until,
                                   TimePoint servable_until) {
  std::lock_guard lock(impl_->verdict_mutex);
  impl_->verdicts.Put(key, std::move(verdict), fresh_until, servable_until);
}

std::optional<VerificationCache::Hit<std::string>> VerificationCache::FindTag(const std::string& key, TimePoint now) {
  std::lock_guard lock(impl_->tag_mutex);
  return impl_->tags.Find(key, now);
}

void VerificationCache::PutTag(const std::string& key, std::string digest, TimePoint fresh_until,
                               TimePoint servable_until) {
  std::lock_guard lock(impl_->tag_mutex);
  impl_->tags.Put(key, std::move(digest), fresh_until, servable_until);
}

void VerificationCache::Clear() {
  {
    std::lock_guard lock(impl_->verdict_mutex);
    impl_->verdicts.Clear();
  }
  std::lock_guard lock(impl_->tag_mutex);
  impl_->tags.Clear();
}

size_t VerificationCache::verdict_count() const {
  std::lock_guard lock(impl_->verdict_mutex);
  return impl_->verdicts.size();
}

size_t VerificationCache::tag_count() const {
  std::lock_guard lock(impl_->tag_mutex);
  return impl_->tags.size();
}

}  // namespace pipeguard::imageverify
