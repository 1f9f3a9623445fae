// The one settings-file reader: every error says file, line, key and what is accepted.
#include "pipeguard/base/yaml_reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace pipeguard::base {
namespace {

const std::string kSource = "config.yaml";

TEST(YamlReader, ErrorsNameFileLineKeyAndTheAcceptedKeys) {
  const YAML::Node root = YAML::Load("images:\n  verfy: true\n");
  const YamlReader reader(kSource);
  const Status unknown = reader.CheckKeys(root["images"], "images", {"verify", "pinDigests"});
  EXPECT_EQ(unknown.message(), "config.yaml:2: images.verfy: unknown setting (accepted here: pinDigests, verify)");
  EXPECT_EQ(reader.CheckKeys(YAML::Load("[1]"), "", {"a"}).message(), "config.yaml:1: (top level): must be a mapping");
}

TEST(YamlReader, ANullListKeepsTheDefaultAndAListReplacesIt) {
  const YamlReader reader(kSource);
  std::vector<std::string> actions{"*", "iam:*"};
  ASSERT_TRUE(reader.StringList(YAML::Load("forbiddenActions:")["forbiddenActions"], "forbiddenActions", actions).ok());
  EXPECT_EQ(actions, (std::vector<std::string>{"*", "iam:*"}));
  ASSERT_TRUE(reader.StringList(YAML::Load("[]"), "forbiddenActions", actions).ok());
  EXPECT_TRUE(actions.empty());
  actions = {"kept"};
  EXPECT_FALSE(reader.StringList(YAML::Load("[a, [b]]"), "forbiddenActions", actions).ok());
  EXPECT_EQ(actions, std::vector<std::string>{"kept"});  // a refused list changes nothing
}

TEST(YamlReader, DurationsInMillisecondsOrWholeSeconds) {
  const YamlReader reader(kSource);
  std::chrono::milliseconds deadline{};
  ASSERT_TRUE(reader.Duration(YAML::Load("500ms"), "images.deadline", deadline).ok());
  EXPECT_EQ(deadline, std::chrono::milliseconds(500));
  ASSERT_TRUE(reader.Duration(YAML::Load("168h"), "images.deadline", deadline).ok());
  EXPECT_EQ(deadline, std::chrono::hours(168));
  std::chrono::seconds resync{};
  ASSERT_TRUE(reader.Duration(YAML::Load("15m"), "resyncPeriod", resync).ok());
  EXPECT_EQ(resync, std::chrono::minutes(15));
  EXPECT_EQ(reader.Duration(YAML::Load("500ms"), "resyncPeriod", resync).message(),
            "config.yaml:1: resyncPeriod: must be a duration such as 90s, 15m or 10h");
  for (const char* bad : {"4", "s", "1.5s", "10d", "1234567890s", "[1s]"}) {
    EXPECT_FALSE(reader.Duration(YAML::Load(bad), "images.deadline", deadline).ok()) << bad;
  }
}

TEST(YamlReader, IntegersAndBooleansInRange) {
  const YamlReader reader(kSource);
  int statements = 0;
  ASSERT_TRUE(reader.Int(YAML::Load("25"), "maxStatements", 0, 100, statements).ok());
  EXPECT_EQ(statements, 25);
  EXPECT_EQ(reader.Int(YAML::Load("-1"), "maxStatements", 0, 100, statements).message(),
            "config.yaml:1: maxStatements: must be an integer from 0 to 100");
  EXPECT_FALSE(reader.Int(YAML::Load("101"), "maxStatements", 0, 100, statements).ok());
  bool verify = false;
  ASSERT_TRUE(reader.Bool(YAML::Load("yes"), "images.verify", verify).ok());
  EXPECT_TRUE(verify);
  EXPECT_FALSE(reader.Bool(YAML::Load("maybe"), "images.verify", verify).ok());
}

}  // namespace
}  // namespace pipeguard::base
