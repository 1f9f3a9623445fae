// An in-memory IamApi for reconciler unit tests: roles with trust policy, boundary, tags, inline and attached
// policies; counts calls per action and writes; FailNext injects an AWS error into the next call of an action.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pipeguard/reconcilers/iam_api.h"

namespace pipeguard::reconcilers::testing {

class FakeIam final : public IamApi {
 public:
  struct StoredRole {
    aws::Role role;
    std::map<std::string, std::string> inline_policies;
    std::vector<aws::AttachedPolicy> attached;
  };

  // The next call of `action` fails with `code`.
  void FailNext(const std::string& action, const std::string& code) {
    std::lock_guard lock(mu_);
    failures_[action].push_back(code);
  }
  int Calls(const std::string& action) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(action);
    return it == calls_.end() ? 0 : it->second;
  }
  // Calls of mutating actions so far.
  int Writes() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [action, count] : calls_) {
      if (action.rfind("Get", 0) != 0 && action.rfind("List", 0) != 0) n += count;
    }
    return n;
  }
  std::vector<std::string> Log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  void ClearLog() {
    std::lock_guard lock(mu_);
    log_.clear();
  }
  bool Has(const std::string& name) const {
    std::lock_guard lock(mu_);
    return roles_.count(name) != 0;
  }
  StoredRole& Stored(const std::string& name) { return roles_.at(name); }
  size_t RoleCount() const { return roles_.size(); }

  aws::AwsResult<aws::Role> CreateRole(const aws::CreateRoleRequest& r) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("CreateRole")) return *e;
    if (roles_.count(r.role_name) != 0) return Error(aws::errc::kEntityAlreadyExists, 409);
    StoredRole s;
    s.role.name = r.role_name;
    s.role.path = r.path;
    s.role.arn = "arn:aws:iam::123456789012:role" + r.path + r.role_name;
    s.role.assume_role_policy_document = r.assume_role_policy_document;
    s.role.permissions_boundary_arn = r.permissions_boundary_arn;
    s.role.tags = r.tags;
    s.role.max_session_duration = r.max_session_duration.value_or(3600);
    s.role.description = r.description;
    roles_[r.role_name] = s;
    return s.role;
  }
  aws::AwsResult<aws::Role> GetRole(std::string_view n) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("GetRole")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    return it->second.role;
  }
  aws::AwsResult<void> UpdateAssumeRolePolicy(std::string_view n, std::string_view d) override {
    return Mutate("UpdateAssumeRolePolicy", n, [&](StoredRole& s) { s.role.assume_role_policy_document = d; });
  }
  aws::AwsResult<void> UpdateRoleMaxSessionDuration(std::string_view n, int seconds) override {
    return Mutate("UpdateRole", n, [&](StoredRole& s) { s.role.max_session_duration = seconds; });
  }
  aws::AwsResult<void> PutRolePermissionsBoundary(std::string_view n, std::string_view b) override {
    return Mutate("PutRolePermissionsBoundary", n, [&](StoredRole& s) { s.role.permissions_boundary_arn = b; });
  }
  aws::AwsResult<void> DeleteRolePermissionsBoundary(std::string_view n) override {
    return Mutate("DeleteRolePermissionsBoundary", n, [&](StoredRole& s) { s.role.permissions_boundary_arn.clear(); });
  }
  aws::AwsResult<void> PutRolePolicy(std::string_view n, std::string_view p, std::string_view d) override {
    return Mutate("PutRolePolicy", n, [&](StoredRole& s) { s.inline_policies[std::string(p)] = d; });
  }
  aws::AwsResult<std::string> GetRolePolicy(std::string_view n, std::string_view p) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("GetRolePolicy")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    auto pit = it->second.inline_policies.find(std::string(p));
    if (pit == it->second.inline_policies.end()) return Error(aws::errc::kNoSuchEntity, 404);
    return pit->second;
  }
  aws::AwsResult<std::vector<std::string>> ListRolePolicies(std::string_view n) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("ListRolePolicies")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    std::vector<std::string> out;
    for (const auto& [k, v] : it->second.inline_policies) out.push_back(k);
    return out;
  }
  aws::AwsResult<void> DeleteRolePolicy(std::string_view n, std::string_view p) override {
    return Mutate("DeleteRolePolicy", n, [&](StoredRole& s) { s.inline_policies.erase(std::string(p)); });
  }
  aws::AwsResult<std::vector<aws::AttachedPolicy>> ListAttachedRolePolicies(std::string_view n) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("ListAttachedRolePolicies")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    return it->second.attached;
  }
  aws::AwsResult<void> DetachRolePolicy(std::string_view n, std::string_view a) override {
    return Mutate("DetachRolePolicy", n, [&](StoredRole& s) {
      std::erase_if(s.attached, [&](const aws::AttachedPolicy& p) { return p.arn == a; });
    });
  }
  aws::AwsResult<void> TagRole(std::string_view n, const std::vector<aws::Tag>& tags) override {
    return Mutate("TagRole", n, [&](StoredRole& s) {
      for (const auto& t : tags) {
        std::erase_if(s.role.tags, [&](const aws::Tag& o) { return o.key == t.key; });
        s.role.tags.push_back(t);
      }
    });
  }
  aws::AwsResult<void> UntagRole(std::string_view n, const std::vector<std::string>& keys) override {
    return Mutate("UntagRole", n, [&](StoredRole& s) {
      for (const auto& k : keys) std::erase_if(s.role.tags, [&](const aws::Tag& o) { return o.key == k; });
    });
  }
  aws::AwsResult<std::vector<aws::Tag>> ListRoleTags(std::string_view n) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("ListRoleTags")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    return it->second.role.tags;
  }
  aws::AwsResult<void> DeleteRole(std::string_view n) override {
    std::lock_guard lock(mu_);
    if (auto e = Begin("DeleteRole")) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    if (!it->second.inline_policies.empty() || !it->second.attached.empty()) {
      return Error(aws::errc::kDeleteConflict, 409);
    }
    roles_.erase(it);
    return {};
  }

  // Direct access for tests (tampering, seeding foreign roles). Not synchronised with calls in flight.
  std::map<std::string, StoredRole> roles_;

 private:
  static aws::AwsError Error(std::string_view code, int http) {
    aws::AwsError e;
    e.code = std::string(code);
    e.http_status = http;
    e.status_code = aws::ClassifyAwsErrorCode(code, http);
    e.message = "fake IAM: " + std::string(code);
    return e;
  }
  // Requires mu_.
  std::optional<aws::AwsError> Begin(const std::string& action) {
    ++calls_[action];
    log_.push_back(action);
    auto it = failures_.find(action);
    if (it != failures_.end() && !it->second.empty()) {
      std::string code = it->second.front();
      it->second.pop_front();
      return Error(code, code == aws::errc::kThrottling ? 400 : 409);
    }
    return std::nullopt;
  }
  template <typename F>
  aws::AwsResult<void> Mutate(const std::string& action, std::string_view n, F&& f) {
    std::lock_guard lock(mu_);
    if (auto e = Begin(action)) return *e;
    auto it = roles_.find(std::string(n));
    if (it == roles_.end()) return Error(aws::errc::kNoSuchEntity, 404);
    f(it->second);
    return {};
  }

  mutable std::mutex mu_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::deque<std::string>> failures_;
  std::vector<std::string> log_;
};

}  // namespace pipeguard::reconcilers::testing
