// --guardrails-config parsing (operator configuration or bare guardrails document) and the engine check built from
// it: profiles breaking the guardrails are denied with rule profile-guardrail at the offending field.
#include "pipeguard/webhook/guardrails.h"

#include <gtest/gtest.h>

#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::DataPath;
using testing::ReadJson;

TEST(GuardrailsFile, ReadsTheGuardrailsKeyOfAWholeOperatorConfiguration) {
  auto guardrails = LoadGuardrailsFile(DataPath("guardrails/operator.yaml"));
  ASSERT_TRUE(guardrails.ok()) << guardrails.status().message();
  EXPECT_EQ(guardrails->allowed_bucket_patterns, std::vector<std::string>{"acme-*"});
  EXPECT_EQ(guardrails->forbidden_actions, (std::vector<std::string>{"*", "iam:*", "sts:*"}));
  EXPECT_EQ(guardrails->max_statements, 100);  // default kept
}

TEST(GuardrailsFile, ReadsABareGuardrailsDocument) {
  auto guardrails = LoadGuardrailsFile(DataPath("guardrails/bare.yaml"));
  ASSERT_TRUE(guardrails.ok()) << guardrails.status().message();
  EXPECT_EQ(guardrails->forbidden_actions, std::vector<std::string>{"iam:*"});
  EXPECT_EQ(guardrails->max_statements, 20);
}

TEST(GuardrailsFile, ErrorsNameTheFile) {
  // An operator configuration is validated whole, as the operator does: mandatory keys missing is an error.
  auto incomplete = guardrails::ParseGuardrailsDocument("clusterName: dev\nguardrails: {}\n", "operator.yaml");
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.status().message().find("operator.yaml"), std::string::npos) << incomplete.status().message();

  auto typo = guardrails::ParseGuardrailsDocument("forbidenActions: [\"iam:*\"]\n", "guardrails.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("guardrails.yaml"), std::string::npos) << typo.status().message();
  EXPECT_NE(typo.status().message().find("forbidenActions"), std::string::npos) << typo.status().message();

  auto not_yaml = guardrails::ParseGuardrailsDocument("{[", "broken.yaml");
  ASSERT_FALSE(not_yaml.ok());
  EXPECT_NE(not_yaml.status().message().find("broken.yaml"), std::string::npos) << not_yaml.status().message();

  auto missing = LoadGuardrailsFile(DataPath("guardrails/does-not-exist.yaml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does-not-exist.yaml"), std::string::npos);
}

TEST(GuardrailsCheck, EngineDeniesBreakingProfilesAtTheFieldAndAllowsCompliantOnes) {
  auto guardrails = LoadGuardrailsFile(DataPath("guardrails/operator.yaml"));
  ASSERT_TRUE(guardrails.ok()) << guardrails.status().message();
  const policy::Engine engine(guardrails::GuardrailsProfileCheck(std::move(guardrails).value()));
  const auto context = policy::ContextSnapshotBuilder(policy::DefaultConfig()).Build();
  policy::RequestInfo request;
  request.namespace_ = "etl";

  const auto denied = engine.Evaluate(ReadJson(DataPath("guardrails/breaking_profile.json")), request, *context);
  EXPECT_FALSE(denied.allowed);
  std::vector<std::string> paths;
  for (const auto& v : denied.violations) {
    EXPECT_EQ(v.rule, "profile-guardrail");
    paths.push_back(v.path);
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"/spec/aws/additionalStatements/0/actions/0", "/spec/network/egress/0/cidr"}));

  const auto allowed = engine.Evaluate(ReadJson(DataPath("guardrails/compliant_profile.json")), request, *context);
  EXPECT_TRUE(allowed.allowed);
  EXPECT_TRUE(allowed.violations.empty());
}

}  // namespace
}  // namespace pipeguard::webhook
