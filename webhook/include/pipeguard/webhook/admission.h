// The admission vocabulary of the webhook: a parsed AdmissionRequest, the reply with its named constructors, and
// the one handler type that every cross-cutting concern wraps (DESIGN.md guidelines 4 and 5).
//
// Wire format: admission.k8s.io/v1 AdmissionReview. ParseAdmissionReview is the single parse boundary for request
// bodies: it never throws, and its error messages never quote input bytes (a body may carry secrets).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/json_ref.h"

namespace pipeguard::webhook {

inline constexpr std::string_view kAdmissionApiVersion = "admission.k8s.io/v1";
inline constexpr std::string_view kAdmissionReviewKind = "AdmissionReview";

// request.object: a view of the object inside the parsed request body (simdjson's DOM, which the request owns; no
// nlohmann copy is built for the engine), or an nlohmann value (bodies nlohmann parsed, and requests built by hand:
// `request.object = json{...}`). The engine reads it through ref(); code that needs nlohmann (digest pinning, the
// UPDATE comparison) calls json(), which converts a simdjson object once, on first use. Copies share the view.
class RequestObject {
 public:
  RequestObject() = default;
  RequestObject(nlohmann::json value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  RequestObject& operator=(nlohmann::json value);
  // A view of `view`, which `owner` keeps valid.
  RequestObject(std::shared_ptr<const void> owner, policy::JsonRef view);

  policy::JsonRef ref() const { return owner_ != nullptr ? view_ : policy::JsonRef(value_); }
  operator policy::JsonRef() const { return ref(); }  // NOLINT(google-explicit-constructor)
  // The object as nlohmann's DOM: the value itself, or converted from the parsed body on first use (thread-safe).
  const nlohmann::json& json() const;
  bool is_null() const { return ref().is_null() || !ref().present(); }
  bool is_object() const { return ref().is_object(); }
  // Frees the object's DOMs now, level by level (ReleaseJsonDom): for objects of ParseAdmissionReview, whose
  // depth it bounded. The object is null afterwards.
  void Release();

  friend bool operator==(const RequestObject& a, const nlohmann::json& b) { return a.json() == b; }
  friend std::ostream& operator<<(std::ostream& out, const RequestObject& object) { return out << object.json(); }

 private:
  struct Converted;  // admission.cc
  nlohmann::json value_;
  std::shared_ptr<const void> owner_;
  policy::JsonRef view_;
  std::shared_ptr<Converted> converted_;  // set when view_ is simdjson's
};

// The fields of an admission.k8s.io/v1 AdmissionRequest that pipeguard uses.
struct AdmissionRequest {
  std::string uid;                             // request.uid, echoed in every reply
  std::string operation;                       // CREATE, UPDATE, DELETE or CONNECT
  std::string kind_group, kind_version, kind;  // request.kind (the resource's GroupVersionKind)
  std::string sub_resource;                    // request.subResource, e.g. "status"; empty for the main resource
  std::string namespace_;                      // request.namespace; empty for cluster-scoped objects
  std::string name;                 // request.name, else object.metadata.name, else object.metadata.generateName
  std::string username;             // request.userInfo.username
  std::vector<std::string> groups;  // request.userInfo.groups
  bool dry_run = false;
  RequestObject object;       // request.object; null for DELETE and CONNECT
  nlohmann::json old_object;  // request.oldObject (the stored object) for UPDATE and DELETE; null when absent
  // When the HTTP layer finished reading the body; latency is measured from here. A default value means "unknown":
  // decorators then measure from their own entry.
  std::chrono::steady_clock::time_point received_at{};
  // When the caller stops waiting for the reply (the API server's ?timeout= less a margin); work that waits, such
  // as registry calls, ends by then. A default value means "no deadline beyond the handler's own bounds".
  std::chrono::steady_clock::time_point deadline{};
};

// How a reply ends for metrics and the audit log: allowed, denied by policy, or an error (bad input, internal).
enum class Decision : std::uint8_t { kAllowed, kDenied, kError };
std::string_view ToString(Decision decision);

// One violation as recorded in the reply (value-free: a rule ID and a JSON pointer).
struct ReplyFinding {
  std::string rule;
  std::string path;
  std::string severity;
  bool blocking = false;  // would deny in enforce mode
  bool waived = false;    // waived by an honoured break-glass annotation
};

// The signature verification outcome of one image, as recorded in the audit log (value-free: image references,
// digests, key names and reasons are not secrets).
struct ReplyImage {
  std::string image;
  std::string digest;  // empty when it could not be resolved
  bool verified = false;
  std::string source;  // "fresh" (verified now, alone or shared), "cached", "stale" (expired positive verdict served
                       // during a registry failure) or "not_checked" (malformed reference)
  std::string key_name;
  std::string reason;  // why not verified; empty when verified
};

// A reply to one AdmissionRequest. Build it with the named constructors below. The first block is what the API
// server receives; the second block records the decision for the audit log and metrics and is never serialised.
struct AdmissionReply {
  std::string uid;
  bool allowed = true;
  int code = 200;                     // response.status.code when not allowed: 403 denied, 4xx bad input, 5xx internal
  std::string reason;                 // response.status.reason, e.g. "Forbidden"
  std::string message;                // response.status.message: what is wrong and how to fix it (value-free)
  std::vector<std::string> warnings;  // response.warnings; each ideally <= 120 characters
  std::map<std::string, std::string> audit_annotations;  // response.auditAnnotations (keys without a prefix:
                                                         // the API server prefixes them with the webhook name)
  std::optional<std::string> json_patch;  // a JSONPatch document; sent base64-encoded with patchType JSONPatch

