// The validating handler with the real engine and the test context, and the verdict-to-reply mapping.
#include "pipeguard/webhook/handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/file_context_provider.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::DataPath;
using testing::MakeReview;
using testing::ReadJson;
using testing::SecretPod;

using testing::StaticContext;

constexpr std::int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z

class ValidatingHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    context_ = std::make_unique<StaticContext>(std::move(snapshot).value());
    handler_ = MakeValidatingHandler(engine_, *context_, [] { return kNow; });
  }

  AdmissionReply Review(const json& object, const std::string& ns, const std::string& operation = "CREATE",
                        const std::string& user = "alice", const std::vector<std::string>& groups = {}) {
    auto request = ParseAdmissionReview(MakeReview(object, ns, "uid-" + ns, operation, user, groups).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler_(*request);
  }

  policy::Engine engine_;
  std::unique_ptr<StaticContext> context_;
  AdmissionHandler handler_;
};

bool HasFinding(const AdmissionReply& reply, const std::string& rule, const std::string& path) {
  for (const auto& f : reply.findings) {
    if (f.rule == rule && f.path == path) return true;
  }
  return false;
}

TEST_F(ValidatingHandlerTest, CleanGovernedPodIsAllowed) {
  const AdmissionReply reply = Review(ReadJson(DataPath("pods/clean_kpo_pod.json")), "etl");
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.uid, "uid-etl");
  EXPECT_TRUE(reply.evaluated);
  EXPECT_TRUE(reply.governed);
  EXPECT_EQ(reply.mode, "enforce");
  EXPECT_TRUE(reply.findings.empty());
  EXPECT_TRUE(reply.warnings.empty());
  EXPECT_EQ(reply.profiles, std::vector<std::string>{"etl/nightly-sales"});
  EXPECT_EQ(reply.audit_annotations.at("decision"), "allowed");
  EXPECT_EQ(reply.audit_annotations.at("governed"), "true");
}

TEST_F(ValidatingHandlerTest, PlaintextSecretsAreDeniedWithRuleIdsPathsAndFix) {
  const AdmissionReply reply = Review(SecretPod(), "etl");
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.decision, Decision::kDenied);
  EXPECT_EQ(reply.code, 403);
  // env[3] is AWS_SECRET_ACCESS_KEY (the clean pod has three env vars), env[5] GITHUB_TOKEN.
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/spec/containers/0/env/3/value"));
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/spec/containers/0/env/5/value"));
  EXPECT_NE(reply.message.find("plaintext-secret at /spec/containers/0/env/3/value"), std::string::npos)
      << reply.message;
  EXPECT_NE(reply.message.find("pipeguard denied Pod etl/sales-load-secret"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("secretKeyRef"), std::string::npos) << reply.message;
  EXPECT_EQ(reply.audit_annotations.at("decision"), "denied");
  EXPECT_NE(reply.audit_annotations.at("rules").find("plaintext-secret"), std::string::npos);
}

TEST_F(ValidatingHandlerTest, AuditModeAllowsWithShortWarnings) {
  const AdmissionReply reply = Review(SecretPod(), "etl-audit");
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.mode, "audit");
  ASSERT_FALSE(reply.warnings.empty());
  EXPECT_LE(reply.warnings.size(), kMaxWarnings);
  for (const auto& w : reply.warnings) EXPECT_LE(w.size(), kMaxWarningChars) << w;
  EXPECT_EQ(reply.warnings[0].rfind("pipeguard audit (would deny): ", 0), 0u) << reply.warnings[0];
  EXPECT_EQ(reply.audit_annotations.at("mode"), "audit");
  EXPECT_EQ(reply.audit_annotations.at("decision"), "allowed");
}

