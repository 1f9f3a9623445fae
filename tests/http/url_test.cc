// http::Url: the one URL parser of the HTTP clients, against ordinary and hostile inputs.
#include "pipeguard/http/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Url, SplitsSchemeHostPortAndTarget) {
  auto url = Url::Parse("HTTPS://Registry.Corp:5000/v2/a/b?n=1&last=x%2Fy#frag");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "registry.corp");
  EXPECT_EQ(url->port, 5000);
  EXPECT_TRUE(url->explicit_port);
  EXPECT_EQ(url->target, "/v2/a/b?n=1&last=x%2Fy");  // byte-exact, fragment dropped
  EXPECT_EQ(url->Authority(), "registry.corp:5000");
  EXPECT_EQ(url->Origin(), "https://registry.corp:5000");
  EXPECT_EQ(url->Display(), "https://registry.corp:5000");
}

TEST(Url, DefaultsThePortAndTheTarget) {
  auto https = Url::Parse("https://iam.amazonaws.com");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->port, 443);
  EXPECT_FALSE(https->explicit_port);
  EXPECT_EQ(https->target, "/");
  EXPECT_EQ(https->Authority(), "iam.amazonaws.com");
  EXPECT_EQ(https->Origin(), "https://iam.amazonaws.com:443");
  auto http = Url::Parse("http://127.0.0.1?x=1");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->target, "/?x=1");
  EXPECT_EQ(http->Origin(), "http://127.0.0.1:80");
}

TEST(Url, ReadsBracketedIpv6Literals) {
  auto url = Url::Parse("http://[::1]:8080/path");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->Authority(), "[::1]:8080");
  EXPECT_EQ(url->Origin(), "http://[::1]:8080");
  auto no_port = Url::Parse("https://[2001:DB8::7]");
  ASSERT_TRUE(no_port.ok());
  EXPECT_EQ(no_port->host, "2001:db8::7");
  EXPECT_EQ(no_port->Origin(), "https://[2001:db8::7]:443");
}

TEST(Url, RefusesHostileAndMalformedInputs) {
  const std::pair<const char*, const char*> cases[] = {
      {"registry.corp/v2/", "has no scheme"},
      {"//registry.corp/v2/", "has no scheme"},
      {"://registry.corp", "has no scheme"},
      {"ftp://registry.corp", "other than http or https"},
      {"javascript://x", "other than http or https"},
      {"https://", "has no host"},
      {"https:///path", "has no host"},
      {"https://:443", "has no host"},
      {"https://user:hunter2@registry.corp/", "user information"},
      {"https://registry.corp@evil.example/", "user information"},
      {"https://x:0", "port"},
      {"https://x:65536", "port"},
      {"https://x:99999999999999999999", "port"},
      {"https://x:-1", "port"},
      {"https://x:", "port"},
      {"https://x:80:80", "two ports"},
      {"https://x:8o", "port"},
      {"http://[::1", "unterminated IPv6"},
      {"http://[::1]x", "after its IPv6 literal"},
      {"http://[]", "invalid IPv6"},
      {"http://[zz::1]", "invalid IPv6"},
      {"http://[127.0.0.1]", "invalid IPv6"},
      {"http://::1", "without brackets"},
      {"http://fe80::1:8080/", "without brackets"},
      {"http://exa_mple.com", "invalid host"},
      {"http://a b.com", "spaces or control characters"},
      {"http://example.com/\r\nHost: evil", "spaces or control characters"},
      {"", "has no scheme"},
  };
  for (const auto& [text, why] : cases) {
    auto url = Url::Parse(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(url.status().message(), HasSubstr(why)) << text;
  }
}

TEST(Url, NeverShowsCredentials) {
  auto url = Url::Parse("https://robot:s3cr3t-token@registry.corp/v2/");
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(url.status().message(), Not(HasSubstr("s3cr3t-token")));
  EXPECT_THAT(url.status().message(), Not(HasSubstr("robot")));
  EXPECT_THAT(url.status().message(), HasSubstr("https://***@registry.corp/v2/"));
  EXPECT_EQ(RedactUrl("http://a:b@c:d@host:1/x?y=@z"), "http://***@host:1/x?y=@z");
  EXPECT_EQ(RedactUrl("no-url-here"), "no-url-here");
  EXPECT_EQ(RedactUrl(std::string(300, 'a')).size(), 203u);
}

TEST(PercentEncode, KeepsUnreservedAndTheAskedForCharacters) {
  EXPECT_EQ(PercentEncode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
  EXPECT_EQ(PercentEncode("a b+c/d~e_f.g-h*"), "a%20b%2Bc%2Fd~e_f.g-h%2A");
  EXPECT_EQ(PercentEncode("/a b/", "/"), "/a%20b/");
  EXPECT_EQ(PercentEncode("\xE1\x88\xB4"), "%E1%88%B4");
  EXPECT_EQ(PercentEncode("repository:x/y:pull"), "repository%3Ax%2Fy%3Apull");
}

TEST(Url, DisplayLeavesOutPathAndQuery) {
  auto url = Url::Parse("https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=abc123");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->Display(), "https://bucket.s3.amazonaws.com");
}

}  // namespace
}  // namespace pipeguard::http
