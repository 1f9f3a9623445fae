// libFuzzer target for the admission request path: bytes go through ServeAdmission (the function the HTTPS
// handler calls after its boundary checks) with the production decorator chain and the real policy engine, so
// the AdmissionReview parser, the object walker, the detectors, the reply builder and the audit formatter are all
// exercised without sockets.
//
// Also differential: the fast body parse (simdjson, webhook/src/json_text.h) must give nlohmann's DOM or the same
// error, byte for byte of the dump.
//
// Crashes are: sanitizer reports, a fast parse that disagrees with nlohmann, a reply that is not a well-formed
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Environment* environment = new Environment();  // shared across inputs, never destroyed
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  CheckFastParseAgrees(body);
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
