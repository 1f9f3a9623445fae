// ContextSnapshot::NamespacesChangedSince: what a background audit must re-evaluate after a context change.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "pipeguard/policy/context.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

json ProfileObject(const std::string& ns, const std::string& name, const std::string& pipeline) {
  return {{"apiVersion", "pipeguard.io/v1alpha1"},
          {"kind", "PipelineSecurityProfile"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"serviceAccount", {{"name", name}}},
            {"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", pipeline}}}}}}}};
}

json NamespaceObject(const std::string& name, const std::string& mode) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", {{"pipeguard.io/mode", mode}}}}}};
}

std::shared_ptr<const ContextSnapshot> Build(const std::vector<json>& objects, Config config = DefaultConfig()) {
  ContextSnapshotBuilder builder(std::move(config));
  for (const json& object : objects) EXPECT_TRUE(builder.Add(object).ok()) << object.dump();
  return std::move(builder).Build();
}

TEST(NamespacesChangedSince, NamesOnlyTheNamespacesWhoseProfilesOrLabelsChanged) {
  const std::vector<json> before = {ProfileObject("etl", "payments", "payments"),
                                    ProfileObject("ingest", "kafka", "kafka"), NamespaceObject("etl", "enforce"),
                                    NamespaceObject("ingest", "enforce")};
  const auto older = Build(before);
  EXPECT_EQ(Build(before)->NamespacesChangedSince(*older), std::set<std::string>{});

  std::vector<json> retargeted = before;
  retargeted[0] = ProfileObject("etl", "payments", "payments-v2");  // the selector changed
  EXPECT_EQ(Build(retargeted)->NamespacesChangedSince(*older), std::set<std::string>{"etl"});

  std::vector<json> relabelled = before;
  relabelled[3] = NamespaceObject("ingest", "audit");
  EXPECT_EQ(Build(relabelled)->NamespacesChangedSince(*older), std::set<std::string>{"ingest"});

  std::vector<json> removed(before.begin() + 1, before.end());  // the etl profile deleted
  EXPECT_EQ(Build(removed)->NamespacesChangedSince(*older), std::set<std::string>{"etl"});
}

TEST(NamespacesChangedSince, AConfigurationChangeMeansEveryNamespace) {
  const auto older = Build({ProfileObject("etl", "payments", "payments")});
  Config audit_mode = DefaultConfig();
  audit_mode.mode = Mode::kAudit;
  EXPECT_EQ(Build({ProfileObject("etl", "payments", "payments")}, audit_mode)->NamespacesChangedSince(*older),
            std::nullopt);
}

// ConfigMaps from context files decide the verdicts of the pods that mount them: compared by content, so a reload
// that builds new copies of unchanged ConfigMaps names no namespace.
TEST(NamespacesChangedSince, NamesTheNamespacesWhoseConfigMapsChanged) {
  auto config_map = [](const std::string& ns, const std::string& password) {
    return json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", "dbt-profiles"}, {"namespace", ns}}},
                {"data", {{"profiles.yml", "x: {password: " + password + "}"}}}};
  };
  auto build = [](const std::vector<json>& config_maps) {
    ContextSnapshotBuilder builder(DefaultConfig());
    for (const json& object : config_maps) EXPECT_TRUE(builder.AddConfigMap(object));
    return std::move(builder).Build();
  };
  const auto older = build({config_map("etl", "a"), config_map("ingest", "a")});
  EXPECT_EQ(build({config_map("etl", "a"), config_map("ingest", "a")})->NamespacesChangedSince(*older),
            std::set<std::string>{});
  EXPECT_EQ(build({config_map("etl", "b"), config_map("ingest", "a")})->NamespacesChangedSince(*older),
            std::set<std::string>{"etl"});
  EXPECT_EQ(build({config_map("etl", "a")})->NamespacesChangedSince(*older), std::set<std::string>{"ingest"});
  EXPECT_EQ(build({config_map("etl", "a"), config_map("ingest", "a"), config_map("web", "a")})
                ->NamespacesChangedSince(*older),
            std::set<std::string>{"web"});
}

}  // namespace
}  // namespace pipeguard::policy