// docs/configuration.md: the verdict records where its mode came from, in the auditAnnotations and the audit log.
TEST_F(ValidatingHandlerTest, AuditAnnotationsAndAuditLineSayWhereTheModeCameFrom) {
  const AdmissionReply from_label = Review(SecretPod(), "etl-audit");
  EXPECT_EQ(from_label.audit_annotations.at("mode-source"), "namespace etl-audit");
  auto request = ParseAdmissionReview(MakeReview(SecretPod(), "etl-audit", "uid-audit").dump());
  ASSERT_TRUE(request.ok());
  const json line =
      json::parse(FormatAuditLine(*request, from_label, "validate", 1.0, std::chrono::system_clock::now()));
  EXPECT_EQ(line["mode"], "audit");
  EXPECT_EQ(line["mode_source"], "namespace etl-audit");

  const AdmissionReply from_config = Review(SecretPod(), "etl");
  EXPECT_EQ(from_config.audit_annotations.at("mode"), "enforce");
  EXPECT_EQ(from_config.audit_annotations.at("mode-source"), "config");
  // The denial message states it too.
  EXPECT_NE(from_config.message.find("(mode enforce from config; profile etl/"), std::string::npos)
      << from_config.message;
}

TEST_F(ValidatingHandlerTest, UngovernedPodIsAllowedWithoutFindings) {
  json pod = SecretPod();
  pod["metadata"]["labels"] = {{"app", "web"}};
  const AdmissionReply reply = Review(pod, "etl");
  EXPECT_TRUE(reply.allowed);
  EXPECT_TRUE(reply.evaluated);
  EXPECT_FALSE(reply.governed);
  EXPECT_TRUE(reply.findings.empty());
  EXPECT_EQ(reply.audit_annotations.at("governed"), "false");
}

TEST_F(ValidatingHandlerTest, MalformedGovernedPodIsDeniedNamingTheField) {
  json pod = SecretPod();
  json env_as_object = json::object();
  for (const auto& var : pod["spec"]["containers"][0]["env"]) {
    if (var.contains("value")) env_as_object[var["name"].get<std::string>()] = var["value"];
  }
  pod["spec"]["containers"][0]["env"] = env_as_object;  // a map instead of a list of {name, value}
  const AdmissionReply reply = Review(pod, "etl");
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.decision, Decision::kDenied);
  EXPECT_TRUE(reply.governed);
  EXPECT_TRUE(HasFinding(reply, "malformed-object", "/spec/containers/0/env"));
  EXPECT_NE(reply.message.find("malformed-object at /spec/containers/0/env: is an object where Kubernetes defines a "
                               "list"),
            std::string::npos)
      << reply.message;
  for (const auto& secret : testing::PlantedSecrets()) {
    EXPECT_EQ(reply.message.find(secret.value), std::string::npos) << secret.env_name;
  }
}

TEST_F(ValidatingHandlerTest, GovernedPodWithoutKindIsDeniedAsTheRequestKind) {
  json pod = SecretPod();
  pod.erase("kind");
  json review = MakeReview(pod, "etl", "uid-nokind");
  review["request"]["kind"]["kind"] = "Pod";  // the API server names the kind in the request
  auto request = ParseAdmissionReview(review.dump());
  ASSERT_TRUE(request.ok()) << request.status().message();
  const AdmissionReply reply = handler_(*request);
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasFinding(reply, "malformed-object", "/kind"));
  EXPECT_NE(reply.message.find("is missing where Kubernetes defines \"Pod\""), std::string::npos) << reply.message;
}

TEST_F(ValidatingHandlerTest, DeleteIsAllowedWithoutEvaluation) {
  const AdmissionReply reply = Review(SecretPod(), "etl", "DELETE");
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  EXPECT_EQ(reply.audit_annotations.at("evaluated"), "false");
}

TEST_F(ValidatingHandlerTest, StatusSubresourceUpdatesAreNotEvaluated) {
  auto request = ParseAdmissionReview(MakeReview(SecretPod(), "etl", "u-status", "UPDATE").dump());
  ASSERT_TRUE(request.ok());
  request->sub_resource = "status";
  const AdmissionReply reply = handler_(*request);
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  request->sub_resource = "";
  request->old_object = ReadJson(DataPath("pods/clean_kpo_pod.json"));  // the update adds the secrets
  EXPECT_FALSE(handler_(*request).allowed);  // the same UPDATE of the main resource is denied
}

// --- updates that change nothing the rules read ------------------------------------------------------------------

