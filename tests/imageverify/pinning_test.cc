// Digest pinning for /mutate: Pin() forms and the RFC 6902 patch built from CollectImages and the verdicts.
#include "pipeguard/imageverify/pinning.h"

#include <gtest/gtest.h>

namespace pipeguard::imageverify {
namespace {

using nlohmann::json;

const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOther = "sha256:" + std::string(64, 'b');

TEST(PinTest, KeepsTheNameAsWrittenAndDropsTheTag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"python:3.11", "python@" + kDigest},
      {"python", "python@" + kDigest},
      {"docker.io/library/python:3.11", "docker.io/library/python@" + kDigest},
      {"127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app@" + kDigest},
      {"127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app@" + kDigest},
      {"123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/job:2024.1",
       "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/job@" + kDigest},
      {"app@" + kDigest, "app@" + kDigest},  // already pinned to the same digest: unchanged
      {"app:v1@" + kDigest, "app:v1@" + kDigest},
  };
  for (const auto& [image, want] : cases) {
    auto pinned = Pin(image, kDigest);
    ASSERT_TRUE(pinned.ok()) << image << ": " << pinned.status().message();
    EXPECT_EQ(*pinned, want) << image;
  }
}

TEST(PinTest, RejectsBadInput) {
  EXPECT_FALSE(Pin("app:v1", "sha256:abc").ok());
  EXPECT_FALSE(Pin("app:v1", "sha512:" + std::string(128, 'a')).ok());
  EXPECT_FALSE(Pin("UPPER/app:v1", kDigest).ok());
  auto other = Pin("app@" + kOther, kDigest);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("already pinned to another digest"), std::string::npos);
}

TEST(PinTest, EscapesJsonPointerTokens) {
  EXPECT_EQ(EscapeJsonPointerToken("pipeguard.io/mode"), "pipeguard.io~1mode");
  EXPECT_EQ(EscapeJsonPointerToken("a~b/c"), "a~0b~1c");
  EXPECT_EQ(EscapeJsonPointerToken("plain"), "plain");
}

json Pod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "extract", "namespace": "pipelines", "labels": {"pipeguard.io/pipeline": "etl"}},
    "spec": {
      "initContainers": [{"name": "init", "image": "registry.example.com/team/init:1"}],
      "containers": [
        {"name": "main", "image": "registry.example.com/team/app:1.0"},
        {"name": "sidecar", "image": "registry.example.com/team/sidecar:2"},
        {"name": "pinned", "image": "registry.example.com/team/pinned@)" +
                     kOther + R"("}
      ],
      "ephemeralContainers": [{"name": "debug", "image": "registry.example.com/team/debug:3"}]
    }})");
}

TEST(DigestPinPatchTest, PinsOnlyVerifiedTagReferences) {
  const json pod = Pod();
  ImageVerdicts verdicts;
  verdicts["registry.example.com/team/init:1"] = {true, kDigest, ""};
  verdicts["registry.example.com/team/app:1.0"] = {true, kDigest, ""};
  verdicts["registry.example.com/team/sidecar:2"] = {false, kOther, "no signature found"};
  verdicts["registry.example.com/team/pinned@" + kOther] = {true, kOther, ""};
  verdicts["registry.example.com/team/debug:3"] = {true, kOther, ""};

  const json patch = DigestPinPatch(pod, verdicts);
  ASSERT_TRUE(patch.is_array());
  ASSERT_EQ(patch.size(), 3u) << patch.dump(2);
  const json patched = pod.patch(patch);  // applies cleanly
  EXPECT_EQ(patched["spec"]["initContainers"][0]["image"], "registry.example.com/team/init@" + kDigest);
  EXPECT_EQ(patched["spec"]["containers"][0]["image"], "registry.example.com/team/app@" + kDigest);
  EXPECT_EQ(patched["spec"]["containers"][1]["image"], "registry.example.com/team/sidecar:2");  // not verified
  EXPECT_EQ(patched["spec"]["containers"][2]["image"], "registry.example.com/team/pinned@" + kOther);
  EXPECT_EQ(patched["spec"]["ephemeralContainers"][0]["image"], "registry.example.com/team/debug@" + kOther);
  for (const auto& op : patch) EXPECT_EQ(op["op"], "replace");
}

TEST(DigestPinPatchTest, ImagesWithoutVerdictsAreUntouched) {
  EXPECT_TRUE(DigestPinPatch(Pod(), ImageVerdicts{}).empty());
}

TEST(DigestPinPatchTest, SparkApplicationImages) {
  const json app = json::parse(R"({
    "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
    "metadata": {"name": "etl", "namespace": "spark"},
    "spec": {"image": "registry.example.com/spark/etl:3.5",
             "driver": {"image": "registry.example.com/spark/driver:3.5"},
             "executor": {"cores": 2}}})");
  ImageVerdicts verdicts;
  verdicts["registry.example.com/spark/etl:3.5"] = {true, kDigest, ""};
  verdicts["registry.example.com/spark/driver:3.5"] = {true, kOther, ""};
  const json patched = app.patch(DigestPinPatch(app, verdicts));
  EXPECT_EQ(patched["spec"]["image"], "registry.example.com/spark/etl@" + kDigest);
  EXPECT_EQ(patched["spec"]["driver"]["image"], "registry.example.com/spark/driver@" + kOther);
}

TEST(DigestPinPatchTest, PathsAreUsedAsEscapedPointersAndMustNameTheImage) {
  // A key with '/' and '~' appears escaped in the pointer (RFC 6901) and is not escaped twice.
  const json object = {{"spec", {{"odd/key~name", {{"image", "app:v1"}}}}}};
  ImageVerdicts verdicts;
  verdicts["app:v1"] = {true, kDigest, ""};
  const std::string pointer = "/spec/" + EscapeJsonPointerToken("odd/key~name") + "/image";
  const json patch = DigestPinPatch(object, {{"app:v1", pointer}}, verdicts);
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/spec/odd~1key~0name/image");
  EXPECT_EQ(object.patch(patch)["spec"]["odd/key~name"]["image"], "app@" + kDigest);

  // Refs whose path does not resolve to exactly that image (stale, invalid) produce no operation.
  EXPECT_TRUE(DigestPinPatch(object, {{"app:v1", "/spec/missing/image"}}, verdicts).empty());
  EXPECT_TRUE(DigestPinPatch(object, {{"app:v1", "spec/no-leading-slash"}}, verdicts).empty());
  const json other = {{"spec", {{"image", "other:v1"}}}};
  EXPECT_TRUE(DigestPinPatch(other, {{"app:v1", "/spec/image"}}, verdicts).empty());
}

}  // namespace
}  // namespace pipeguard::imageverify
