#include "pipeguard/aws/policy_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;

struct EquivalenceCase {
  std::string name;
  std::string a, b;
  bool equivalent;
};

std::vector<EquivalenceCase> LoadCases() {
  std::vector<EquivalenceCase> out;
  for (const auto& c : nlohmann::json::parse(testing::ReadTestData("policy-equivalence.json"))) {
    auto text = [&](const char* key) {
      std::string text_key = std::string(key) + "_text";
      return c.contains(text_key) ? c[text_key].get<std::string>() : c[key].dump(2);
    };
    out.push_back({c["name"], text("a"), text("b"), c["equivalent"]});
  }
  return out;
}

class PolicyEquivalenceTest : public ::testing::TestWithParam<EquivalenceCase> {};

TEST_P(PolicyEquivalenceTest, ComparesCanonically) {
  const auto& c = GetParam();
  EXPECT_EQ(PoliciesEquivalent(c.a, c.b), c.equivalent);
  EXPECT_EQ(PoliciesEquivalent(c.b, c.a), c.equivalent) << "symmetric";
  auto ca = CanonicalPolicyString(c.a);
  ASSERT_TRUE(ca.ok());
  auto again = CanonicalPolicyString(*ca);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ca) << "canonicalisation is idempotent";
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyEquivalenceTest, ::testing::ValuesIn(LoadCases()),
                         [](const auto& info) { return info.param.name; });

TEST(CanonicalPolicy, Form) {
  auto s = CanonicalPolicyString(
      R"({"Version":"2012-10-17","Statement":{"Resource":["b","a"],"Effect":"Allow","Action":["x:Y"]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, R"({"Statement":[{"Action":"x:Y","Effect":"Allow","Resource":["a","b"]}],"Version":"2012-10-17"})");
}

TEST(CanonicalPolicy, Errors) {
  EXPECT_THAT(CanonicalPolicy("{").status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(CanonicalPolicy("[]").status().message(), HasSubstr("must be a JSON object"));
  EXPECT_THAT(CanonicalPolicy(R"({"Statement":"x"})").status().message(), HasSubstr("Statement must be"));
  EXPECT_THAT(CanonicalPolicy(R"({"Statement":[1]})").status().message(), HasSubstr("Statement[0]"));
  EXPECT_FALSE(PoliciesEquivalent("{", "{"));
}

}  // namespace
}  // namespace pipeguard::aws