json WithMetadata(json object, const json& metadata_patch) {
  object["metadata"].merge_patch(metadata_patch);
  return object;
}

AdmissionRequest UpdateRequest(const json& old_object, const json& object, const std::string& uid) {
  json review = MakeReview(object, "etl", uid, "UPDATE");
  review["request"]["oldObject"] = old_object;
  auto request = ParseAdmissionReview(review.dump());
  EXPECT_TRUE(request.ok()) << request.status().message();
  return request.ok() ? *request : AdmissionRequest{};
}

TEST_F(ValidatingHandlerTest, FinalizerRemovalFromANonCompliantObjectIsAllowedUnevaluated) {
  // A pod stored with secrets (e.g. before pipeguard was installed) loses a finalizer: resourceVersion,
  // managedFields and an unrelated annotation change too. Nothing the rules read changed.
  const json stored = WithMetadata(SecretPod(), {{"finalizers", {"example.com/hold"}},
                                                 {"resourceVersion", "41"},
                                                 {"annotations", {{"kubectl.kubernetes.io/last-applied", "a"}}}});
  const json updated = WithMetadata(SecretPod(), {{"resourceVersion", "42"},
                                                  {"managedFields", json::array({{{"manager", "kubectl"}}})},
                                                  {"annotations", {{"kubectl.kubernetes.io/last-applied", "b"}}}});
  const AdmissionReply reply = handler_(UpdateRequest(stored, updated, "u-fin"));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  EXPECT_TRUE(reply.findings.empty());
  EXPECT_NE(reply.not_evaluated_reason.find("only metadata that no rule reads changed"), std::string::npos)
      << reply.not_evaluated_reason;
  EXPECT_EQ(reply.audit_annotations.at("evaluated"), "false");
  EXPECT_EQ(reply.audit_annotations.at("not-evaluated"), reply.not_evaluated_reason);
  // The audit log records it as not evaluated, with the reason.
  const json line = json::parse(FormatAuditLine(UpdateRequest(stored, updated, "u-fin"), reply, "validate", 1.0,
                                                std::chrono::system_clock::now()));
  EXPECT_EQ(line["evaluated"], false);
  EXPECT_EQ(line["not_evaluated"], reply.not_evaluated_reason);
}

