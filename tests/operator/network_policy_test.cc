#include "pipeguard/desired/network_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

api::ParsedProfile Parse(const json& spec_patch = json::object()) {
  auto p = api::ParseProfile(testing::ProfileWith(spec_patch));
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : api::ParsedProfile{};
}

// A resolver answering from the case's `services` table.
desired::ServiceResolver ResolverFor(const json& services) {
  return [services](const std::string& ns, const std::string& name) -> StatusOr<desired::ResolvedService> {
    const std::string key = ns + "/" + name;
    if (!services.contains(key)) return Status::NotFound("not found");
    desired::ResolvedService out;
    for (const auto& [k, v] : services[key]["selector"].items()) out.selector[k] = v.get<std::string>();
    for (const auto& p : services[key]["ports"]) {
      desired::ResolvedServicePort port;
      port.port = p["port"].get<int>();
      port.protocol = p["protocol"].get<std::string>();
      if (p["targetPort"].is_string()) {
        port.target_port = p["targetPort"].get<std::string>();
      } else {
        port.target_port = p["targetPort"].get<int>();
      }
      out.ports.push_back(port);
    }
    return out;
  };
}

TEST(DesiredNetworkPoliciesTable, ExactObjects) {
  for (const auto& c : testing::LoadCases("network_policies.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    guardrails::OperatorConfig config;
    config.sts_egress_cidrs = c.value("stsEgressCidrs", std::vector<std::string>{});
    const api::ParsedProfile profile = Parse(c["spec"]);
    auto allow = desired::DesiredAllowNetworkPolicy(profile, config, ResolverFor(c.value("services", json::object())));
    if (c.contains("error")) {
      ASSERT_FALSE(allow.ok());
      EXPECT_THAT(allow.status().message(), HasSubstr(c["error"].get<std::string>()));
      // The default deny never depends on lookups or configuration.
      EXPECT_TRUE(desired::DesiredDenyNetworkPolicy(profile).ok());
      continue;
    }
    ASSERT_TRUE(allow.ok()) << allow.status().message();
    const json& expect_allow = c["expectAllow"];
    if (expect_allow.contains("metadata")) {
      EXPECT_EQ(*allow, expect_allow) << allow->dump(2);
    } else {
      EXPECT_EQ((*allow)["spec"], expect_allow["spec"]) << (*allow)["spec"].dump(2);
    }
    if (c.contains("expectDeny")) {
      auto deny = desired::DesiredDenyNetworkPolicy(profile);
      ASSERT_TRUE(deny.ok());
      EXPECT_EQ(*deny, c["expectDeny"]) << deny->dump(2);
    }
    // What we build is a fixed point of the comparison.
    EXPECT_TRUE(desired::NetworkPolicySpecEquivalent((*allow)["spec"], (*allow)["spec"]));
  }
}

TEST(DesiredNetworkPolicies, NeedUid) {
  api::ParsedProfile profile = Parse();
  profile.uid.clear();
  EXPECT_EQ(desired::DesiredDenyNetworkPolicy(profile).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(desired::DesiredAllowNetworkPolicy(profile, guardrails::OperatorConfig{}, nullptr).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(NetworkPolicySpecEquivalentTable, OrderInsensitiveButExact) {
  for (const auto& c : testing::LoadCases("np_equivalence.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    EXPECT_EQ(desired::NetworkPolicySpecEquivalent(c["a"], c["b"]), c["equivalent"].get<bool>());
    EXPECT_EQ(desired::NetworkPolicySpecEquivalent(c["b"], c["a"]), c["equivalent"].get<bool>());
    EXPECT_TRUE(desired::NetworkPolicySpecEquivalent(c["a"], c["a"]));
  }
}

TEST(NetworkPolicyName, ShortenedWithHashWhenTooLong) {
  EXPECT_EQ(desired::NetworkPolicyName("etl", "deny"), "pipeguard-etl-deny");
  const std::string long_name = std::string(120, 'a') + "." + std::string(120, 'b') + ".c";
  const std::string name = desired::NetworkPolicyName(long_name, "allow");
  EXPECT_LE(name.size(), 253u);
  EXPECT_TRUE(name.ends_with("-allow"));
  EXPECT_NE(name, desired::NetworkPolicyName(long_name + "d", "allow"));
  EXPECT_EQ(name, desired::NetworkPolicyName(long_name, "allow"));
}

TEST(PlanNetworkPolicyUpdate, NoOpWhenEquivalentUpdateInPlaceOtherwise) {
  guardrails::OperatorConfig config;
  config.sts_egress_cidrs = {"10.0.8.0/24"};
  const api::ParsedProfile profile = Parse({{"aws", json::object()}});
  const json desired = desired::DesiredAllowNetworkPolicy(profile, config, nullptr).value();

  // As the API server returns it: extra metadata, defaults filled in, rules reordered.
  json observed = desired;
  observed["metadata"]["resourceVersion"] = "42";
  observed["metadata"]["uid"] = "np-uid";
  observed["metadata"]["labels"]["team"] = "data";
  std::reverse(observed["spec"]["egress"].begin(), observed["spec"]["egress"].end());
  EXPECT_EQ(desired::PlanNetworkPolicyUpdate(desired, observed), std::nullopt);

  // Tampered: a rule opening everything was added, and our label removed.
  json tampered = observed;
  tampered["spec"]["egress"].push_back({{"to", json::array({{{"ipBlock", {{"cidr", "0.0.0.0/0"}}}}})}});
  tampered["metadata"]["labels"].erase("pipeguard.io/profile-uid");
  auto update = desired::PlanNetworkPolicyUpdate(desired, tampered);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ((*update)["spec"], desired["spec"]);
  EXPECT_EQ((*update)["metadata"]["resourceVersion"], "42");  // optimistic concurrency: update, never recreate
  EXPECT_EQ((*update)["metadata"]["uid"], "np-uid");
  EXPECT_EQ((*update)["metadata"]["labels"]["team"], "data");
  EXPECT_EQ((*update)["metadata"]["labels"]["pipeguard.io/profile-uid"], profile.uid);
  EXPECT_EQ(desired::PlanNetworkPolicyUpdate(desired, *update), std::nullopt);  // converges in one step

  // Owner reference removed: restored, others kept.
  json orphaned = observed;
  orphaned["metadata"]["ownerReferences"] = json::array({{{"uid", "someone-else"}, {"kind", "X"}}});
  update = desired::PlanNetworkPolicyUpdate(desired, orphaned);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ((*update)["metadata"]["ownerReferences"].size(), 2u);
}

}  // namespace
}  // namespace pipeguard::reconcilers
