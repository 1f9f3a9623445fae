#include "pipeguard/policy/label_selector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pipeguard::policy {
namespace {

using nlohmann::json;

LabelSelector Parse(const char* text) {
  auto s = LabelSelector::FromJson(json::parse(text), "spec.podSelector");
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : LabelSelector();
}

TEST(LabelSelectorTest, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(Parse("{}").Matches({}));
  EXPECT_TRUE(Parse("{}").Matches({{"a", "b"}}));
}

TEST(LabelSelectorTest, MatchLabelsAndExpressionsAreAnded) {
  auto s = Parse(R"({"matchLabels": {"app": "etl"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["batch", "stream"]},
                                          {"key": "legacy", "operator": "DoesNotExist"}]})");
  EXPECT_TRUE(s.Matches({{"app", "etl"}, {"tier", "batch"}}));
  EXPECT_FALSE(s.Matches({{"app", "etl"}, {"tier", "web"}}));
  EXPECT_FALSE(s.Matches({{"app", "etl"}, {"tier", "batch"}, {"legacy", "yes"}}));
  EXPECT_FALSE(s.Matches({{"tier", "batch"}}));
}

TEST(LabelSelectorTest, NotInAndExists) {
  auto s = Parse(R"({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]},
                                          {"key": "spark-role", "operator": "Exists"}]})");
  EXPECT_TRUE(s.Matches({{"spark-role", "driver"}}));
  EXPECT_TRUE(s.Matches({{"spark-role", "driver"}, {"env", "prod"}}));
  EXPECT_FALSE(s.Matches({{"spark-role", "driver"}, {"env", "dev"}}));
  EXPECT_FALSE(s.Matches({{"env", "prod"}}));
}

TEST(LabelSelectorTest, MalformedSelectorsAreErrorsThatNameTheField) {
  for (const char* bad :
       {R"([])", R"({"matchLabels": {"a": 1}})", R"({"matchExpressions": [{"key": "a"}]})",
        R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
        R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})", R"({"matchLabel": {}})"}) {
    auto s = LabelSelector::FromJson(json::parse(bad), "spec.podSelector");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("spec.podSelector"), std::string::npos) << s.status().message();
  }
}

}  // namespace
}  // namespace pipeguard::policy