TEST_F(ValidatingHandlerTest, UpdatesChangingWhatTheRulesReadAreEvaluated) {
  const json stored = SecretPod();
  struct Change {
    std::string what;
    json updated;
  };
  json spec_changed = SecretPod();
  spec_changed["spec"]["containers"][0]["image"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl:2";
  json status_and_spec = spec_changed;
  status_and_spec["status"] = {{"phase", "Running"}};
  const std::vector<Change> changes = {
      {"a label", WithMetadata(SecretPod(), {{"labels", {{"already_checked", "True"}}}})},
      {"a pipeguard.io annotation",
       WithMetadata(SecretPod(), {{"annotations", {{"pipeguard.io/break-glass-ticket", "X"}}}})},
      {"the spec", spec_changed},
      {"the spec along with the status", status_and_spec},
      {"the kind",
       [] {
         json o = SecretPod();
         o.erase("kind");
         return o;
       }()},
  };
  for (const auto& change : changes) {
    const AdmissionReply reply = handler_(UpdateRequest(stored, change.updated, "u-change"));
    EXPECT_TRUE(reply.evaluated) << change.what;
    EXPECT_FALSE(reply.allowed) << change.what;
    EXPECT_TRUE(reply.not_evaluated_reason.empty()) << change.what;
  }
}

TEST_F(ValidatingHandlerTest, UpdateWithoutTheStoredObjectIsEvaluated) {
  auto request = ParseAdmissionReview(MakeReview(SecretPod(), "etl", "u-noold", "UPDATE").dump());
  ASSERT_TRUE(request.ok());
  request->old_object = nullptr;  // fail closed: nothing to compare with
  const AdmissionReply reply = handler_(*request);
  EXPECT_TRUE(reply.evaluated);
  EXPECT_FALSE(reply.allowed);
}

TEST_F(ValidatingHandlerTest, AnyUpdateOfAnObjectBeingDeletedIsAllowedUnevaluated) {
  const json stored =
      WithMetadata(SecretPod(), {{"deletionTimestamp", "2027-01-15T07:59:00Z"}, {"finalizers", {"example.com/hold"}}});
  json updated = WithMetadata(SecretPod(), {{"deletionTimestamp", "2027-01-15T07:59:00Z"}});
  updated["spec"]["containers"][0]["image"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl:2";
  const AdmissionReply reply = handler_(UpdateRequest(stored, updated, "u-deleting"));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  EXPECT_NE(reply.not_evaluated_reason.find("being deleted"), std::string::npos) << reply.not_evaluated_reason;
  // A deletionTimestamp only in the new object (the API server would not store it) does not count.
  const AdmissionReply forged = handler_(UpdateRequest(SecretPod(), updated, "u-forged"));
  EXPECT_TRUE(forged.evaluated);
  EXPECT_FALSE(forged.allowed);
}

// A PipelineSecurityProfile stored before the platform's guardrails were tightened: the engine's profile check (the
// guardrails) now rejects it. The operator's finalizer changes are admitted; a change of its spec is not.
TEST(ValidatingHandler, ProfileBreakingTheGuardrailsCanLoseItsFinalizerButNotChangeItsSpec) {
  auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  StaticContext context(std::move(snapshot).value());
  const policy::Engine engine([](const api::ParsedProfile& profile) {
    std::vector<policy::ProfileProblem> problems;
    if (profile.aws) problems.push_back({"/spec/aws/s3/0/bucket", "bucket not allowed"});
    return problems;
  });
  const AdmissionHandler handler = MakeValidatingHandler(engine, context, [] { return kNow; });
  const json profile = {
      {"apiVersion", "pipeguard.io/v1alpha1"},
      {"kind", "PipelineSecurityProfile"},
      {"metadata", {{"name", "legacy"}, {"namespace", "etl"}, {"finalizers", {"pipeguard.io/iam-role"}}}},
      {"spec",
       {{"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", "legacy"}}}}},
        {"serviceAccount", {{"name", "legacy"}}},
        {"aws", {{"s3", json::array({{{"bucket", "finance-prod-ledger"}, {"access", "read"}}})}}}}}};
  auto review = [&](const json& old_object, const json& object, const std::string& operation) {
    json r = MakeReview(object, "etl", "u-profile", operation);
    r["request"]["oldObject"] = old_object;
    auto request = ParseAdmissionReview(r.dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler(*request);
  };
  EXPECT_FALSE(review(nullptr, profile, "CREATE").allowed);  // the guardrails deny it today

  json deleting = profile;
  deleting["metadata"]["deletionTimestamp"] = "2027-01-15T07:59:00Z";
  json released = deleting;
  released["metadata"]["finalizers"] = json::array();
  const AdmissionReply removal = review(deleting, released, "UPDATE");  // the operator's finalizer removal
  EXPECT_TRUE(removal.allowed) << removal.message;
  EXPECT_FALSE(removal.evaluated);

  json no_finalizer = profile;
  no_finalizer["metadata"].erase("finalizers");
  EXPECT_TRUE(review(profile, no_finalizer, "UPDATE").allowed);  // removed by hand before deleting
  EXPECT_TRUE(review(no_finalizer, profile, "UPDATE").allowed);  // the operator adding its finalizer

  json wider = profile;
  wider["spec"]["aws"]["s3"].push_back({{"bucket", "finance-prod-payroll"}, {"access", "read"}});
  const AdmissionReply widened = review(profile, wider, "UPDATE");
  EXPECT_FALSE(widened.allowed);
  EXPECT_TRUE(widened.evaluated);
  EXPECT_TRUE(HasFinding(widened, "profile-guardrail", "/spec/aws/s3/0/bucket"));
}

