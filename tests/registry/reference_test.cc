// ImageReference parsing, table-driven (docs: ../shared/reference/cosign-signatures.md §7.1).
#include <gtest/gtest.h>

#include "pipeguard/registry/http_registry.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

struct ValidCase {
  std::string image, registry, repository, tag, digest, string;
};

TEST(ImageReferenceTest, ParsesAndNormalises) {
  const std::vector<ValidCase> cases = {
      {"python", "index.docker.io", "library/python", "latest", "", "index.docker.io/library/python:latest"},
      {"python:3.11", "index.docker.io", "library/python", "3.11", "", "index.docker.io/library/python:3.11"},
      {"bitnami/spark:3.5", "index.docker.io", "bitnami/spark", "3.5", "", "index.docker.io/bitnami/spark:3.5"},
      {"docker.io/nginx", "index.docker.io", "library/nginx", "latest", "", "index.docker.io/library/nginx:latest"},
      {"registry-1.docker.io/a/b:c", "index.docker.io", "a/b", "c", "", "index.docker.io/a/b:c"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", "", "localhost:5000/team/app:v1"},
      {"127.0.0.1:5000/app@" + kDigest, "127.0.0.1:5000", "app", "", kDigest, "127.0.0.1:5000/app@" + kDigest},
      {"ghcr.io/org/app:v1@" + kDigest, "ghcr.io", "org/app", "v1", kDigest, "ghcr.io/org/app@" + kDigest},
      {"GHCR.io/org/app", "ghcr.io", "org/app", "latest", "", "ghcr.io/org/app:latest"},
      {"123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/job:2024-01", "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
       "etl/job", "2024-01", "", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/job:2024-01"},
      {"a/b/c/d:Tag_1.x-y", "index.docker.io", "a/b/c/d", "Tag_1.x-y", "", "index.docker.io/a/b/c/d:Tag_1.x-y"},
      {"my-app__x/z.y:sha256-abc.sig", "index.docker.io", "my-app__x/z.y", "sha256-abc.sig", "",
       "index.docker.io/my-app__x/z.y:sha256-abc.sig"},
      {"[::1]:5000/app:1", "[::1]:5000", "app", "1", "", "[::1]:5000/app:1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.image);
    auto ref = ImageReference::Parse(c.image);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_EQ(ref->registry, c.registry);
    EXPECT_EQ(ref->repository, c.repository);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest, c.digest);
    EXPECT_EQ(ref->String(), c.string);
  }
}

struct InvalidCase {
  std::string image, message_part;
};

TEST(ImageReferenceTest, RejectsMalformedReferencesWithClearErrors) {
  const std::vector<InvalidCase> cases = {
      {"", "is empty"},
      {"app name", "whitespace"},
      {"App", "must be lowercase"},
      {"ghcr.io/Org/app", "must be lowercase"},
      {"app@sha256:abc", "64 lowercase hex"},
      {"app@sha256:" + std::string(64, 'A'), "64 lowercase hex"},
      {"app@sha512:" + std::string(128, 'a'), "only sha256"},
      {"app@latest", "digest"},
      {"app:", "tag"},
      {"app:-x", "tag"},
      {"app:" + std::string(129, 'a'), "tag"},
      {"a//b", "path component"},
      {"a/-b", "path component"},
      {"a/b-", "path component"},
      {"a/b..c", "path component"},
      {"a/b___c", "path component"},
      {"host:99999/app", "registry host"},
      {"host:/app", "registry host"},
      {"-bad.host/app", "registry host"},
      {"my_app.io/x", "registry host"},
      {"ghcr.io/", "repository name is empty"},
      {"ghcr.io/" + std::string(256, 'a'), "longer than 255"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.image);
    auto ref = ImageReference::Parse(c.image);
    ASSERT_FALSE(ref.ok());
    EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ref.status().message().find(c.message_part), std::string::npos) << ref.status().message();
  }
}

TEST(ImageReferenceTest, WithDigestKeepsRepositoryAndTag) {
  auto ref = ImageReference::Parse("ghcr.io/org/app:v1");
  ASSERT_TRUE(ref.ok());
  ImageReference pinned = ref->WithDigest(kDigest);
  EXPECT_EQ(pinned.String(), "ghcr.io/org/app@" + kDigest);
  EXPECT_EQ(pinned.tag, "v1");
  EXPECT_EQ(ref->digest, "");
}

TEST(DigestTest, Sha256DigestAndValidation) {
  EXPECT_EQ(Sha256Digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(IsValidSha256Digest(Sha256Digest("abc")));
  EXPECT_FALSE(IsValidSha256Digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(IsValidSha256Digest("sha256:" + std::string(64, 'g')));
  EXPECT_FALSE(IsValidSha256Digest("SHA256:" + std::string(64, 'a')));
}

}  // namespace
}  // namespace pipeguard::registry
