#include "pipeguard/policy/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::policy {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, EmptyTextGivesSecureDefaults) {
  auto config = ParseConfig("", "pipeguard.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->mode, Mode::kEnforce);
  EXPECT_TRUE(config->images.verify);
  EXPECT_EQ(config->blocking_severity, Severity::kMedium);
  EXPECT_EQ(config->governance.selectors.size(), 3u);
  EXPECT_EQ(config->break_glass.max_duration, std::chrono::hours(168));
  EXPECT_TRUE(config->break_glass.groups.empty());
}

TEST(ConfigTest, ParsesEverySetting) {
  auto config = ParseConfig(R"(
mode: audit
blockingSeverity: high
images:
  verify: false
  allowedRegistries: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/", "registry.corp/"]
  keys:
    - {name: release, path: /etc/pipeguard/keys/release.pub}
    - publicKey: |
        -----BEGIN PUBLIC KEY-----
        MFkw
        -----END PUBLIC KEY-----
  registries:
    - {host: "127.0.0.1:5000", insecure: true}
    - {host: "registry.corp", caFile: /etc/ca.pem, credentialsFile: /etc/docker.json}
  pinDigests: false
  deadline: 2500ms
governance:
  selectors: [{matchLabels: {team: data}}]
  sparkApplications: false
breakGlass: {groups: [sre], maxDuration: 24h}
serviceAccounts: {forbiddenRoles: [cluster-admin]}
)",
                            "pipeguard.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->mode, Mode::kAudit);
  EXPECT_EQ(config->blocking_severity, Severity::kHigh);
  EXPECT_FALSE(config->images.verify);
  EXPECT_EQ(config->images.allowed_registries.size(), 2u);
  ASSERT_EQ(config->images.keys.size(), 2u);
  EXPECT_EQ(config->images.keys[0].name, "release");
  EXPECT_THAT(config->images.keys[1].public_key_pem, HasSubstr("BEGIN PUBLIC KEY"));
  ASSERT_EQ(config->images.registries.size(), 2u);
  EXPECT_TRUE(config->images.registries[0].insecure);
  EXPECT_EQ(config->images.registries[1].ca_file, "/etc/ca.pem");
  EXPECT_FALSE(config->images.pin_digests);
  EXPECT_EQ(config->images.deadline, std::chrono::milliseconds(2500));
  EXPECT_EQ(config->governance.selectors.size(), 1u);
  EXPECT_FALSE(config->governance.spark_applications);
  EXPECT_EQ(config->break_glass.groups, std::vector<std::string>{"sre"});
  EXPECT_EQ(config->break_glass.max_duration, std::chrono::hours(24));
  EXPECT_EQ(config->service_accounts.forbidden_roles, std::vector<std::string>{"cluster-admin"});
}

TEST(ConfigTest, KeylessIdentitiesAreParsed) {
  auto config = ParseConfig(R"(
images:
  keyless:
    trustedRootFile: /etc/pipeguard/trusted_root.json
    requireSct: false
    identities:
      - name: release
        issuer: https://token.actions.githubusercontent.com
        subjectRegExp: '^https://github\.com/acme/pipelines/\.github/workflows/release\.yml@refs/tags/v.*$'
        extensions:
          sourceRepositoryUri: https://github.com/acme/pipelines
          buildTrigger: push
      - subject: https://gitlab.com/acme/etl//.gitlab-ci.yml@refs/heads/main
        issuerRegExp: 'https://gitlab\.com'
)",
                            "pipeguard.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const policy::KeylessConfig& keyless = config->images.keyless;
  EXPECT_TRUE(keyless.configured());
  EXPECT_EQ(keyless.trusted_root_file, "/etc/pipeguard/trusted_root.json");
  EXPECT_FALSE(keyless.require_sct);
  ASSERT_EQ(keyless.identities.size(), 2u);
  EXPECT_EQ(keyless.identities[0].name, "release");
  EXPECT_EQ(keyless.identities[0].issuer, "https://token.actions.githubusercontent.com");
  EXPECT_TRUE(keyless.identities[0].subject.empty());
  EXPECT_EQ(keyless.identities[0].subject_regexp.substr(0, 20), "^https://github\\.com");
  EXPECT_EQ(keyless.identities[0].extensions.at("buildTrigger"), "push");
  EXPECT_EQ(keyless.identities[1].name, "identity-1");
  EXPECT_EQ(keyless.identities[1].issuer_regexp, "https://gitlab\\.com");
  EXPECT_TRUE(config->images.keys.empty());
  EXPECT_TRUE(ParseConfig("", "x.yaml")->images.keyless.require_sct);
  EXPECT_EQ(ParseConfig("", "x.yaml")->review_budget, std::chrono::milliseconds(1000));
  EXPECT_EQ(ParseConfig("reviewBudget: 250ms", "x.yaml")->review_budget, std::chrono::milliseconds(250));
  EXPECT_FALSE(ParseConfig("", "x.yaml")->images.keyless.configured());
}