TEST_F(ValidatingHandlerTest, BreakGlassHonouredRecordsTheTicketRefusedSaysWhy) {
  json pod = SecretPod();
  pod["metadata"]["annotations"] = {{"pipeguard.io/break-glass-rules", "plaintext-secret"},
                                    {"pipeguard.io/break-glass-ticket", "INC-4711"},
                                    {"pipeguard.io/break-glass-expires", "2027-01-16T08:00:00Z"}};
  const AdmissionReply refused = Review(pod, "etl", "CREATE", "mallory", {"team-data"});
  EXPECT_FALSE(refused.allowed);
  EXPECT_FALSE(refused.break_glass_ticket.has_value());

  const AdmissionReply waived = Review(pod, "etl", "CREATE", "oncall", {"pipeguard:break-glass"});
  EXPECT_TRUE(waived.allowed);
  EXPECT_EQ(waived.break_glass_ticket, "INC-4711");
  EXPECT_EQ(waived.audit_annotations.at("break-glass-ticket"), "INC-4711");
  ASSERT_FALSE(waived.warnings.empty());
  EXPECT_EQ(waived.warnings[0].rfind("pipeguard break-glass waived: plaintext-secret", 0), 0u) << waived.warnings[0];

  // A refused request says why in its warning (the break-glass finding's message), not only where.
  EXPECT_THAT(refused.warnings,
              ::testing::Contains("pipeguard warning: break-glass at /metadata/annotations/pipeguard.io~1break-glass-"
                                  "rules: break-glass not honoured: requester \"mallory\" is not in a break-glass "
                                  "group (see docs/break-glass.md)"));

  pod["metadata"]["annotations"].erase("pipeguard.io/break-glass-ticket");
  const AdmissionReply no_ticket = Review(pod, "etl", "CREATE", "oncall", {"pipeguard:break-glass"});
  EXPECT_FALSE(no_ticket.allowed);
  ASSERT_FALSE(no_ticket.warnings.empty());
  EXPECT_NE(no_ticket.warnings[0].find("set all three annotations"), std::string::npos) << no_ticket.warnings[0];
  for (const auto& w : no_ticket.warnings) EXPECT_LE(w.size(), kMaxWarningChars) << w;
}

TEST(ValidatingHandler, WithoutASnapshotFailsClosedWith503) {
  StaticContext empty(nullptr);
  policy::Engine engine;
  AdmissionHandler handler = MakeValidatingHandler(engine, empty);
  auto request = ParseAdmissionReview(MakeReview(ReadJson(DataPath("pods/clean_kpo_pod.json")), "etl", "u").dump());
  ASSERT_TRUE(request.ok());
  const AdmissionReply reply = handler(*request);
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.code, 503);
  EXPECT_EQ(reply.decision, Decision::kError);
}

TEST(MutatingHandler, AllowsWithoutPatch) {
  AdmissionRequest request;
  request.uid = "m1";
  const AdmissionReply reply = MakeMutatingHandler()(request);
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.uid, "m1");
  EXPECT_FALSE(reply.json_patch.has_value());
}

policy::Verdict ManyViolations(policy::Mode mode, int count) {
  policy::Verdict verdict;
  verdict.governed = true;
  verdict.mode = mode;
  verdict.mode_source = "config";
  for (int i = 0; i < count; ++i) {
    policy::Violation v;
    v.rule = "plaintext-secret";
    v.path = "/spec/template/spec/containers/0/env/" + std::to_string(i) + "/value" + std::string(100, 'x');
    v.message = "env var X" + std::to_string(i) + " holds a literal secret; use valueFrom.secretKeyRef";
    v.blocking = true;
    verdict.violations.push_back(v);
  }
  verdict.allowed = mode == policy::Mode::kAudit;
  return verdict;
}

TEST(ReplyFromVerdict, CapsWarningCountAndLength) {
  AdmissionRequest request;
  request.uid = "w";
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kAudit, 30));
  ASSERT_EQ(reply.warnings.size(), kMaxWarnings);
  for (const auto& w : reply.warnings) EXPECT_LE(w.size(), kMaxWarningChars) << w;
  EXPECT_EQ(reply.warnings.back(), "pipeguard: 21 more findings; see the webhook audit log");
  EXPECT_EQ(reply.findings.size(), 30u);
}

TEST(ReplyFromVerdict, ExactlyTheWarningCapNeedsNoSummary) {
  AdmissionRequest request;
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kAudit, kMaxWarnings));
  ASSERT_EQ(reply.warnings.size(), kMaxWarnings);
  EXPECT_EQ(reply.warnings.back().rfind("pipeguard audit (would deny): ", 0), 0u);
}

