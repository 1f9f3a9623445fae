// The index of ConfigMap readers (audit/config_map_readers.h): objects that mount or read a ConfigMap are found by
// (namespace, name); an update that drops the reference, and a delete, take the object out. Then the same through
// the background audit's informers over the in-memory FakeKubeClient.
#include "pipeguard/audit/config_map_readers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "pipeguard/audit/background_audit.h"
#include "pipeguard/kube/fake_client.h"

namespace pipeguard::audit {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A pod of the payments pipeline mounting ConfigMap `config_map` (none when empty) as a volume.
json PodMounting(const std::string& ns, const std::string& name, const std::string& config_map) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
              {"spec", {{"containers", json::array({{{"name", "main"}, {"image", "registry.local/dbt:1"}}})}}}};
  if (!config_map.empty()) {
    pod["spec"]["volumes"] = json::array({{{"name", "profiles"}, {"configMap", {{"name", config_map}}}}});
  }
  return pod;
}

json DeploymentReadingEnv(const std::string& ns, const std::string& name, const std::string& config_map) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"template",
             {{"metadata", {{"labels", {{"app", "loader"}}}}},
              {"spec",
               {{"containers",
                 json::array({{{"name", "main"},
                               {"image", "registry.local/etl:1"},
                               {"envFrom", json::array({{{"configMapRef", {{"name", config_map}}}}})}}})}}}}}}}};
}

std::vector<std::string> Names(const std::vector<policy::ConfigMapReader>& readers) {
  std::vector<std::string> out;
  for (const auto& r : readers) out.push_back(r.kind + " " + r.namespace_ + "/" + r.name + " " + r.path);
  return out;
}

TEST(ConfigMapReaderIndex, FindsReadersByNamespaceAndName) {
  ConfigMapReaderIndex index;
  const json pod = PodMounting("etl", "dbt-run", "dbt-profiles");
  const json deployment = DeploymentReadingEnv("etl", "loader", "dbt-profiles");
  const json elsewhere = PodMounting("marketing", "dbt-run", "dbt-profiles");
  index.Set("pods/etl/dbt-run", &pod);
  index.Set("deployments/etl/loader", &deployment);
  index.Set("pods/marketing/dbt-run", &elsewhere);

  const auto readers = index.Readers("etl", "dbt-profiles");
  EXPECT_EQ(Names(readers), (std::vector<std::string>{
                                "Deployment etl/loader /spec/template/spec/containers/0/envFrom/0/configMapRef/name",
                                "Pod etl/dbt-run /spec/volumes/0/configMap/name"}));
  ASSERT_EQ(readers.size(), 2u);
  EXPECT_EQ(readers[1].labels.at("pipeguard.io/pipeline"), "payments");
  EXPECT_EQ(readers[0].labels.at("app"), "loader");  // the template's labels, not the Deployment's
  EXPECT_EQ(Names(index.Readers("marketing", "dbt-profiles")),
            (std::vector<std::string>{"Pod marketing/dbt-run /spec/volumes/0/configMap/name"}));
  EXPECT_TRUE(index.Readers("etl", "other").empty());
  EXPECT_EQ(index.size(), 3u);
}

TEST(ConfigMapReaderIndex, AnUpdateReplacesWhatTheObjectReadsAndADeleteRemovesIt) {
  ConfigMapReaderIndex index;
  const json pod = PodMounting("etl", "dbt-run", "dbt-profiles");
  index.Set("pods/etl/dbt-run", &pod);
  index.Set("pods/etl/dbt-run", &pod);  // offered again (a resync): still once
  EXPECT_EQ(index.Readers("etl", "dbt-profiles").size(), 1u);

  // It now mounts another ConfigMap: the old reference is gone, the new one is found.
  const json moved = PodMounting("etl", "dbt-run", "dbt-profiles-v2");
  index.Set("pods/etl/dbt-run", &moved);
  EXPECT_TRUE(index.Readers("etl", "dbt-profiles").empty());
  EXPECT_EQ(index.Readers("etl", "dbt-profiles-v2").size(), 1u);

  // It reads no ConfigMap any more.
  const json none = PodMounting("etl", "dbt-run", "");
  index.Set("pods/etl/dbt-run", &none);
  EXPECT_TRUE(index.Readers("etl", "dbt-profiles-v2").empty());
  EXPECT_EQ(index.size(), 0u);

  index.Set("pods/etl/dbt-run", &pod);
  index.Set("pods/etl/dbt-run", nullptr);  // deleted
  EXPECT_TRUE(index.Readers("etl", "dbt-profiles").empty());
  EXPECT_EQ(index.size(), 0u);
}