TEST(ConfigTest, AttestationRequirementsAreParsed) {
  auto config = ParseConfig(R"(
images:
  attestations:
    provenance:
      builderIds: [https://github.com/actions/runner/github-hosted, {regexp: 'https://gitlab\.com/.*'}]
      sourceRepository: https://github.com/acme/pipelines
      sourceRef: {regexp: 'refs/tags/v[0-9.]+'}
      buildType: https://actions.github.io/buildtypes/workflow/v1
    vulnerabilities:
      scanners: [{regexp: 'https://github\.com/anchore/grype.*'}]
      maxAgeHours: 12
      failAt: critical
      allow:
        - {id: CVE-2026-1234, expires: "2027-01-31T00:00:00Z"}
    sbom: true
)",
                            "pipeguard.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const policy::AttestationsConfig& a = config->images.attestations;
  EXPECT_FALSE(a.empty());
  ASSERT_TRUE(a.provenance.has_value());
  ASSERT_EQ(a.provenance->builder_ids.size(), 2u);
  EXPECT_FALSE(a.provenance->builder_ids[0].regexp);
  EXPECT_TRUE(a.provenance->builder_ids[1].regexp);
  EXPECT_EQ(a.provenance->builder_ids[1].value, "https://gitlab\\.com/.*");
  EXPECT_EQ(a.provenance->source_repository->value, "https://github.com/acme/pipelines");
  EXPECT_TRUE(a.provenance->source_ref->regexp);
  EXPECT_EQ(a.provenance->build_type->value, "https://actions.github.io/buildtypes/workflow/v1");
  ASSERT_TRUE(a.vulnerabilities.has_value());
  EXPECT_EQ(a.vulnerabilities->max_age_hours, 12);
  EXPECT_EQ(a.vulnerabilities->fail_at, "critical");
  ASSERT_EQ(a.vulnerabilities->allow.size(), 1u);
  EXPECT_EQ(a.vulnerabilities->allow[0].id, "CVE-2026-1234");
  EXPECT_EQ(a.vulnerabilities->allow[0].expires_unix_seconds, 1801353600);
  EXPECT_TRUE(a.sbom);
  // Defaults: nothing required; a bare vulnerabilities map means 24 h and high.
  EXPECT_TRUE(ParseConfig("", "x.yaml")->images.attestations.empty());
  auto bare = ParseConfig("images:\n  attestations: {vulnerabilities: {}}", "x.yaml");
  ASSERT_TRUE(bare.ok()) << bare.status().message();
  EXPECT_EQ(bare->images.attestations.vulnerabilities->max_age_hours, 24);
  EXPECT_EQ(bare->images.attestations.vulnerabilities->fail_at, "high");
}

struct BadConfig {
  const char* text;
  const char* expected;  // substring of the error
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRejectedWithFileLineAndHint) {
  auto config = ParseConfig(GetParam().text, "conf.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("conf.yaml:"));
  EXPECT_THAT(config.status().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadConfig{"mode: relaxed", "enforce or audit"}, BadConfig{"mdoe: audit", "unknown setting"},
        BadConfig{"images:\n  verfy: false", "images.verfy: unknown setting"},
        BadConfig{"images:\n  verify: maybe", "true or false"},
        BadConfig{"images:\n  allowedRegistries: [\"\"]", "empty prefix"},
        BadConfig{"images:\n  keys: [{name: k}]", "exactly one of path"},
        BadConfig{"images:\n  registries: [{host: h, insecure: true, caFile: c}]", "exclude each other"},
        BadConfig{"images:\n  deadline: soon", "duration"}, BadConfig{"breakGlass: {maxDuration: 200h}", "168h"},
        BadConfig{"reviewBudget: 1ms", "reviewBudget: must be between 10ms and 60s"},
        BadConfig{"reviewBudget: forever", "reviewBudget"}, BadConfig{"governance:\n  selectors: [{}]", "every pod"},
        BadConfig{"blockingSeverity: info", "low, medium, high or critical"},
        BadConfig{"images: [1, 2", "invalid YAML"}, BadConfig{"- a\n- b", "must be a mapping"},
        BadConfig{"images:\n  keys: [{name: k, path: a}, {name: k, path: b}]", "\"k\" is used twice"},
        BadConfig{"images:\n  rekor: {publicKey: x}", "images.rekor.publicKey: unknown setting"},
        BadConfig{"images:\n  keyless: {identities: [{subject: s, issuer: i}]}",
                  "images.keyless.trustedRootFile: is required"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json}", "images.keyless.identities: must list"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identities: [{issuer: i}]}",
                  "set exactly one of subject (exact) or subjectRegExp"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identities: [{subject: s, subjectRegExp: "
                  "s, issuer: i}]}",
                  "set exactly one of subject"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identities: [{subject: s}]}",
                  "set exactly one of issuer (exact) or issuerRegExp"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identities: [{subject: s, issuer: i, "
                  "extensions: [a]}]}",
                  "must map certificate claim names"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identities: [{name: a, subject: s, "
                  "issuer: i}, {name: a, subject: t, issuer: i}]}",
                  "\"a\" is used twice"},
        BadConfig{"images:\n  keyless: {trustedRootFile: r.json, identites: []}",
                  "images.keyless.identites: unknown setting"},
        BadConfig{"images:\n  rekor: {required: true}",
                  "conf.yaml:2: images.rekor.required: requires a "
                  "Rekor log key"},
        BadConfig{"images:\n  rekor: {required: yes-please, publicKeys: [{path: r.pub}]}",
                  "images.rekor.required: must be true or false"},
        BadConfig{"images:\n  rekor: {publicKeys: [{name: r}]}", "images.rekor.publicKeys[]: set exactly one of path"},
        BadConfig{"images:\n  rekor: {publicKeys: [{name: r, path: a, url: u}]}",
                  "images.rekor.publicKeys[].url: unknown setting"},
        BadConfig{"images:\n  rekor: {publicKeys: {name: r}}", "images.rekor.publicKeys: must be a list"},
        BadConfig{"images:\n  rekor: {trustedRootFile: \"\"}", "trusted_root.json"},
        BadConfig{"images:\n  rekor: [a]", "images.rekor: must be a mapping"},
        BadConfig{"images:\n  attestations: {sboms: true}", "images.attestations.sboms: unknown setting"},
        BadConfig{"images:\n  attestations: {sbom: sure}", "images.attestations.sbom: must be true or false"},
        BadConfig{"images:\n  attestations: {provenance: {builderId: x}}",
                  "images.attestations.provenance.builderId: unknown setting"},
        BadConfig{"images:\n  attestations: {provenance: {builderIds: []}}",
                  "images.attestations.provenance.builderIds: must be a non-empty list"},
        BadConfig{"images:\n  attestations: {provenance: {sourceRef: {regexp: '(unclosed'}}}",
                  "images.attestations.provenance.sourceRef.regexp: is not a valid RE2 expression"},
        BadConfig{"images:\n  attestations: {provenance: {sourceRepository: {glob: x}}}",
                  "images.attestations.provenance.sourceRepository.glob: unknown setting"},
        BadConfig{"images:\n  attestations: {vulnerabilities: {maxAgeHours: 0}}",
                  "images.attestations.vulnerabilities.maxAgeHours: must be an integer from 1"},
        BadConfig{"images:\n  attestations: {vulnerabilities: {failAt: severe}}",
                  "images.attestations.vulnerabilities.failAt: must be one of negligible, low, medium, high, critical"},
        BadConfig{"images:\n  attestations: {vulnerabilities: {allow: [{id: CVE-1}]}}",
                  "images.attestations.vulnerabilities.allow[]: needs id"},
        BadConfig{"images:\n  attestations: {vulnerabilities: {allow: [{id: CVE-1, expires: never}]}}",
                  "images.attestations.vulnerabilities.allow[].expires: \"never\" is not an RFC 3339 time"},
        BadConfig{"images:\n  attestations: [sbom]", "images.attestations: must be a map"}));

TEST(ConfigTest, ParsesRekorLogKeysAndTrustedRoot) {
  auto config = ParseConfig(R"(
images:
  keys: [{name: release, path: /keys/release.pub}]
  rekor:
    publicKeys:
      - {name: public-good, path: /keys/rekor.pub}
      - publicKey: |
          -----BEGIN PUBLIC KEY-----
          MFkw
          -----END PUBLIC KEY-----
    trustedRootFile: /etc/sigstore/trusted_root.json
    required: true
)",
                            "pipeguard.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const RekorConfig& rekor = config->images.rekor;
  ASSERT_EQ(rekor.public_keys.size(), 2u);
  EXPECT_EQ(rekor.public_keys[0].name, "public-good");
  EXPECT_EQ(rekor.public_keys[0].path, "/keys/rekor.pub");
  EXPECT_EQ(rekor.public_keys[1].name, "key-1");
  EXPECT_THAT(rekor.public_keys[1].public_key_pem, HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_EQ(rekor.trusted_root_file, "/etc/sigstore/trusted_root.json");
  EXPECT_TRUE(rekor.required);
  EXPECT_TRUE(rekor.configured());
}

TEST(ConfigTest, RekorIsOffByDefaultAndOptionalWhenOnlyAKeyIsGiven) {
  auto none = ParseConfig("images: {keys: [{name: k, path: k.pub}]}", "a.yaml");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->images.rekor.configured());
  EXPECT_FALSE(none->images.rekor.required);
  auto optional = ParseConfig("images: {rekor: {trustedRootFile: root.json}}", "b.yaml");
  ASSERT_TRUE(optional.ok()) << optional.status().message();
  EXPECT_TRUE(optional->images.rekor.configured());
  EXPECT_FALSE(optional->images.rekor.required);
}

}  // namespace
}  // namespace pipeguard::policy