  Decision decision = Decision::kAllowed;
  bool evaluated = false;            // false when the request was allowed without running the policy engine
  std::string not_evaluated_reason;  // why, when it was skipped for a reason worth recording (an UPDATE that changes
                                     // nothing the rules read); empty otherwise
  bool governed = false;
  std::string mode;                         // "enforce" or "audit" when evaluated
  std::string mode_source;                  // where the mode came from (policy::Verdict::mode_source)
  std::vector<std::string> profiles;        // "<ns>/<name>" of the profiles selecting the object
  std::vector<ReplyFinding> findings;       // the verdict's listed violations (at most policy::kMaxReportedViolations)
  size_t unlisted_findings = 0;             // violations beyond those, counted by the engine but not listed
  std::vector<std::string> unlisted_rules;  // the rule IDs among them (sorted, unique)
  std::optional<std::string> break_glass_ticket;  // set when a break-glass waiver was honoured
  std::vector<ReplyImage> images;                 // image signature verification outcomes, when it ran
};

// Named reply constructors. `message` must not contain secret values.
AdmissionReply Allowed(std::string uid);
AdmissionReply Denied(std::string uid, std::string message);                           // code 403, reason Forbidden
AdmissionReply Errored(std::string uid, int code, std::string message);                // decision kError
AdmissionReply WithWarnings(AdmissionReply reply, std::vector<std::string> warnings);  // appends

// The one handler type. Implementations and decorators must be thread-safe: the server calls them concurrently.
// A handler should not throw; WithPanicGuard (decorators.h) turns exceptions into Errored replies.
using AdmissionHandler = std::function<AdmissionReply(const AdmissionRequest&)>;

// Limits applied while parsing a request body.
struct ParseLimits {
  int max_depth = 64;          // JSON nesting deeper than this is rejected before parsing (no deep recursion)
  size_t max_uid_bytes = 128;  // Kubernetes UIDs are 36 characters
  // JSON values (containers + elements) in the body, estimated before parsing; bounds the DOM's memory (~100 bytes
  // a value) whatever the body's shape. 30,000 env vars are ~90,000 values.
  size_t max_values = 200000;
};

// Parses an admission.k8s.io/v1 AdmissionReview body. On error, the Status message says what is wrong and how to
// fix it without quoting the input. `readable_uid` (optional) receives request.uid whenever it could be read, even
// if a later check fails, so the error reply can still echo it. Thread-safe.
StatusOr<AdmissionRequest> ParseAdmissionReview(std::string_view body, std::string* readable_uid = nullptr,
                                                const ParseLimits& limits = {});

// Serialises `reply` as an admission.k8s.io/v1 AdmissionReview with a `response`. Invalid UTF-8 in any string is
// replaced, never an exception.
std::string SerializeAdmissionReview(const AdmissionReply& reply);

}  // namespace pipeguard::webhook