TEST(ConfigMapReaderIndex, ObjectsThatReadNothingOrCannotBeReadAreNotIndexed) {
  ConfigMapReaderIndex index;
  const json config_map = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", "x"}, {"namespace", "etl"}}},
                           {"data", {{"a", "b"}}}};
  json malformed = PodMounting("etl", "bad", "dbt-profiles");
  malformed["metadata"]["labels"] = "not a map";  // whether it is governed cannot be told
  const json not_json_object = json::array();
  index.Set("configmaps/etl/x", &config_map);
  index.Set("pods/etl/bad", &malformed);
  index.Set("pods/etl/odd", &not_json_object);
  EXPECT_EQ(index.size(), 0u);
}

// The background audit keeps the index from its informers: adds, updates that drop the reference, deletes.
TEST(BackgroundAuditConfigMapReaders, FollowTheCluster) {
  kube::FakeKubeClient client;
  ASSERT_TRUE(client.Create(kube::resources::Pods(), "etl", PodMounting("etl", "before", "dbt-profiles")).ok());
  policy::ContextSnapshotBuilder builder(policy::DefaultConfig());
  const auto snapshot = std::move(builder).Build();
  struct Fixed final : policy::ContextProvider {
    std::shared_ptr<const policy::ContextSnapshot> snapshot;
    std::shared_ptr<const policy::ContextSnapshot> Current() const override { return snapshot; }
  } context;
  context.snapshot = snapshot;
  const policy::Engine engine;
  BackgroundAuditOptions options;
  options.settle = 50ms;
  options.spark_applications = false;
  options.watch_timeout_seconds = 5;
  options.report_label_selector = "";
  BackgroundAudit audit(client, context, engine, ImageVerdictsForSnapshot(), options);
  EXPECT_TRUE(audit.ConfigMapReaders("etl", "dbt-profiles").empty());  // before Start
  audit.Start();

  auto wait_for = [&](const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    return done();
  };
  auto names = [&] { return Names(audit.ConfigMapReaders("etl", "dbt-profiles")); };
  ASSERT_TRUE(wait_for([&] { return names().size() == 1; })) << "the stored pod was not indexed";

  ASSERT_TRUE(client.Create(kube::resources::Pods(), "etl", PodMounting("etl", "after", "dbt-profiles")).ok());
  ASSERT_TRUE(
      client.Create(kube::resources::Deployments(), "etl", DeploymentReadingEnv("etl", "loader", "dbt-profiles")).ok());
  ASSERT_TRUE(wait_for([&] { return names().size() == 3; }));
  EXPECT_EQ(names(),
            (std::vector<std::string>{
                "Deployment etl/loader /spec/template/spec/containers/0/envFrom/0/configMapRef/name",
                "Pod etl/after /spec/volumes/0/configMap/name", "Pod etl/before /spec/volumes/0/configMap/name"}));

  // The Deployment stops reading it.
  json changed = DeploymentReadingEnv("etl", "loader", "other");
  changed["metadata"]["resourceVersion"] =
      client.Get(kube::resources::Deployments(), "etl", "loader")->at("metadata").at("resourceVersion");
  ASSERT_TRUE(client.Update(kube::resources::Deployments(), "etl", changed).ok());
  ASSERT_TRUE(wait_for([&] { return names().size() == 2; })) << ::testing::PrintToString(names());
  EXPECT_EQ(Names(audit.ConfigMapReaders("etl", "other")).size(), 1u);

  // Deleted pods leave the index.
  ASSERT_TRUE(client.Delete(kube::resources::Pods(), "etl", "before").ok());
  ASSERT_TRUE(client.Delete(kube::resources::Pods(), "etl", "after").ok());
  ASSERT_TRUE(wait_for([&] { return names().empty(); })) << ::testing::PrintToString(names());
  audit.Stop();
}

}  // namespace
}  // namespace pipeguard::audit
