// ParseBoundedYaml (policy/src/bounded_yaml.h): the libyaml reader of YAML files inside ConfigMaps. Checked against
// yaml-cpp (which it replaced on this path) on ordinary configuration files, and on the limits that keep hostile
// files cheap.
#include "bounded_yaml.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "tree_scalars.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

// The reference: yaml-cpp's tree with the same conventions (scalars as strings, null as null).
json ViaYamlCpp(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = ViaYamlCpp(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ViaYamlCpp(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.Scalar();
    default:
      return nullptr;
  }
}

TEST(BoundedYaml, ReadsConfigurationFilesAsYamlCppDid) {
  const std::string documents[] = {
      // dbt profiles.yml
      "payments:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      port: 5432\n"
      "      password: \"{{ env_var('DBT_PASSWORD') }}\"\n      threads: 8\n      keepalives: true\n",
      // flow and block styles, quoting, multi-line scalars, comments
      "a: {b: [1, 2, {c: d}], 'e f': \"g\\th\"}\nlist:\n  - x\n  - - nested\n    - seq\n"
      "folded: >\n  one\n  two\nliteral: |\n  line 1\n  line 2\n# comment\nempty:\ntilde: ~\nquoted_null: 'null'\n",
      // anchors and aliases
      "base: &b {user: etl, host: db.internal}\nprod: *b\nlist: [&x one, *x, *x]\n",
      // a repeated key keeps its last value
      "k: first\nk: second\n",
      // only the first document is read
      "first: 1\n---\nsecond: 2\n",
      // scalars and empty documents
      "just a scalar\n",
      "",
      "---\n",
      "[]\n",
  };
  for (const std::string& text : documents) {
    auto ours = ParseBoundedYaml(text);
    ASSERT_TRUE(ours.has_value()) << text;
    EXPECT_EQ(*ours, ViaYamlCpp(YAML::Load(text))) << text;
  }
}

TEST(BoundedYaml, NullsAreOnlyPlainNullSpellings) {
  auto parsed = ParseBoundedYaml("a: ~\nb: null\nc: NULL\nd:\ne: 'null'\nf: \"~\"\ng: nil\n");
  ASSERT_TRUE(parsed.has_value());
  for (const char* key : {"a", "b", "c", "d"}) EXPECT_TRUE((*parsed)[key].is_null()) << key;
  EXPECT_EQ((*parsed)["e"], "null");
  EXPECT_EQ((*parsed)["f"], "~");
  EXPECT_EQ((*parsed)["g"], "nil");
}

TEST(BoundedYaml, TextThatIsNotYamlOrHasComplexKeysIsRefused) {
  for (const std::string text : {"a: [unclosed\n", "a: b: c\n", "? [complex, key]\n: value\n", "*undefined\n",
                                 "key: \"unterminated\n", "\t- tab indent\n"}) {
    EXPECT_FALSE(ParseBoundedYaml(text).has_value()) << text;
  }
}

TEST(BoundedYaml, AliasExpansionIsBoundedByTheNodeBudget) {
  // "Billion laughs": each level doubles the previous one nine times; fully expanded that is 10^9 nodes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string previous = "a";
  for (char level = 'b'; level <= 'i'; ++level) {
    bomb += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + previous;
    bomb += "]\n";
    previous = std::string(1, level);
  }
  EXPECT_FALSE(ParseBoundedYaml(bomb).has_value());
  // The same shape within the budget expands fine, and every copy counts.
  auto small = ParseBoundedYaml("a: &a [x, x]\nb: [*a, *a, *a]\n", /*max_nodes=*/20);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ((*small)["b"].size(), 3u);
  EXPECT_FALSE(ParseBoundedYaml("a: &a [x, x]\nb: [*a, *a, *a]\n", /*max_nodes=*/12).has_value());
}

TEST(BoundedYaml, NestingIsBoundedByTheDepthLimit) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(ParseBoundedYaml(deep).has_value());
  const std::string fits = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(ParseBoundedYaml(fits).has_value());
  EXPECT_FALSE(ParseBoundedYaml(fits, kYamlMaxNodes, /*max_depth=*/5).has_value());
}

using testing::Scalar;
using testing::TreeScalars;

