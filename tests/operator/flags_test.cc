// ParseOperatorFlags: both value forms, defaults, and a clear error for every wrong flag; ParseDuration.
#include "pipeguard/reconcilers/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(ParseOperatorFlags, EveryFlagInBothFormsAndTheDefaults) {
  auto minimal = ParseOperatorFlags({"--config", "operator.yaml"});
  ASSERT_TRUE(minimal.ok()) << minimal.status().message();
  EXPECT_EQ(minimal->config, "operator.yaml");
  EXPECT_EQ(minimal->metrics_listen, "0.0.0.0:8080");
  EXPECT_EQ(minimal->workers, 2);
  EXPECT_FALSE(minimal->resync.has_value());
  EXPECT_FALSE(minimal->leader_election);
  EXPECT_FALSE(minimal->kubeconfig.has_value());
  EXPECT_FALSE(minimal->identity.has_value());

  auto all = ParseOperatorFlags({"--config=c.yaml",
                                 "--kubeconfig",
                                 "kc",
                                 "--aws-endpoint=http://127.0.0.1:5000",
                                 "--metrics-listen",
                                 "127.0.0.1:0",
                                 "--leader-election-namespace",
                                 "pipeguard-system",
                                 "--leader-election-id=pipeguard-operator",
                                 "--identity",
                                 "pod-0",
                                 "--workers",
                                 "8",
                                 "--resync=90s",
                                 "--namespace",
                                 "data",
                                 "--webhook-configurations",
                                 "w.yaml",
                                 "--webhook-configurations-configmap",
                                 "pipeguard-system/pg-webhooks"});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->config, "c.yaml");
  EXPECT_EQ(all->kubeconfig, "kc");
  EXPECT_EQ(all->aws_endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(all->metrics_listen, "127.0.0.1:0");
  EXPECT_TRUE(all->leader_election);
  EXPECT_EQ(all->leader_election_namespace, "pipeguard-system");
  EXPECT_EQ(all->leader_election_id, "pipeguard-operator");
  EXPECT_EQ(all->identity, "pod-0");
  EXPECT_EQ(all->workers, 8);
  EXPECT_EQ(all->resync, 90s);
  EXPECT_EQ(all->namespace_, "data");
  EXPECT_EQ(all->webhook_configurations, "w.yaml");
  EXPECT_EQ(all->webhook_configmap_namespace, "pipeguard-system");
  EXPECT_EQ(all->webhook_configmap_name, "pg-webhooks");

  auto help = ParseOperatorFlags({"--workers", "2", "-h"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  EXPECT_THAT(OperatorUsage(), HasSubstr("--config FILE"));
}

TEST(ParseOperatorFlags, WrongFlagsSayWhatIsExpected) {
  const struct {
    std::vector<std::string> args;
    std::string error;
  } cases[] = {
      {{}, "--config FILE (the guardrails::OperatorConfig YAML) is required"},
      {{"--config"}, "--config needs a value"},
      {{"--config", "c", "--verbose", "1"}, "unknown flag --verbose"},
      {{"--config", "c", "--workers", "0"}, "--workers must be a number in 1..64"},
      {{"--config", "c", "--workers", "65"}, "--workers must be a number in 1..64"},
      {{"--config", "c", "--workers=two"}, "--workers must be a number in 1..64"},
      {{"--config", "c", "--resync", "10"}, "--resync \"10\": expected a duration such as 30s, 10m or 1h"},
      {{"--config", "c", "--leader-election-id", "x"},
       "--leader-election-namespace and --leader-election-id go together"},
      {{"--config", "c", "--webhook-configurations-configmap", "ns/name"},
       "expected NAMESPACE/NAME, together with --webhook-configurations"},
      {{"--config", "c", "--webhook-configurations", "w", "--webhook-configurations-configmap", "name"},
       "--webhook-configurations-configmap \"name\": expected NAMESPACE/NAME"},
      {{"--config", "c", "--webhook-configurations", "w", "--webhook-configurations-configmap", "a/b/c"},
       "expected NAMESPACE/NAME"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseOperatorFlags(c.args);
    ASSERT_FALSE(parsed.ok()) << ::testing::PrintToString(c.args);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.error)) << ::testing::PrintToString(c.args);
  }
}

TEST(ParseDuration, UnitsAndRejects) {
  EXPECT_EQ(ParseDuration("500ms"), 500ms);
  EXPECT_EQ(ParseDuration("90s"), 90s);
  EXPECT_EQ(ParseDuration("10m"), 10min);
  EXPECT_EQ(ParseDuration("1h"), 1h);
  for (const char* bad : {"", "0s", "-5s", "5", "5d", "s", "1.5s"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pipeguard::reconcilers
