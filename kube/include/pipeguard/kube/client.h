// KubeClient: the one interface through which pipeguard talks to the Kubernetes API (DESIGN.md guideline 6).
//
// Implementations: HttpKubeClient (http_client.h, the real API server) and FakeKubeClient (fake_client.h, in
// memory, for unit tests). Objects are nlohmann::json values in the API's JSON form.
//
// Contract for all implementations:
//   - Thread-safe: any method may be called from any thread concurrently.
//   - Errors are Status values whose reason ErrorReasonOf() reports (errors.h); no method throws.
//   - Every call is bounded in time (the HTTP client's timeouts); Watch runs until the server ends the stream, the
//     callback returns false, the stop token is triggered, or an error occurs.
//   - `ns` is ignored for cluster-scoped resources; for namespaced ones an empty `ns` means "all namespaces" in
//     List/Watch and is an InvalidArgument error elsewhere.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/resource.h"

namespace pipeguard::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;             // page size; 0 = no limit (the server may still paginate... it does not)
  std::string continue_token;    // from the previous page's ListPage::continue_token
  std::string resource_version;  // "" = most recent (a consistent read from etcd)
};

// One page of a LIST. Items carry `apiVersion` and `kind` (restored from the list's kind).
struct ListPage {
  std::vector<Json> items;
  std::string resource_version;  // of the list (the snapshot all pages belong to)
  std::string continue_token;    // empty on the last page
};

// All items of a LIST across pages.
struct ListResult {
  std::vector<Json> items;
  std::string resource_version;
};

struct WatchOptions {
  std::string resource_version;  // start after this version; "" = synthetic ADDED events for current state first
  bool allow_bookmarks = true;
  std::string label_selector;
  std::string field_selector;
  int timeout_seconds = 300;  // the server ends the stream after this long (plus jitter on its side)
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", ...
std::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object (ADDED/MODIFIED/DELETED: the object; BOOKMARK: an object with only metadata.resourceVersion;
  // ERROR: a metav1.Status, see StatusFromApiStatus).
  Json object;
};

// Called for each event, on the thread that called Watch. Returning false ends the watch (Watch returns OK).
using WatchCallback = std::function<bool(WatchEvent&& event)>;

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902), `patch` is an array of operations
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
};

struct ApplyOptions {
  std::string field_manager;  // required: who owns the applied fields ("pipeguard-operator")
  bool force = false;         // take ownership of fields other managers own instead of failing with Conflict
};

struct DeleteOptions {
  std::string propagation_policy;               // "", "Foreground", "Background", "Orphan"
  std::string precondition_uid;                 // delete only if the object has this uid
  std::string precondition_resource_version;    // delete only if the object is at this version
  std::optional<int64_t> grace_period_seconds;  // for pods
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name) = 0;
  virtual StatusOr<ListPage> List(const Resource& resource, std::string_view ns, const ListOptions& options) = 0;
  // Streams events to `callback` until one of the conditions in the header comment. A 410 Gone reported by the
  // server (either as the HTTP status or as an ERROR event the callback chooses to stop on) is the caller's cue to
  // relist. Returns OK when the stream ended normally, was stopped, or the callback returned false.
  virtual Status Watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                       const WatchCallback& callback, std::stop_token stop) = 0;
  // POST. `object` must carry apiVersion/kind/metadata.name (or generateName). Returns the stored object.
  virtual StatusOr<Json> Create(const Resource& resource, std::string_view ns, const Json& object) = 0;
  // PUT, optimistic concurrency through object.metadata.resourceVersion (Conflict when stale). `subresource` may be
  // "status".
  virtual StatusOr<Json> Update(const Resource& resource, std::string_view ns, const Json& object,
                                std::string_view subresource = {}) = 0;
  // Server-side apply: PATCH application/apply-patch+yaml (JSON is YAML) with fieldManager and force.
  virtual StatusOr<Json> Apply(const Resource& resource, std::string_view ns, std::string_view name, const Json& object,
                               const ApplyOptions& options, std::string_view subresource = {}) = 0;
  virtual StatusOr<Json> Patch(const Resource& resource, std::string_view ns, std::string_view name, PatchType type,
                               const Json& patch, std::string_view subresource = {},
                               std::string_view field_manager = {}) = 0;
  // NotFound when the object does not exist; Conflict when a precondition fails.
  virtual Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {}) = 0;

  // Follows continue tokens until the last page. A continue token that expires midway (410) restarts the list from
  // scratch, at most `max_restarts` times.
  StatusOr<ListResult> ListAll(const Resource& resource, std::string_view ns, ListOptions options,
                               int max_restarts = 3);
};

// An events.k8s.io/v1 Event about `regarding`. Series-less: each call creates one Event.
struct EventSpec {
  Json regarding;               // the object (apiVersion, kind, metadata.{name,namespace,uid,resourceVersion})
  std::string type = "Normal";  // "Normal" or "Warning"
  std::string reason;           // CamelCase, e.g. "RoleCreated" (required)
  std::string action;           // what was done, e.g. "Reconcile" (required)
  std::string note;             // human-readable; truncated to 1 KiB; never put secret values here
  std::string reporting_controller = "pipeguard.io/operator";
  std::string reporting_instance;  // e.g. the pod name; required by the API
  std::string namespace_;          // where the Event lives; default: the regarding object's, else "default"
};

// Builds the Event object (pure; exposed for tests), named "<regarding name>.<hex unix nanoseconds of now>" like
// client-go. Errors name the missing field.
StatusOr<Json> BuildEvent(const EventSpec& spec, std::chrono::system_clock::time_point now);
// Creates the Event, named as BuildEvent does plus ".<process-wide sequence number in hex>", so two Events about the
// same object at the same instant (a coarse or fake clock, or one reconcile emitting several) never collide. Returns
// the stored Event.
StatusOr<Json> CreateEvent(KubeClient& client, const EventSpec& spec, const Clock& clock = SystemClock());

// "namespace/name", or "name" for cluster-scoped objects (an empty namespace): the informer store key.
std::string ObjectKey(const Json& object);
std::string ObjectKey(std::string_view ns, std::string_view name);
// metadata.resourceVersion, or "" when absent.
std::string ResourceVersionOf(const Json& object);

}  // namespace pipeguard::kube
