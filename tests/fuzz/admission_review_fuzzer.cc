// libFuzzer target for the admission request path: bytes go through ServeAdmission (the function the HTTPS
// handler calls after its boundary checks) with the production decorator chain and the real policy engine, so
// the AdmissionReview parser, the object walker, the detectors, the reply builder and the audit formatter are all
// exercised without sockets.
//
// Also differential: the fast body parse (simdjson, webhook/src/json_text.h) must give nlohmann's DOM or the same
// error, byte for byte of the dump; and the engine must judge request.object read through simdjson's DOM
// (policy::JsonRef, as the webhook does) exactly as it judges nlohmann's parse of the same body.
//
// Crashes are: sanitizer reports, a fast parse that disagrees with nlohmann, a verdict that differs between the two
// DOMs, a reply that is not a well-formed
// AdmissionReview, an HTTP 500 (an exception escaped the handler chain), and an exception inside the handler (the panic
// guard fires).
//
// Build and run: tests/fuzz/run.sh [SECONDS]
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "json_text.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/decorators.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/http_adapter.h"
#include "pipeguard/webhook/metrics.h"

namespace {

using namespace pipeguard;
using namespace pipeguard::webhook;
using nlohmann::json;

constexpr std::string_view kConfig = R"(mode: enforce
images:
  verify: false
  allowedRegistries:
    - registry.example.com/
breakGlass:
  groups: [pipeguard:break-glass]
)";

constexpr std::string_view kContext = R"([
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "etl"}},
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "etl-audit", "labels": {"pipeguard.io/mode": "audit"}}},
  {"apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
   "metadata": {"name": "nightly-sales", "namespace": "etl"},
   "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "nightly-sales"}},
            "serviceAccount": {"name": "airflow-worker", "automountToken": false}}},
  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "airflow-worker", "namespace": "etl"},
   "automountServiceAccountToken": false},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
   "metadata": {"name": "spark-admin", "namespace": "etl"},
   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
   "subjects": [{"kind": "ServiceAccount", "name": "spark", "namespace": "etl"}]}
])";

class StaticContext final : public policy::ContextProvider {
 public:
  explicit StaticContext(std::shared_ptr<const policy::ContextSnapshot> s) : snapshot_(std::move(s)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return snapshot_; }

 private:
  std::shared_ptr<const policy::ContextSnapshot> snapshot_;
};

std::shared_ptr<const policy::ContextSnapshot> BuildSnapshot() {
  auto config = policy::ParseConfig(kConfig, "fuzz-config.yaml");
  if (!config.ok()) std::abort();
  policy::ContextSnapshotBuilder builder(std::move(config).value());
  for (const auto& object : json::parse(kContext)) {
    if (!builder.Add(object).ok()) std::abort();
  }
  return std::move(builder).Build();
}

struct Environment {
  policy::Engine engine;
  StaticContext context{BuildSnapshot()};
  WebhookMetrics metrics;
  AdmissionHandler handler;

  Environment() {
    spdlog::set_level(spdlog::level::off);
    // The production chain, with an audit sink that checks every line is one JSON object.
    AuditSink sink = [](std::string_view line) {
      if (line.find('\n') != std::string_view::npos || !json::accept(line)) std::abort();
    };
    handler = WithMetrics(
        WithAuditLog(WithPanicGuard(MakeValidatingHandler(engine, context, [] { return std::int64_t{1800000000}; }),
                                    [](std::string_view) { std::abort(); }),
                     sink, "validate"),
        metrics, "validate");
  }
};

// Aborts when ParseJsonText and nlohmann's parse disagree on `body` (value, number types, or error id).
void CheckFastParseAgrees(std::string_view body) {
  std::string fast, slow;
  try {
    fast = ParseJsonText(body).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const json::exception& e) {
    fast = "error " + std::to_string(e.id);
  }
  try {
    slow = ParseJsonTextSlowPath(body).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const json::exception& e) {
    slow = "error " + std::to_string(e.id);
  }
  if (fast != slow) std::abort();
}

std::string Describe(const policy::Review& review, const policy::Verdict& verdict) {
  std::string out = std::to_string(review.governed()) + std::to_string(verdict.governed) +
                    std::to_string(verdict.allowed) + std::string(policy::ToString(verdict.mode)) + verdict.mode_source;
  for (const auto& check : review.image_checks()) out += "|" + check.path + "=" + check.image;
  for (const auto& v : verdict.violations) {
    out += "|" + v.rule + " " + v.path + " " + std::to_string(v.blocking) + std::to_string(v.waived) + v.message;
  }
  return out + "|" + std::to_string(verdict.unlisted.count);
}

// Aborts when request.object gets another verdict through simdjson's DOM than through nlohmann's.
void CheckVerdictsAgree(std::string_view body, const Environment& environment) {
  std::shared_ptr<JsonDocument> document;
  json slow;
  try {
    document = ParseJsonDocument(body);
    slow = ParseJsonTextSlowPath(body);
  } catch (const json::exception&) {
    return;
  }
  if (document->nlohmann_dom() != nullptr) return;  // nlohmann's parse both ways
  const policy::JsonRef object = document->root().Find("request").Find("object");
  if (!object.is_object() || !slow.is_object() || !slow["request"].is_object()) return;
  const auto snapshot = environment.context.Current();
  policy::RequestInfo info;
  info.operation = "CREATE";
  info.namespace_ = "etl";
  info.now_unix_seconds = 1800000000;
  const policy::Review fast_review = policy::PrepareReview(object, info, *snapshot);
  const policy::Review slow_review = policy::PrepareReview(slow["request"]["object"], info, *snapshot);
  if (Describe(fast_review, environment.engine.Evaluate(fast_review)) !=
      Describe(slow_review, environment.engine.Evaluate(slow_review))) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Environment* environment = new Environment();  // shared across inputs, never destroyed
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  CheckFastParseAgrees(body);
  CheckVerdictsAgree(body, *environment);
  const HttpReply reply = ServeAdmission(body, environment->handler);
  if (reply.status != 200 && reply.status != 400) std::abort();
  const json review = json::parse(reply.body, nullptr, false);
  if (review.is_discarded() || !review.is_object() || review.value("kind", "") != "AdmissionReview") std::abort();
  const json& response = review["response"];
  if (!response.is_object() || !response.contains("uid") || !response["uid"].is_string() ||
      !response.contains("allowed") || !response["allowed"].is_boolean()) {
    std::abort();
  }
  if (reply.status == 200 && response["uid"].get_ref<const std::string&>().empty()) std::abort();
  if (reply.status == 400 && response["allowed"].get<bool>()) std::abort();
  return 0;
}