TEST(ReplyFromVerdict, DenialMessageListsAtMostTheCap) {
  AdmissionRequest request;
  request.kind = "Deployment";
  request.namespace_ = "etl";
  request.name = "loader";
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kEnforce, 25));
  EXPECT_FALSE(reply.allowed);
  EXPECT_NE(reply.message.find("pipeguard denied Deployment etl/loader: 25 violations"), std::string::npos);
  EXPECT_NE(reply.message.find("... and 5 more"), std::string::npos);
  EXPECT_EQ(reply.message.find("/env/20/"), std::string::npos);  // the 21st is not listed
  EXPECT_TRUE(reply.warnings.empty());                           // all findings are in the denial message
}

// Issue 14, item 1: ConfigMaps at admission. The file provider holds a ConfigMap next to the test context (as the
// informer would); a governed pod mounting it is judged with it.
constexpr const char* kDbtConfigMaps = R"(apiVersion: v1
kind: ConfigMap
metadata: {name: dbt-profiles, namespace: etl}
data:
  profiles.yml: |
    sales:
      target: prod
      outputs:
        prod: {type: postgres, host: wh.internal, user: dbt, password: Wh4reh0useDbt2026, sslmode: verify-full}
)";

class MountedConfigMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteText(dir_.File("configmaps.yaml"), kDbtConfigMaps);
    FileContextOptions options = testing::TestContextOptions();
    options.context_paths.push_back(dir_.File("configmaps.yaml"));
    auto provider = FileContextProvider::Create(std::move(options));
    ASSERT_TRUE(provider.ok()) << provider.status().message();
    context_ = std::move(provider).value();
    handler_ = MakeValidatingHandler(engine_, *context_, [] { return kNow; });
  }

  AdmissionReply Review(const json& object) {
    auto request = ParseAdmissionReview(MakeReview(object, "etl", "uid-cm", "CREATE", "alice", {}).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler_(*request);
  }

  static json PodMounting(const std::string& config_map) {
    json pod = ReadJson(DataPath("pods/clean_kpo_pod.json"));
    pod["spec"]["volumes"] = json::array({{{"name", "profiles"}, {"configMap", {{"name", config_map}}}}});
    return pod;
  }

  static json ConfigMap(const json& labels, const json& data) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "settings"}, {"namespace", "etl"}, {"labels", labels}}},
            {"data", data}};
  }

  testing::TempDir dir_;
  policy::Engine engine_;
  std::unique_ptr<FileContextProvider> context_;
  AdmissionHandler handler_;
};

TEST_F(MountedConfigMapTest, APodMountingAProfilesYmlWithALiteralPasswordIsDeniedNamingConfigMapFileAndField) {
  const AdmissionReply reply = Review(PodMounting("dbt-profiles"));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/spec/volumes/0/configMap/name"));
  EXPECT_THAT(reply.message, ::testing::HasSubstr("ConfigMap etl/dbt-profiles"));
  EXPECT_THAT(reply.message, ::testing::HasSubstr(R"(data["profiles.yml"]: sales.outputs.prod.password)"));
  EXPECT_THAT(reply.message, ::testing::Not(::testing::HasSubstr("Wh4reh0useDbt2026")));
  for (const auto& [key, value] : reply.audit_annotations) {
    EXPECT_THAT(value, ::testing::Not(::testing::HasSubstr("Wh4reh0useDbt2026"))) << key;
  }
}

TEST_F(MountedConfigMapTest, AMissingConfigMapIsNotAnErrorButAWarning) {
  const AdmissionReply reply = Review(PodMounting("not-created-yet"));
  EXPECT_TRUE(reply.allowed);
  ASSERT_EQ(reply.warnings.size(), 1u);
  EXPECT_THAT(reply.warnings[0], ::testing::HasSubstr("ConfigMap etl/not-created-yet"));
  EXPECT_THAT(reply.warnings[0], ::testing::HasSubstr("does not exist yet"));
}

