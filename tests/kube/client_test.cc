// Pure pieces of the client: resource paths, Event construction, MicroTime, and the fake client's API semantics
// (the operator's unit tests rely on them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/fake_client.h"

namespace pipeguard::kube {
namespace {
using ::testing::HasSubstr;

TEST(ResourceTest, Paths) {
  EXPECT_EQ(resources::Pods().ObjectPath("etl", "p1"), "/api/v1/namespaces/etl/pods/p1");
  EXPECT_EQ(resources::Pods().CollectionPath(""), "/api/v1/pods");
  EXPECT_EQ(resources::ClusterRoles().ObjectPath("ignored", "admin"),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin");
  EXPECT_EQ(resources::PipelineSecurityProfiles().ObjectPath("etl", "p", "status"),
            "/apis/pipeguard.io/v1alpha1/namespaces/etl/pipelinesecurityprofiles/p/status");
  EXPECT_EQ(resources::Leases().ApiVersion(), "coordination.k8s.io/v1");
}

TEST(ClockTest, MicroTimeRoundTrip) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
  EXPECT_EQ(FormatMicroTime(t), "2023-11-14T22:13:20.123456Z");
  std::chrono::system_clock::time_point parsed;
  ASSERT_TRUE(ParseTime("2023-11-14T22:13:20.123456Z", &parsed));
  EXPECT_EQ(parsed, t);
  ASSERT_TRUE(ParseTime("2023-11-15T00:13:20.123456+02:00", &parsed));
  EXPECT_EQ(parsed, t);
  EXPECT_FALSE(ParseTime("yesterday", &parsed));
}

TEST(EventTest, BuildsSeriesLessEvent) {
  EventSpec spec;
  spec.regarding = {{"apiVersion", "pipeguard.io/v1alpha1"},
                    {"kind", "PipelineSecurityProfile"},
                    {"metadata", {{"name", "etl"}, {"namespace", "data"}, {"uid", "u-1"}}}};
  spec.type = "Warning";
  spec.reason = "DriftReverted";
  spec.action = "Reconcile";
  spec.note = std::string(2000, 'n');
  spec.reporting_instance = "operator-0";
  auto event = BuildEvent(spec, std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
  ASSERT_TRUE(event.ok()) << event.status().message();
  EXPECT_EQ((*event)["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ((*event)["metadata"]["namespace"], "data");
  EXPECT_EQ((*event)["metadata"]["name"], "etl.17979cfe362a0000");  // <name>.<hex unix ns>
  EXPECT_EQ((*event)["regarding"]["uid"], "u-1");
  EXPECT_EQ((*event)["eventTime"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ((*event)["note"].get<std::string>().size(), 1024u);
  EXPECT_FALSE(event->contains("series"));

  spec.type = "Error";
  EXPECT_THAT(BuildEvent(spec, {}).status().message(), HasSubstr("type must be"));
  spec.type = "Normal";
  spec.reason.clear();
  EXPECT_THAT(BuildEvent(spec, {}).status().message(), HasSubstr("reason is required"));
}

TEST(EventTest, TwoEventsAboutOneObjectAtTheSameInstantDoNotCollide) {
  FakeKubeClient client;
  const FakeClock clock;  // never advances: both Events carry the same timestamp
  EventSpec spec;
  spec.regarding = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                    {"kind", "ValidatingWebhookConfiguration"},
                    {"metadata", {{"name", "pg-pipeguard"}}}};
  spec.type = "Warning";
  spec.reason = "WebhookConfigurationTampered";
  spec.action = "Restore";
  spec.reporting_instance = "operator-0";
  auto first = CreateEvent(client, spec, clock);
  auto second = CreateEvent(client, spec, clock);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_NE((*first)["metadata"]["name"], (*second)["metadata"]["name"]);
  EXPECT_THAT((*first)["metadata"]["name"].get<std::string>(), ::testing::StartsWith("pg-pipeguard.17979cfe362a0000."));
  EXPECT_EQ((*first)["metadata"]["namespace"], "default");
  auto listed = client.List(resources::Events(), "default", {});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->items.size(), 2u);
}

TEST(FakeClientTest, ApplyIsIdempotentAndStatusIsASubresource) {
  FakeKubeClient client;
  const Json desired = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"data", {{"a", "1"}}}};
  auto first = client.Apply(resources::ConfigMaps(), "ns", "cm", desired, {.field_manager = "t"});
  ASSERT_TRUE(first.ok());
  auto second = client.Apply(resources::ConfigMaps(), "ns", "cm", desired, {.field_manager = "t"});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ResourceVersionOf(*first), ResourceVersionOf(*second));

  auto created = client.Create(resources::PipelineSecurityProfiles(), "ns",
                               {{"apiVersion", "pipeguard.io/v1alpha1"},
                                {"kind", "PipelineSecurityProfile"},
                                {"metadata", {{"name", "p"}}},
                                {"spec", {{"mode", "enforce"}}},
                                {"status", {{"roleArn", "ignored"}}}});
  ASSERT_TRUE(created.ok());
  auto patched = client.Patch(resources::PipelineSecurityProfiles(), "ns", "p", PatchType::kMerge,
                              {{"status", {{"observedGeneration", 1}}}}, "status");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["status"]["observedGeneration"], 1);
  EXPECT_EQ((*patched)["metadata"]["generation"], 1);
  auto spec_change = client.Patch(resources::PipelineSecurityProfiles(), "ns", "p", PatchType::kMerge,
                                  {{"spec", {{"mode", "audit"}}}, {"status", {{"observedGeneration", 7}}}});
  ASSERT_TRUE(spec_change.ok());
  EXPECT_EQ((*spec_change)["metadata"]["generation"], 2);
  EXPECT_EQ((*spec_change)["status"]["observedGeneration"], 1);  // main resource never writes status

  Json stale = *created;
  EXPECT_TRUE(IsConflict(client.Update(resources::PipelineSecurityProfiles(), "ns", stale).status()));
  EXPECT_TRUE(IsAlreadyExists(client.Create(resources::PipelineSecurityProfiles(), "ns", *created).status()));
  EXPECT_TRUE(
      IsConflict(client.Delete(resources::PipelineSecurityProfiles(), "ns", "p", {.precondition_uid = "other"})));
  EXPECT_TRUE(client.Delete(resources::PipelineSecurityProfiles(), "ns", "p").ok());
  EXPECT_TRUE(IsNotFound(client.Get(resources::PipelineSecurityProfiles(), "ns", "p").status()));
}

TEST(FakeClientTest, ListAllFollowsContinueTokens) {
  FakeKubeClient client;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        client.Create(resources::ConfigMaps(), "ns", {{"metadata", {{"name", "cm" + std::to_string(i)}}}}).ok());
  }
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "other", {{"metadata", {{"name", "x"}}}}).ok());
  auto all = client.ListAll(resources::ConfigMaps(), "ns", {.limit = 2});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 5u);
  EXPECT_EQ(client.Calls(Verb::kList), 3);
  auto everywhere = client.ListAll(resources::ConfigMaps(), "", {});
  EXPECT_EQ(everywhere->items.size(), 6u);
}

}  // namespace
}  // namespace pipeguard::kube
