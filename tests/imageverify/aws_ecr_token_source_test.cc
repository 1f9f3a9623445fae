// The ECR token source against a real moto server: SigV4-signed GetAuthorizationToken, the per-region cache,
// Invalidate, and a clear error when AWS cannot be reached.
#include "pipeguard/imageverify/aws_ecr_token_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../aws/moto_server.h"

namespace pipeguard::imageverify {
namespace {

using ::testing::HasSubstr;

// A clock fixed at a chosen time (moto's tokens expire on 2015-01-01, so tests pick a time before or after).
class FixedClock : public aws::Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now) : now_(now) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  void SleepFor(std::chrono::milliseconds) const override {}

 private:
  std::chrono::system_clock::time_point now_;
};

std::chrono::system_clock::time_point Year(int year) {
  return std::chrono::sys_days(std::chrono::year(year) / std::chrono::January / 1);
}

std::shared_ptr<aws::CredentialsProvider> TestCredentials() {
  return std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt, "static"});
}

registry::Deadline InFiveSeconds() { return std::chrono::steady_clock::now() + std::chrono::seconds(5); }

const registry::EcrRegistry kRegistry{"123456789012", "eu-west-1", false};

TEST(AwsEcrTokenSourceTest, FetchesASignedTokenCachesItUntilInvalidated) {
  auto moto = std::make_unique<aws::testing::MotoServer>();
  ASSERT_TRUE(moto->ok()) << moto->error();
  const FixedClock before_expiry(Year(2014));
  auto source = MakeAwsEcrTokenSource({moto->endpoint(), TestCredentials(), std::chrono::minutes(30), &before_expiry});
  ASSERT_TRUE(source.ok()) << source.status().message();

  auto first = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->authorization_token.empty());

  // With AWS gone, the cached token still serves; after Invalidate the source must call AWS again and fails.
  moto.reset();
  auto cached = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  ASSERT_TRUE(cached.ok()) << cached.status().message();
  EXPECT_EQ(cached->authorization_token, first->authorization_token);

  (*source)->Invalidate(kRegistry);
  auto refetched = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  ASSERT_FALSE(refetched.ok());
  EXPECT_THAT(refetched.status().message(), HasSubstr("ECR GetAuthorizationToken in eu-west-1"));
}

TEST(AwsEcrTokenSourceTest, AnExpiredTokenIsFetchedAgain) {
  auto moto = std::make_unique<aws::testing::MotoServer>();
  ASSERT_TRUE(moto->ok()) << moto->error();
  const FixedClock after_expiry(Year(2026));
  auto source = MakeAwsEcrTokenSource({moto->endpoint(), TestCredentials(), std::chrono::minutes(30), &after_expiry});
  ASSERT_TRUE(source.ok()) << source.status().message();
  ASSERT_TRUE((*source)->GetAuthorization(kRegistry, InFiveSeconds()).ok());

  moto.reset();
  auto again = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  EXPECT_FALSE(again.ok()) << "an expired token must not be served from the cache";
}

TEST(AwsEcrTokenSourceTest, TheTokenNeverAppearsInErrors) {
  auto moto = std::make_unique<aws::testing::MotoServer>();
  ASSERT_TRUE(moto->ok()) << moto->error();
  const FixedClock before_expiry(Year(2014));
  auto source = MakeAwsEcrTokenSource({moto->endpoint(), TestCredentials(), std::chrono::minutes(30), &before_expiry});
  ASSERT_TRUE(source.ok());
  auto token = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  ASSERT_TRUE(token.ok());
  moto.reset();
  (*source)->Invalidate(kRegistry);
  auto failed = (*source)->GetAuthorization(kRegistry, InFiveSeconds());
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), ::testing::Not(HasSubstr(token->authorization_token)));
  EXPECT_THAT(failed.status().message(), ::testing::Not(HasSubstr("wJalrXUtnFEMI")));
}

TEST(AwsEcrTokenSourceTest, AMalformedEndpointOverrideIsAClearError) {
  auto source = MakeAwsEcrTokenSource({"ftp://127.0.0.1:5000/path", TestCredentials()});
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("ECR endpoint override"));
}

}  // namespace
}  // namespace pipeguard::imageverify
