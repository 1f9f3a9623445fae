// spec.images of a PipelineSecurityProfile (issue 13, item 3): keylessIdentities and attestations in the one
// profile grammar (api::ReadProfile), and how KeyScopeFor carries them (with trustedKeys) to image verification.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json ProfileObject(const json& images) {
  return {{"apiVersion", "pipeguard.io/v1alpha1"},
          {"kind", "PipelineSecurityProfile"},
          {"metadata", {{"name", "payments"}, {"namespace", "etl"}}},
          {"spec",
           {{"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", "payments"}}}}},
            {"serviceAccount", {{"name", "payments-etl"}}},
            {"images", images}}}};
}

std::string Problems(const api::ProfileReading& reading) {
  std::string out;
  for (const auto& p : reading.problems) out += p.path + ": " + p.message + "\n";
  return out;
}

TEST(ProfileImagesTest, KeylessIdentitiesAndAttestationsAreRead) {
  const api::ProfileReading reading =
      api::ReadProfile(ProfileObject({{"keylessIdentities", {"release"}},
                                      {"attestations",
                                       {{"provenance",
                                         {{"builderIds", {"https://github.com/actions/runner/github-hosted"}},
                                          {"sourceRef", {{"regexp", "refs/tags/v[0-9.]+"}}}}},
                                        {"vulnerabilities",
                                         {{"maxAgeHours", 12},
                                          {"failAt", "critical"},
                                          {"allow", {{{"id", "CVE-2026-1"}, {"expires", "2027-01-31T00:00:00Z"}}}}}},
                                        {"sbom", true}}}}));
  ASSERT_TRUE(reading.ok()) << Problems(reading);
  const api::ParsedProfile& p = reading.profile;
  EXPECT_FALSE(p.trusted_keys.has_value());
  ASSERT_TRUE(p.keyless_identities.has_value());
  EXPECT_EQ(*p.keyless_identities, std::vector<std::string>{"release"});
  ASSERT_TRUE(p.attestations.has_value());
  ASSERT_TRUE(p.attestations->provenance.has_value());
  EXPECT_EQ(p.attestations->provenance->builder_ids.size(), 1u);
  EXPECT_TRUE(p.attestations->provenance->source_ref->regexp);
  EXPECT_EQ(p.attestations->vulnerabilities->max_age_hours, 12);
  EXPECT_EQ(p.attestations->vulnerabilities->fail_at, "critical");
  EXPECT_EQ(p.attestations->vulnerabilities->allow[0].expires_unix_seconds, 1801353600);
  EXPECT_TRUE(p.attestations->sbom);
}

TEST(ProfileImagesTest, BadFieldsAreNamedByPath) {
  const api::ProfileReading reading = api::ReadProfile(ProfileObject(
      {{"keylessIdentities", json::array()},
       {"attestations",
        {{"sboms", true},
         {"provenance", {{"sourceRepository", {{"regexp", "(unclosed"}}}}},
         {"vulnerabilities",
          {{"failAt", "severe"}, {"maxAgeHours", 0}, {"allow", {{{"id", "CVE-1"}, {"expires", "never"}}}}}}}}}));
  const std::string problems = Problems(reading);
  EXPECT_THAT(problems, HasSubstr("/spec/images/keylessIdentities: must be a list of 1 to 16"));
  EXPECT_THAT(problems, HasSubstr("/spec/images/attestations/sboms: unknown field"));
  EXPECT_THAT(problems,
              HasSubstr("/spec/images/attestations/provenance/sourceRepository/regexp: is not a valid RE2 expression"));
  EXPECT_THAT(problems, HasSubstr("/spec/images/attestations/vulnerabilities/failAt: must be one of"));
  EXPECT_THAT(problems, HasSubstr("/spec/images/attestations/vulnerabilities/maxAgeHours: must be an integer"));
  EXPECT_THAT(problems,
              HasSubstr("/spec/images/attestations/vulnerabilities/allow/0/expires: \"never\" is not an RFC"));
}

ImagesConfig Images() {
  ImagesConfig images;
  images.keys = {{"release", "", "PEM"}, {"payments-ci", "", "PEM"}};
  images.keyless.trusted_root_file = "trusted_root.json";
  images.keyless.identities = {{"release-workflow", "s", "", "i", "", {}}, {"nightly", "s", "", "i", "", {}}};
  return images;
}

Profile View(const json& images) {
  auto parsed = ParseProfile(ProfileObject(images));
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : Profile{};
}

TEST(ProfileImagesTest, AProfileNamingSignersAcceptsOnlyThose) {
  const ImagesConfig images = Images();
  const Profile keys_only = View({{"trustedKeys", {"payments-ci"}}});
  KeyScope scope = KeyScopeFor({&keys_only}, images);
  ASSERT_TRUE(scope.restricted());
  EXPECT_EQ(*scope.keys, std::vector<std::string>{"payments-ci"});
  EXPECT_TRUE(scope.keyless_identities->empty());  // keyless signatures do not count for it

  const Profile identities_only = View({{"keylessIdentities", {"nightly", "unknown"}}});
  scope = KeyScopeFor({&identities_only}, images);
  ASSERT_TRUE(scope.restricted());
  EXPECT_TRUE(scope.keys->empty());
  EXPECT_EQ(*scope.keyless_identities, std::vector<std::string>{"nightly"});  // unknown names are dropped

  // Two profiles: their signers intersect.
  const Profile both = View({{"trustedKeys", {"payments-ci"}}, {"keylessIdentities", {"release-workflow", "nightly"}}});
  scope = KeyScopeFor({&both, &identities_only}, images);
  EXPECT_TRUE(scope.keys->empty());
  EXPECT_EQ(*scope.keyless_identities, std::vector<std::string>{"nightly"});
  EXPECT_EQ(scope.profiles, (std::vector<std::string>{"etl/payments", "etl/payments"}));

  EXPECT_FALSE(KeyScopeFor({}, images).restricted());
  EXPECT_EQ(KeyScopeFor({}, images).Id(), "");
}

TEST(ProfileImagesTest, ProfileAttestationsAreCarriedAndPartOfTheScopeId) {
  const ImagesConfig images = Images();
  const Profile sbom = View({{"attestations", {{"sbom", true}}}});
  const Profile scan = View({{"attestations", {{"vulnerabilities", {{"maxAgeHours", 6}}}}}});
  const Profile scan_longer = View({{"attestations", {{"vulnerabilities", {{"maxAgeHours", 7}}}}}});
  const KeyScope a = KeyScopeFor({&sbom}, images);
  EXPECT_FALSE(a.restricted());  // requirements do not restrict the signers
  ASSERT_EQ(a.attestations.size(), 1u);
  EXPECT_EQ(a.attestations[0].first, "etl/payments");
  EXPECT_TRUE(a.attestations[0].second.sbom);
  EXPECT_NE(a.Id(), "");
  const KeyScope b = KeyScopeFor({&scan}, images);
  const KeyScope c = KeyScopeFor({&scan_longer}, images);
  EXPECT_NE(a.Id(), b.Id());
  EXPECT_NE(b.Id(), c.Id());
  EXPECT_EQ(b.Id(), KeyScopeFor({&scan}, images).Id());
  EXPECT_EQ(KeyScopeFor({&sbom, &scan}, images).attestations.size(), 2u);
  // An empty attestations object requires nothing.
  const Profile empty = View({{"attestations", json::object()}});
  EXPECT_EQ(KeyScopeFor({&empty}, images).Id(), "");
}

}  // namespace
}  // namespace pipeguard::policy
