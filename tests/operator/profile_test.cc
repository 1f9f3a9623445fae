#include "pipeguard/profile/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;

json Base() {
  const YAML::Node root = YAML::Load(testing::ReadDataFile("profiles.yaml"));
  return testing::YamlToJson(root["base"]);
}

// The base profile with the case's root, metadata and spec merge patches applied.
json CaseProfile(const json& c) {
  json profile = Base();
  if (c.contains("root")) profile.merge_patch(c["root"]);
  if (c.contains("metadata")) profile["metadata"].merge_patch(c["metadata"]);
  if (c.contains("spec")) profile["spec"].merge_patch(c["spec"]);
  return profile;
}

TEST(ParseProfileTable, EveryCase) {
  for (const auto& c : testing::LoadCases("profiles.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<api::GuardrailViolation> problems;
    auto parsed = api::ParseProfile(CaseProfile(c), &problems);
    if (c.value("ok", false)) {
      EXPECT_TRUE(parsed.ok()) << parsed.status().message();
      EXPECT_TRUE(problems.empty());
      continue;
    }
    ASSERT_FALSE(parsed.ok());
    const json& expected = c.at("problems");
    ASSERT_EQ(problems.size(), expected.size()) << api::JoinViolations(problems);
    for (size_t i = 0; i < problems.size(); ++i) {
      EXPECT_EQ(problems[i].path, expected[i][0].get<std::string>()) << problems[i].message;
      EXPECT_THAT(problems[i].message, ::testing::HasSubstr(expected[i][1].get<std::string>()));
    }
    // The Status message names every problem's path.
    for (const auto& p : problems) EXPECT_THAT(parsed.status().message(), ::testing::HasSubstr(p.path));
  }
}

TEST(ParseProfile, FullProfileValues) {
  json c;
  for (const auto& item : testing::LoadCases("profiles.yaml")) {
    if (item["name"] == "full profile") c = item;
  }
  auto parsed = api::ParseProfile(CaseProfile(c));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const api::ParsedProfile& p = *parsed;
  EXPECT_EQ(p.namespace_, "etl");
  EXPECT_EQ(p.name, "nightly-etl");
  EXPECT_EQ(p.uid, "6f1c2a4e-0000-4000-8000-000000000001");
  EXPECT_EQ(p.generation, 3);
  EXPECT_EQ(p.service_account, "spark-driver");
  EXPECT_TRUE(p.automount_token);
  EXPECT_EQ(p.mode, "enforce");
  ASSERT_TRUE(p.aws.has_value());
  ASSERT_EQ(p.aws->s3.size(), 2u);
  EXPECT_EQ(p.aws->s3[0].prefixes, (std::vector<std::string>{"events/", "logs/2024/"}));
  EXPECT_EQ(p.aws->s3[1].access, api::S3Access::kReadWrite);
  EXPECT_TRUE(p.aws->GrantsS3Writes());
  EXPECT_EQ(p.aws->kms[0].access, api::KmsAccess::kDecrypt);
  EXPECT_EQ(p.aws->kafka[0].consumer_groups, std::vector<std::string>{"etl-consumer"});
  EXPECT_EQ(p.aws->additional_statements[0].conditions["StringEquals"]["aws:RequestedRegion"], "eu-west-1");
  EXPECT_EQ(p.aws->max_session_duration_seconds, 7200);
  ASSERT_EQ(p.network.egress.size(), 4u);
  EXPECT_EQ(p.network.egress[0].kind, api::EgressRule::Kind::kCidr);
  EXPECT_EQ(p.network.egress[0].except, std::vector<std::string>{"10.20.5.0/24"});
  EXPECT_EQ(p.network.egress[1].kind, api::EgressRule::Kind::kPods);
  EXPECT_EQ(p.network.egress[1].ports[0].end_port, 9098);
  EXPECT_EQ(p.network.egress[2].kind, api::EgressRule::Kind::kService);
  EXPECT_EQ(p.network.egress[2].namespace_, "dw");
  EXPECT_EQ(p.network.egress[3].cidr, "2001:db8::/32");
  EXPECT_FALSE(p.network.allow_aws_sts);
  EXPECT_EQ(p.deletion_policy, api::DeletionPolicy::kRetain);
}

TEST(ParseProfile, DefaultsWhenUnset) {
  json profile = Base();
  profile["metadata"].erase("namespace");
  auto parsed = api::ParseProfile(profile);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->namespace_, "default");
  EXPECT_FALSE(parsed->automount_token);
  EXPECT_FALSE(parsed->aws.has_value());
  EXPECT_TRUE(parsed->network.dns.enabled);
  EXPECT_EQ(parsed->network.dns.namespace_, "kube-system");
  EXPECT_EQ(parsed->network.dns.pod_selector, json::parse(R"({"matchLabels":{"k8s-app":"kube-dns"}})"));
  EXPECT_TRUE(parsed->network.allow_aws_sts);
  EXPECT_EQ(parsed->deletion_policy, api::DeletionPolicy::kDelete);
}

TEST(ParseProfile, NonObjectInputIsAnErrorNotACrash) {
  for (const json& input : {json(nullptr), json(42), json::array({1, 2}), json("profile")}) {
    std::vector<api::GuardrailViolation> problems;
    EXPECT_FALSE(api::ParseProfile(input, &problems).ok());
    EXPECT_FALSE(problems.empty());
  }
}

}  // namespace
}  // namespace pipeguard::reconcilers