TEST_F(MountedConfigMapTest, AnUnrelatedConfigMapWithAPropertiesPasswordIsAllowedUngoverned) {
  const AdmissionReply reply = Review(
      ConfigMap({{"app", "shop"}}, {{"app.properties", "db.url=jdbc:postgresql://db/shop\npassword=Sh0pPw77\n"}}));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.governed);
  EXPECT_TRUE(reply.findings.empty());
}

TEST_F(MountedConfigMapTest, APipelineLabelledConfigMapAdmittedOnItsOwnIsJudgedByItsFiles) {
  const json data = {{"profiles.yml", "sales:\n  outputs:\n    prod: {password: Wh4reh0useDbt2026}\n"}};
  const AdmissionReply reply = Review(ConfigMap({{"pipeguard.io/pipeline", "nightly-sales"}}, data));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/data/profiles.yml"));
  EXPECT_THAT(reply.message, ::testing::HasSubstr(R"(data["profiles.yml"]: sales.outputs.prod.password)"));
  EXPECT_THAT(reply.message, ::testing::Not(::testing::HasSubstr("Wh4reh0useDbt2026")));
}

// The other order: the pods first. With an index of ConfigMap readers in the context (the background audit's), a
// ConfigMap that only a governed pod's reference governs is judged at its own admission, naming the pod.
TEST_F(MountedConfigMapTest, AConfigMapCreatedAfterTheGovernedPodThatReadsItIsDeniedNamingThePod) {
  json pod = PodMounting("dbt-late");
  pod["metadata"]["namespace"] = "etl";  // as stored, and so as the background audit's informer holds it
  const ContextWithConfigMapReaders context(*context_, [pod](const std::string& ns, const std::string& name) {
    std::vector<policy::ConfigMapReader> out;
    for (auto& read : policy::ConfigMapReadsOf(pod)) {
      if (read.reader.namespace_ == ns && read.config_map == name) out.push_back(std::move(read.reader));
    }
    return out;
  });
  const AdmissionHandler handler = MakeValidatingHandler(engine_, context, [] { return kNow; });
  auto review = [&](const json& object) {
    auto request = ParseAdmissionReview(MakeReview(object, "etl", "uid-late", "CREATE", "alice", {}).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler(*request);
  };

  // The pod first: admitted, and the warning says the ConfigMap's own admission will check it.
  AdmissionReply reply = review(pod);
  EXPECT_TRUE(reply.allowed);
  ASSERT_EQ(reply.warnings.size(), 1u);
  EXPECT_THAT(reply.warnings[0], ::testing::HasSubstr("its own admission checks them as read by this pod"));

  json config_map =
      ConfigMap(json::object(), {{"profiles.yml", "sales:\n  outputs:\n    prod: {password: Wh4reh0useDbt2026}\n"}});
  config_map["metadata"]["name"] = "dbt-late";
  reply = review(config_map);
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(reply.governed);
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/data/profiles.yml"));
  EXPECT_THAT(reply.message,
              ::testing::HasSubstr("read by Pod etl/sales-extract-7f9c2 at /spec/volumes/0/configMap/name; "
                                   R"(property data["profiles.yml"]: sales.outputs.prod.password)"));
  EXPECT_THAT(reply.message, ::testing::Not(::testing::HasSubstr("Wh4reh0useDbt2026")));
  for (const auto& [key, value] : reply.audit_annotations) {
    EXPECT_THAT(value, ::testing::Not(::testing::HasSubstr("Wh4reh0useDbt2026"))) << key;
  }

  // Another ConfigMap no governed object reads stays ungoverned; and without the index, so does this one.
  config_map["metadata"]["name"] = "unread";
  EXPECT_FALSE(review(config_map).governed);
  config_map["metadata"]["name"] = "dbt-late";
  EXPECT_FALSE(Review(config_map).governed);
  const AdmissionReply without_index = Review(pod);
  ASSERT_EQ(without_index.warnings.size(), 1u);
  EXPECT_THAT(without_index.warnings[0], ::testing::HasSubstr("label it pipeguard.io/pipeline"));
}

}  // namespace
}  // namespace pipeguard::webhook
