// Lease-based leader election (coordination.k8s.io/v1 Lease), modelled on client-go's leaderelection.
//
// A candidate acquires the Lease when it does not exist, is held by nobody (holderIdentity empty, i.e. released),
// or its holder has not renewed it for leaseDurationSeconds as measured on this candidate's clock since it last saw
// the record change (no cross-machine clock comparison). The leader renews every retry_period; if it cannot renew
// for renew_deadline it stops leading. Every write is an update with the Lease's resourceVersion, so two candidates
// can never both win (the loser gets Conflict). On Stop() a leader releases the Lease (holderIdentity "") so a
// successor takes over at once.
//
// Threading: Start() runs the loop on an internal thread (real time); Step() is the loop's body, exposed so tests
// can drive elections deterministically with a FakeClock and no thread. Callbacks run on the thread that calls
// Step() (the internal thread after Start()) and must not call Stop(). IsLeader()/Leader() are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "pipeguard/kube/client.h"

namespace pipeguard::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per candidate, e.g. the pod name
  std::chrono::seconds lease_duration{15};
  std::chrono::milliseconds renew_deadline{10'000};  // < lease_duration
  std::chrono::milliseconds retry_period{2'000};     // < renew_deadline
  bool release_on_stop = true;
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& holder)> on_new_leader;  // the observed holder changed ("" = none)
};

// Checks the durations and names; errors say which field is wrong.
Status ValidateLeaderElectionConfig(const LeaderElectionConfig& config);

class LeaderElector {
 public:
  // `client` and `clock` must outlive the elector. The config must be valid (ValidateLeaderElectionConfig).
  LeaderElector(KubeClient& client, LeaderElectionConfig config, const Clock& clock = SystemClock());
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops the loop, releases the lease if leading (and release_on_stop), calls on_stopped_leading if it was
  // leading. Idempotent.
  void Stop();

  // One round: try to acquire (or renew, when leading); updates leadership and fires callbacks. Returns how long to
  // wait before the next round (retry_period).
  std::chrono::milliseconds Step();
  // One acquire-or-renew attempt without the leadership bookkeeping: true when this candidate holds the Lease now.
  bool TryAcquireOrRenew();
  // Gives the lease up if this candidate holds it. OK when not held.
  Status Release();

  bool IsLeader() const { return leading_.load(); }
  std::string Leader() const;  // the last observed holder ("" = none known)
  const LeaderElectionConfig& config() const { return config_; }

 private:
  Json LeaseObject(const Json* existing, bool acquire, std::chrono::system_clock::time_point now) const;
  void ObserveRecord(const Json& lease, std::chrono::system_clock::time_point now);

  KubeClient& client_;
  const LeaderElectionConfig config_;
  const Clock& clock_;

  std::atomic<bool> leading_{false};
  mutable std::mutex mu_;  // guards the observed_* fields
  std::string observed_holder_;
  std::string observed_renew_time_;
  std::chrono::system_clock::time_point observed_at_{};
  std::chrono::system_clock::time_point last_renewed_{};

  std::mutex run_mu_;
  std::condition_variable_any run_cv_;
  std::jthread thread_;
  bool stopped_ = false;
};

}  // namespace pipeguard::kube
