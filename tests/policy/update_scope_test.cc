// UnevaluatedUpdateReason: which UPDATEs change nothing the rules read.
#include <gtest/gtest.h>

#include "pipeguard/policy/engine.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

json Pod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "etl", "labels": {"pipeguard.io/pipeline": "payments"},
                 "annotations": {"pipeguard.io/break-glass-ticket": "INC-1", "note": "a"},
                 "finalizers": ["example.com/hold"], "resourceVersion": "1", "uid": "u-1"},
    "spec": {"containers": [{"name": "c", "image": "etl:1", "env": [{"name": "DB_PASSWORD", "value": "x"}]}]},
    "status": {"phase": "Pending"}})");
}

json Patched(const json& patch) {
  json out = Pod();
  out.merge_patch(patch);
  return out;
}

struct UpdateCase {
  std::string name;
  json updated;
  bool evaluated;
};

class UpdateScopeTest : public ::testing::TestWithParam<UpdateCase> {};

TEST_P(UpdateScopeTest, SkipsOnlyWhatNoRuleReads) {
  const auto reason = UnevaluatedUpdateReason(Pod(), GetParam().updated);
  EXPECT_EQ(!reason.has_value(), GetParam().evaluated) << reason.value_or("(evaluated)");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UpdateScopeTest,
    ::testing::Values(
        UpdateCase{"identical", Pod(), false},
        UpdateCase{"finalizers_removed", Patched({{"metadata", {{"finalizers", nullptr}}}}), false},
        UpdateCase{"bookkeeping", Patched(json::parse(R"({"metadata": {"resourceVersion": "2", "generation": 3,
                     "managedFields": [{"manager": "x"}], "ownerReferences": [{"kind": "Job", "name": "j"}]}})")),
                   false},
        UpdateCase{"other_annotation", Patched({{"metadata", {{"annotations", {{"note", "b"}}}}}}), false},
        UpdateCase{"annotation_added", Patched({{"metadata", {{"annotations", {{"other", "c"}}}}}}), false},
        UpdateCase{"status", Patched({{"status", {{"phase", "Running"}}}}), false},
        UpdateCase{"null_label_map_is_absent", Patched({{"metadata", {{"annotations", {{"extra", nullptr}}}}}}), false},
        UpdateCase{"label_changed", Patched({{"metadata", {{"labels", {{"pipeguard.io/pipeline", "other"}}}}}}), true},
        UpdateCase{"label_added", Patched({{"metadata", {{"labels", {{"already_checked", "True"}}}}}}), true},
        UpdateCase{"pipeguard_annotation", Patched({{"metadata", {{"annotations", {{"pipeguard.io/x", "y"}}}}}}), true},
        UpdateCase{"annotations_malformed", Patched({{"metadata", {{"annotations", "oops"}}}}), true},
        UpdateCase{"metadata_malformed", Patched({{"metadata", "oops"}}), true},
        UpdateCase{"namespace", Patched({{"metadata", {{"namespace", "other"}}}}), true},
        UpdateCase{"spec", Patched({{"spec", {{"serviceAccountName", "x"}}}}), true},
        UpdateCase{"kind", Patched({{"kind", "Deployment"}}), true},
        UpdateCase{"new_top_level_member", Patched({{"data", {{"k", "v"}}}}), true}),
    [](const ::testing::TestParamInfo<UpdateCase>& info) { return info.param.name; });

TEST(UnevaluatedUpdateReason, AnObjectBeingDeletedMayChangeAnything) {
  json stored = Pod();
  stored["metadata"]["deletionTimestamp"] = "2026-11-26T11:00:00Z";
  json updated = stored;
  updated["spec"]["containers"][0]["image"] = "other:2";
  const auto reason = UnevaluatedUpdateReason(stored, updated);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("being deleted"), std::string::npos) << *reason;
  // Only the stored object counts: a deletionTimestamp written into the update is not a deletion.
  EXPECT_FALSE(UnevaluatedUpdateReason(Pod(), updated).has_value());
  stored["metadata"]["deletionTimestamp"] = nullptr;
  EXPECT_FALSE(UnevaluatedUpdateReason(stored, updated).has_value());
}

TEST(UnevaluatedUpdateReason, NonObjectsAreEvaluated) {
  EXPECT_FALSE(UnevaluatedUpdateReason(json(nullptr), Pod()).has_value());
  EXPECT_FALSE(UnevaluatedUpdateReason(Pod(), json::array()).has_value());
}

}  // namespace
}  // namespace pipeguard::policy
