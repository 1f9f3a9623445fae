// WWW-Authenticate parsing, dockerconfigjson credentials and ECR host recognition.
#include "pipeguard/registry/auth.h"

#include <gtest/gtest.h>

#include "pipeguard/registry/ecr.h"

namespace pipeguard::registry {
namespace {

TEST(WwwAuthenticateTest, ParsesDockerHubBearerChallenge) {
  auto challenges = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull")");
  ASSERT_TRUE(challenges.ok()) << challenges.status().message();
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].scheme, "bearer");
  EXPECT_EQ((*challenges)[0].Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ((*challenges)[0].Param("service"), "registry.docker.io");
  EXPECT_EQ((*challenges)[0].Param("SCOPE"), "repository:library/nginx:pull");
  EXPECT_EQ((*challenges)[0].Param("error"), "");
}

TEST(WwwAuthenticateTest, QuotedValuesMayHoldCommasAndEscapes) {
  auto challenges = ParseWwwAuthenticate(
      R"(Bearer realm="https://r/token", scope="repository:a/b:pull,push", error="insufficient_scope", x="a\"b")");
  ASSERT_TRUE(challenges.ok()) << challenges.status().message();
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].Param("scope"), "repository:a/b:pull,push");
  EXPECT_EQ((*challenges)[0].Param("error"), "insufficient_scope");
  EXPECT_EQ((*challenges)[0].Param("x"), "a\"b");
}

TEST(WwwAuthenticateTest, SeveralChallengesAndUnquotedValues) {
  auto challenges = ParseWwwAuthenticate(R"(Basic realm="ecr", Bearer realm=https://r/t,service=svc)");
  ASSERT_TRUE(challenges.ok()) << challenges.status().message();
  ASSERT_EQ(challenges->size(), 2u);
  EXPECT_EQ((*challenges)[0].scheme, "basic");
  EXPECT_EQ((*challenges)[0].Param("realm"), "ecr");
  EXPECT_EQ((*challenges)[1].scheme, "bearer");
  EXPECT_EQ((*challenges)[1].Param("realm"), "https://r/t");
  EXPECT_EQ((*challenges)[1].Param("service"), "svc");
}

TEST(WwwAuthenticateTest, SchemeWithoutParameters) {
  auto challenges = ParseWwwAuthenticate("Negotiate");
  ASSERT_TRUE(challenges.ok());
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].scheme, "negotiate");
  EXPECT_TRUE((*challenges)[0].params.empty());
}

TEST(WwwAuthenticateTest, MalformedHeadersAreErrors) {
  for (const char* header : {"", "   ", R"(Bearer realm="unterminated)", R"(Bearer realm="a" junk="b")", "Bearer =x",
                             R"(Bearer realm="a";service="b")"}) {
    SCOPED_TRACE(header);
    auto challenges = ParseWwwAuthenticate(header);
    ASSERT_FALSE(challenges.ok());
    EXPECT_EQ(challenges.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(DockerConfigTest, ParsesAuthsWithAuthAndUsernamePassword) {
  // "alice:s3cr:et" (the password holds a colon) and username/password fields.
  auto config = DockerConfig::Parse(R"({"auths": {
      "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcjpldA=="},
      "Registry.Example.com:5000": {"username": "bob", "password": "pw"},
      "ghcr.io": {"identitytoken": "only-a-token"}
    }, "credsStore": "desktop"})",
                                    "test.json");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->size(), 2u);
  for (const char* host : {"index.docker.io", "docker.io", "registry-1.docker.io"}) {
    auto credential = config->Find(host);
    ASSERT_TRUE(credential.has_value()) << host;
    EXPECT_EQ(credential->username, "alice");
    EXPECT_EQ(credential->password, "s3cr:et");
  }
  auto bob = config->Find("registry.example.com:5000");
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->AuthorizationHeader(), "Basic Ym9iOnB3");
  EXPECT_FALSE(config->Find("registry.example.com").has_value());  // the port is part of the key
  EXPECT_FALSE(config->Find("ghcr.io").has_value());
}