std::vector<Scalar> Streamed(const std::string& text, YamlStream& result, std::size_t max_nodes = kYamlMaxNodes,
                             int max_depth = kYamlMaxDepth) {
  std::vector<Scalar> out;
  result = StreamBoundedYamlScalars(
      text, "<root>",
      [&](std::string_view path, std::string_view key, std::string_view value) {
        out.emplace_back(std::string(path), std::string(key), std::string(value));
      },
      max_nodes, max_depth);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StreamedYaml, GivesTheTreesScalarsWhenItCanAndDefersWhenOnlyTheTreeCan) {
  struct Case {
    std::string text;
    YamlStream expected;
  };
  const Case cases[] = {
      {"payments:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n      port: 5432\n"
       "      password: \"{{ env_var('DBT_PASSWORD') }}\"\n      hosts: [a, b]\n      sslmode: ~\n",
       YamlStream::kDone},
      {"a: {b: [1, 2, {c: d}], 'e f': \"g\\th\"}\nlist:\n  - x\n  - - nested\n    - seq\n"
       "folded: >\n  one\n  two\nliteral: |\n  line 1\n  line 2\n# comment\nempty:\nquoted_null: 'null'\n"
       "'': empty key\n",
       YamlStream::kDone},
      {"- host: db-0\n  password: x1\n- [deep, [deeper]]\n- ~\n", YamlStream::kDone},
      {"first: 1\n---\nsecond: 2\n", YamlStream::kDone},
      {"[]\n", YamlStream::kDone},
      // Only the tree resolves these: anchors and aliases (in values and keys), repeated keys.
      {"base: &b {user: etl}\nprod: *b\n", YamlStream::kTreeNeeded},
      {"list: [&x one, *x]\n", YamlStream::kTreeNeeded},
      {"a: &k key\n*k : value\n", YamlStream::kTreeNeeded},
      {"k: first\nk: second\n", YamlStream::kTreeNeeded},
      {"outer:\n  k: 1\n  k: 2\n", YamlStream::kTreeNeeded},
      // Refused as the tree path refuses them, or no mapping or sequence at all.
      {"just a scalar\n", YamlStream::kRefused},
      {"", YamlStream::kRefused},
      {"---\n", YamlStream::kRefused},
      {"a: [unclosed\n", YamlStream::kRefused},
      {"? [complex, key]\n: value\n", YamlStream::kRefused},
      {"~: null key\n", YamlStream::kRefused},
  };
  for (const Case& c : cases) {
    YamlStream result;
    const std::vector<Scalar> streamed = Streamed(c.text, result);
    EXPECT_EQ(result, c.expected) << c.text;
    const auto tree = ParseBoundedYaml(c.text);
    if (result == YamlStream::kDone) {
      ASSERT_TRUE(tree.has_value()) << c.text;
      EXPECT_EQ(streamed, TreeScalars(*tree, "<root>")) << c.text;
    } else if (result == YamlStream::kRefused) {
      EXPECT_TRUE(!tree.has_value() || (!tree->is_object() && !tree->is_array())) << c.text;
    }
  }
}

TEST(StreamedYaml, KeepsTheTreesLimits) {
  YamlStream result;
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  Streamed(deep, result);
  EXPECT_EQ(result, YamlStream::kRefused);
  const std::string fits = std::string(10, '[') + std::string(10, ']');
  Streamed(fits, result);
  EXPECT_EQ(result, YamlStream::kDone);
  Streamed(fits, result, kYamlMaxNodes, /*max_depth=*/5);
  EXPECT_EQ(result, YamlStream::kRefused);
  // Keys count against the node budget as in the tree: 3 pairs are 7 nodes with the mapping.
  Streamed("a: 1\nb: 2\nc: 3\n", result, /*max_nodes=*/7);
  EXPECT_EQ(result, YamlStream::kDone);
  EXPECT_TRUE(ParseBoundedYaml("a: 1\nb: 2\nc: 3\n", 7).has_value());
  Streamed("a: 1\nb: 2\nc: 3\n", result, /*max_nodes=*/6);
  EXPECT_EQ(result, YamlStream::kRefused);
  EXPECT_FALSE(ParseBoundedYaml("a: 1\nb: 2\nc: 3\n", 6).has_value());
}

}  // namespace
}  // namespace pipeguard::policy
