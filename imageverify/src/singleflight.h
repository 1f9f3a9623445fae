// Duplicate-call suppression: concurrent calls with the same key share one computation.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace pipeguard::imageverify::internal {

enum class FlightRole {
  kLeader,    // this call computed the value
  kFollower,  // another call's computation answered (or this call gave up waiting)
  kProbe,     // `probe` answered (the value appeared, e.g. in a cache, after the caller last looked)
};

template <typename T>
class SingleFlight {
 public:
  using Role = FlightRole;
  struct Outcome {
    std::optional<T> value;  // empty: a follower's `expired` turned true before the leader finished
    Role role = Role::kLeader;
  };

  // When no call with `key` is in flight: runs `probe` under the group lock (so a leader that publishes its value
  // before finishing cannot be missed) and returns its value if it has one, else runs `compute` in this thread as
  // the leader. Otherwise waits for the running call, polling `expired` at least every 20 ms, and gives up
  // (empty value) once it returns true. `compute` must publish its result (e.g. into a cache) before returning if
  // later callers are to find it via `probe`. An exception from `compute` propagates to the leader; followers then
  // get an empty value.
  // `on_join` (optional) is called when this call joins a running one, before it waits.
  Outcome Do(const std::string& key, const std::function<bool()>& expired,
             const std::function<std::optional<T>()>& probe, const std::function<T()>& compute,
             const std::function<void()>& on_join = {}) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard lock(mutex_);
      if (auto it = flights_.find(key); it != flights_.end()) {
        flight = it->second;
      } else {
        if (probe) {
          if (auto value = probe()) return Outcome{std::move(value), Role::kProbe};
        }
        flight = std::make_shared<Flight>();
        flights_.emplace(key, flight);
        leader = true;
      }
    }
    if (!leader) {
      if (on_join) on_join();
      return Wait(*flight, expired);
    }
    std::optional<T> value;
    try {
      value = compute();
    } catch (...) {
      Finish(key, flight, std::nullopt);
      throw;
    }
    Finish(key, flight, value);
    return Outcome{std::move(value), Role::kLeader};
  }

  // Calls currently in flight (for tests).
  size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return flights_.size();
  }

 private:
  struct Flight {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::optional<T> value;
  };

  Outcome Wait(Flight& flight, const std::function<bool()>& expired) {
    std::unique_lock lock(flight.mutex);
    while (!flight.done) {
      if (expired && expired()) return Outcome{std::nullopt, Role::kFollower};
      flight.done_cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    return Outcome{flight.value, Role::kFollower};
  }

  void Finish(const std::string& key, const std::shared_ptr<Flight>& flight, std::optional<T> value) {
    {
      std::lock_guard lock(mutex_);
      flights_.erase(key);
    }
    {
      std::lock_guard lock(flight->mutex);
      flight->value = std::move(value);
      flight->done = true;
    }
    flight->done_cv.notify_all();
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace pipeguard::imageverify::internal