TEST(DockerConfigTest, LegacyDockercfgFormat) {
  auto config = DockerConfig::Parse(R"({"quay.io": {"auth": "dTpw"}})", "legacy");
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto credential = config->Find("https://quay.io");
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->username, "u");
  EXPECT_EQ(credential->password, "p");
}

TEST(DockerConfigTest, ErrorsNameTheEntryButNeverTheSecret) {
  struct Case {
    std::string json, message_part;
  };
  const std::vector<Case> cases = {
      {"not json", "not valid JSON"},
      {"[]", "JSON object"},
      {R"({"auths": []})", "\"auths\" must be an object"},
      {R"({"auths": {"h": {"auth": "!!secret!!"}}})", "entry \"h\": \"auth\" is not valid base64"},
      {R"({"auths": {"h": {"auth": "c2VjcmV0cGFzcw=="}}})", "does not decode to user:password"},
      {R"({"auths": {"h": {"auth": 5}}})", "must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    auto config = DockerConfig::Parse(c.json, "cfg.json");
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.status().message().find("cfg.json"), std::string::npos);
    EXPECT_NE(config.status().message().find(c.message_part), std::string::npos) << config.status().message();
    EXPECT_EQ(config.status().message().find("secret"), std::string::npos) << config.status().message();
  }
  auto missing = DockerConfig::LoadFile("/nonexistent/config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/config.json"), std::string::npos);
}

TEST(RegistryHostTest, NormalisesKeysLikeDocker) {
  EXPECT_EQ(NormalizeRegistryHost("https://index.docker.io/v1/"), "index.docker.io");
  EXPECT_EQ(NormalizeRegistryHost("docker.io"), "index.docker.io");
  EXPECT_EQ(NormalizeRegistryHost("HTTP://Host.Example:5000/v2/"), "host.example:5000");
  EXPECT_EQ(NormalizeRegistryHost("ghcr.io"), "ghcr.io");
}

TEST(EcrHostTest, RecognisesEcrHostsOfAllPartitions) {
  struct Case {
    std::string host, account, region;
    bool fips;
  };
  const std::vector<Case> cases = {
      {"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "eu-west-1", false},
      {"123456789012.dkr.ecr.eu-west-1.amazonaws.com:443", "123456789012", "eu-west-1", false},
      {"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", true},
      {"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", false},
      {"123456789012.dkr-ecr.us-east-1.on.aws", "123456789012", "us-east-1", false},
      {"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.host);
    auto ecr = MatchEcrHost(c.host);
    ASSERT_TRUE(ecr.has_value());
    EXPECT_EQ(ecr->account_id, c.account);
    EXPECT_EQ(ecr->region, c.region);
    EXPECT_EQ(ecr->fips, c.fips);
  }
  for (const char* host :
       {"12345678901.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.example.com", "public.ecr.aws",
        "ghcr.io", "123456789012.dkr.ecr..amazonaws.com", "x123456789012.dkr.ecr.eu-west-1.amazonaws.com"}) {
    EXPECT_FALSE(MatchEcrHost(host).has_value()) << host;
  }
}

TEST(EcrTokenSourceTest, StaticSourceReturnsItsTokenAndCountsInvalidations) {
  StaticEcrTokenSource source("QVdTOnB3");
  EcrRegistry registry{"123456789012", "eu-west-1", false};
  auto auth = source.GetAuthorization(registry, std::chrono::steady_clock::now());
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->authorization_token, "QVdTOnB3");
  source.Invalidate(registry);
  EXPECT_EQ(source.invalidations(), 1);
  StaticEcrTokenSource empty("");
  EXPECT_EQ(empty.GetAuthorization(registry, std::chrono::steady_clock::now()).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace pipeguard::registry
