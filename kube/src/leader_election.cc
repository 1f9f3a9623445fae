#include "pipeguard/kube/leader_election.h"

#include <spdlog/spdlog.h>

#include <random>

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {

Status ValidateLeaderElectionConfig(const LeaderElectionConfig& c) {
  if (c.lease_namespace.empty() || c.lease_name.empty()) {
    return Status::InvalidArgument("leader election: lease_namespace and lease_name are required");
  }
  if (c.identity.empty()) return Status::InvalidArgument("leader election: identity is required (e.g. the pod name)");
  if (c.lease_duration.count() < 1) return Status::InvalidArgument("leader election: lease_duration must be >= 1s");
  if (c.renew_deadline >= c.lease_duration) {
    return Status::InvalidArgument("leader election: renew_deadline must be shorter than lease_duration");
  }
  if (c.retry_period.count() <= 0 || c.retry_period >= c.renew_deadline) {
    return Status::InvalidArgument("leader election: retry_period must be positive and shorter than renew_deadline");
  }
  return Status::Ok();
}

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config, const Clock& clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::Leader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

namespace {
std::string SpecString(const Json& lease, const char* key) {
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return "";
  auto it = spec->find(key);
  return it != spec->end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t SpecInt(const Json& lease, const char* key, int64_t fallback) {
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return fallback;
  auto it = spec->find(key);
  return it != spec->end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}
}  // namespace

void LeaderElector::ObserveRecord(const Json& lease, std::chrono::system_clock::time_point now) {
  const std::string holder = SpecString(lease, "holderIdentity");
  const std::string renew = SpecString(lease, "renewTime");
  bool holder_changed = false;
  {
    std::lock_guard lock(mu_);
    if (holder != observed_holder_ || renew != observed_renew_time_ || observed_at_.time_since_epoch().count() == 0) {
      holder_changed = holder != observed_holder_;
      observed_holder_ = holder;
      observed_renew_time_ = renew;
      observed_at_ = now;
    }
  }
  if (holder_changed && config_.on_new_leader) config_.on_new_leader(holder);
}

Json LeaderElector::LeaseObject(const Json* existing, bool acquire, std::chrono::system_clock::time_point now) const {
  Json lease = existing != nullptr
                   ? *existing
                   : Json{{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
                          {"spec", Json::object()}};
  Json& spec = lease["spec"];
  const std::string time = FormatMicroTime(now);
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = config_.lease_duration.count();
  spec["renewTime"] = time;
  if (acquire || existing == nullptr) {
    spec["acquireTime"] = time;
    spec["leaseTransitions"] = existing == nullptr ? 0 : SpecInt(*existing, "leaseTransitions", 0) + 1;
  }
  return lease;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now = clock_.Now();
  auto current = client_.Get(resources::Leases(), config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    if (!IsNotFound(current.status())) {
      spdlog::warn("kube: leader election: reading lease {}/{} failed: {}", config_.lease_namespace, config_.lease_name,
                   current.status().message());
      return false;
    }
    auto created = client_.Create(resources::Leases(), config_.lease_namespace, LeaseObject(nullptr, true, now));
    if (!created.ok()) return false;  // AlreadyExists: someone else was faster
    ObserveRecord(*created, now);
    return true;
  }
  ObserveRecord(*current, now);
  const std::string holder = SpecString(*current, "holderIdentity");
  if (!holder.empty() && holder != config_.identity) {
    const auto duration =
        std::chrono::seconds(SpecInt(*current, "leaseDurationSeconds", config_.lease_duration.count()));
    std::chrono::system_clock::time_point observed_at;
    {
      std::lock_guard lock(mu_);
      observed_at = observed_at_;
    }
    if (observed_at + duration > now) return false;  // held by another candidate that renews in time
  }
  const bool acquire = holder != config_.identity;
  auto updated = client_.Update(resources::Leases(), config_.lease_namespace, LeaseObject(&*current, acquire, now));
  if (!updated.ok()) {
    if (!IsConflict(updated.status())) {
      spdlog::warn("kube: leader election: updating lease {}/{} failed: {}", config_.lease_namespace,
                   config_.lease_name, updated.status().message());
    }
    return false;
  }
  ObserveRecord(*updated, now);
  return true;
}

std::chrono::milliseconds LeaderElector::Step() {
  const auto now = clock_.Now();
  const bool held = TryAcquireOrRenew();
  if (!leading_.load()) {
    if (held) {
      {
        std::lock_guard lock(mu_);
        last_renewed_ = now;
      }
      leading_.store(true);
      spdlog::info("kube: leader election: {} became the leader on lease {}/{}", config_.identity,
                   config_.lease_namespace, config_.lease_name);
      if (config_.on_started_leading) config_.on_started_leading();
    }
    return config_.retry_period;
  }
  bool lost = false;
  {
    std::lock_guard lock(mu_);
    if (held) {
      last_renewed_ = now;
    } else {
      // Someone else holds a valid lease now, or we could not renew within the deadline.
      lost = (!observed_holder_.empty() && observed_holder_ != config_.identity) ||
             now - last_renewed_ >= config_.renew_deadline;
    }
  }
  if (lost) {
    leading_.store(false);
    spdlog::warn("kube: leader election: {} lost the lease {}/{}", config_.identity, config_.lease_namespace,
                 config_.lease_name);
    if (config_.on_stopped_leading) config_.on_stopped_leading();
  }
  return config_.retry_period;
}

Status LeaderElector::Release() {
  auto current = client_.Get(resources::Leases(), config_.lease_namespace, config_.lease_name);
  if (!current.ok()) return IsNotFound(current.status()) ? Status::Ok() : current.status();
  if (SpecString(*current, "holderIdentity") != config_.identity) return Status::Ok();
  Json lease = *current;
  const std::string time = FormatMicroTime(clock_.Now());
  lease["spec"].erase("holderIdentity");
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = time;
  lease["spec"]["acquireTime"] = time;
  auto updated = client_.Update(resources::Leases(), config_.lease_namespace, lease);
  if (!updated.ok()) return updated.status();
  ObserveRecord(*updated, clock_.Now());
  return Status::Ok();
}

void LeaderElector::Start() {
  std::lock_guard lock(run_mu_);
  if (thread_.joinable() || stopped_) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mt19937_64 rng(std::random_device{}());
    while (!stop.stop_requested()) {
      auto wait = Step();
      if (!leading_.load()) {  // candidates spread their attempts (client-go's JitterUntil factor 1.2)
        std::uniform_int_distribution<int64_t> jitter(0, wait.count() / 5);
        wait += std::chrono::milliseconds(jitter(rng));
      }
      std::unique_lock wait_lock(run_mu_);
      run_cv_.wait_for(wait_lock, stop, wait, [] { return false; });
    }
  });
}

void LeaderElector::Stop() {
  {
    std::unique_lock lock(run_mu_);
    if (stopped_) return;
    stopped_ = true;
    if (thread_.joinable()) {
      thread_.request_stop();
      run_cv_.notify_all();
      lock.unlock();
      thread_.join();
    }
  }
  if (leading_.load()) {
    if (config_.release_on_stop) {
      if (Status s = Release(); !s.ok()) {
        spdlog::warn("kube: leader election: releasing lease {}/{} failed: {}", config_.lease_namespace,
                     config_.lease_name, s.message());
      }
    }
    leading_.store(false);
    if (config_.on_stopped_leading) config_.on_stopped_leading();
  }
}

}  // namespace pipeguard::kube
