// http::PlanRedirect and ResolveLocation: the redirect rules, one hop at a time, with hostile Locations.
#include "pipeguard/http/redirect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Url MustParse(std::string_view text) {
  auto url = Url::Parse(text);
  EXPECT_TRUE(url.ok()) << url.status().message();
  return url.ok() ? *url : Url{};
}

TEST(Redirect, OnlyTheFiveRedirectStatusesAreRedirects) {
  for (int status : {301, 302, 303, 307, 308}) EXPECT_TRUE(IsRedirect(status)) << status;
  for (int status : {200, 300, 304, 305, 306, 309, 404}) EXPECT_FALSE(IsRedirect(status)) << status;
  auto step = PlanRedirect(MustParse("https://r.corp/v2/"), 304, "/elsewhere", "GET", "");
  ASSERT_FALSE(step.ok());
  EXPECT_THAT(step.status().message(), HasSubstr("not a redirect"));
}

TEST(Redirect, ResolvesEveryLocationFormAgainstTheAnsweringUrl) {
  const Url base = MustParse("https://r.corp:5000/v2/app/blobs/sha256:ab?x=1");
  struct Case {
    std::string_view location, origin, target;
  } cases[] = {
      {"https://s3.aws.example/bucket/key?X-Amz-Signature=ab", "https://s3.aws.example:443",
       "/bucket/key?X-Amz-Signature=ab"},
      {"//cdn.corp/blob", "https://cdn.corp:443", "/blob"},
      {"/v2/other", "https://r.corp:5000", "/v2/other"},
      {"?page=2", "https://r.corp:5000", "/v2/app/blobs/sha256:ab?page=2"},
      {"data/1", "https://r.corp:5000", "/v2/app/blobs/data/1"},
      {"/frag#ignored", "https://r.corp:5000", "/frag"},
  };
  for (const auto& c : cases) {
    auto url = ResolveLocation(base, c.location);
    ASSERT_TRUE(url.ok()) << c.location << ": " << url.status().message();
    EXPECT_EQ(url->Origin(), c.origin) << c.location;
    EXPECT_EQ(url->target, c.target) << c.location;
  }
}

TEST(Redirect, RestoresPresignedQueryBytesThatHttplibDecoded) {
  // The server sent sig=a%2Fb%3D; cpp-httplib hands us "sig=a/b=". The signature must go back byte-exact.
  auto url = ResolveLocation(MustParse("https://r.corp/v2/"), "https://s3.corp/k?sig=a/b=&X-Amz-Date=20261206T000000Z");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->target, "/k?sig=a%2Fb%3D&X-Amz-Date=20261206T000000Z");
}

TEST(Redirect, RefusesBadLocationsWithoutShowingThem) {
  const Url base = MustParse("https://r.corp/v2/");
  for (std::string_view location :
       {std::string_view(""), std::string_view("https://r.corp\r\nSet-Cookie: x/"),
        std::string_view("https://r .corp/"), std::string_view("https://user:hunter2@evil.corp/"),
        std::string_view("ftp://r.corp/x"), std::string_view("https://r.corp:99999/")}) {
    auto step = PlanRedirect(base, 302, location, "GET", "https://r.corp:443");
    ASSERT_FALSE(step.ok()) << location;
    EXPECT_THAT(step.status().message(), HasSubstr("bad redirect")) << location;
    EXPECT_THAT(step.status().message(), Not(HasSubstr("hunter2")));
  }
}

TEST(Redirect, BytesThatHttplibDecodedInThePathAreSentEncodedNeverRaw) {
  // "/a%20b" arrives as "/a b", "/x%0D%0ASet-Cookie" as a CR LF: both go back encoded, so no header can be injected.
  auto spaced = PlanRedirect(MustParse("https://r.corp/v2/"), 302, "/a b", "GET", "");
  ASSERT_TRUE(spaced.ok()) << spaced.status().message();
  EXPECT_EQ(spaced->next.target, "/a%20b");
  auto injected = PlanRedirect(MustParse("https://r.corp/v2/"), 302, "/x\r\nSet-Cookie: y", "GET", "");
  ASSERT_TRUE(injected.ok()) << injected.status().message();
  EXPECT_EQ(injected->next.target, "/x%0D%0ASet-Cookie:%20y");
}

TEST(Redirect, NeverDowngradesHttpsToHttp) {
  auto step = PlanRedirect(MustParse("https://r.corp/v2/"), 307, "http://r.corp/v2/", "GET", "");
  ASSERT_FALSE(step.ok());
  EXPECT_THAT(step.status().message(), HasSubstr("TLS downgrade"));
  // Plain HTTP to HTTPS is an upgrade and fine (loopback test registries are plain HTTP).
  EXPECT_TRUE(PlanRedirect(MustParse("http://127.0.0.1:5000/v2/"), 307, "https://s3.corp/k", "GET", "").ok());
}

TEST(Redirect, SeeOtherBecomesGetAndTheOthersKeepTheMethod) {
  const Url base = MustParse("https://r.corp/v2/app/blobs/uploads/");
  for (int status : {301, 302, 307, 308}) {
    auto step = PlanRedirect(base, status, "/v2/next", "HEAD", "");
    ASSERT_TRUE(step.ok()) << status;
    EXPECT_EQ(step->method, "HEAD") << status;
  }
  auto see_other = PlanRedirect(base, 303, "/v2/next", "HEAD", "");
  ASSERT_TRUE(see_other.ok());
  EXPECT_EQ(see_other->method, "GET");
}

TEST(Redirect, CredentialsGoOnlyToTheOriginTheyWereIssuedFor) {
  const Url base = MustParse("https://r.corp/v2/app/blobs/sha256:ab");
  const std::string origin = base.Origin();
  struct Case {
    std::string_view location;
    bool allowed;
  } cases[] = {
      {"/v2/app/blobs/other", true},
      {"https://r.corp:443/elsewhere", true},  // the same origin, written with its default port
      {"https://r.corp:8443/v2/", false},      // another port is another server
      {"https://storage.corp/blob", false},
      {"https://r.corp.evil.example/v2/", false},
  };
  for (const auto& c : cases) {
    auto step = PlanRedirect(base, 302, c.location, "GET", origin);
    ASSERT_TRUE(step.ok()) << c.location << ": " << step.status().message();
    EXPECT_EQ(step->credentials_allowed, c.allowed) << c.location;
  }
  // Without credentials there is nothing to forward.
  auto none = PlanRedirect(base, 302, "/v2/app/blobs/other", "GET", "");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->credentials_allowed);
}

TEST(Redirect, TheLimitMessageNamesTheLimit) {
  EXPECT_THAT(RedirectLimitError(5).message(), HasSubstr("more than 5 redirects"));
}

}  // namespace
}  // namespace pipeguard::http
