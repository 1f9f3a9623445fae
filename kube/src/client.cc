#include "pipeguard/kube/client.h"

#include <atomic>
#include <cstdio>

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

StatusOr<ListResult> KubeClient::ListAll(const Resource& resource, std::string_view ns, ListOptions options,
                                         int max_restarts) {
  const ListOptions first = options;
  ListResult result;
  for (int restarts = 0;;) {
    auto page = List(resource, ns, options);
    if (!page.ok()) {
      // An expired continue token: the snapshot is gone; start over (bounded).
      if (IsGone(page.status()) && !options.continue_token.empty() && restarts < max_restarts) {
        ++restarts;
        options = first;
        result = ListResult();
        continue;
      }
      return page.status();
    }
    if (options.continue_token.empty()) result.resource_version = page->resource_version;
    for (auto& item : page->items) result.items.push_back(std::move(item));
    if (page->continue_token.empty()) return result;
    options.continue_token = page->continue_token;
  }
}

namespace {

std::string Str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Cuts at `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

StatusOr<Json> BuildEvent(const EventSpec& spec, std::chrono::system_clock::time_point now) {
  if (!spec.regarding.is_object() || !spec.regarding.contains("metadata") || !spec.regarding["metadata"].is_object() ||
      Str(spec.regarding["metadata"], "name").empty() || Str(spec.regarding, "kind").empty()) {
    return Status::InvalidArgument("event: `regarding` must be an object with kind and metadata.name");
  }
  if (spec.type != "Normal" && spec.type != "Warning") {
    return Status::InvalidArgument("event: type must be \"Normal\" or \"Warning\", not \"" + spec.type + "\"");
  }
  auto check = [](const std::string& value, const char* field) -> Status {
    if (value.empty()) return Status::InvalidArgument(std::string("event: ") + field + " is required");
    if (value.size() > 128) return Status::InvalidArgument(std::string("event: ") + field + " exceeds 128 bytes");
    return Status::Ok();
  };
  for (auto [value, field] : {std::pair{&spec.reason, "reason"}, std::pair{&spec.action, "action"},
                              std::pair{&spec.reporting_controller, "reporting_controller"},
                              std::pair{&spec.reporting_instance, "reporting_instance"}}) {
    if (Status s = check(*value, field); !s.ok()) return s;
  }
  const Json& meta = spec.regarding["metadata"];
  const std::string regarding_ns = Str(meta, "namespace");
  const std::string name = Str(meta, "name");
  std::string ns = !spec.namespace_.empty() ? spec.namespace_ : (regarding_ns.empty() ? "default" : regarding_ns);

  Json regarding = {
      {"apiVersion", Str(spec.regarding, "apiVersion")}, {"kind", Str(spec.regarding, "kind")}, {"name", name}};
  if (!regarding_ns.empty()) regarding["namespace"] = regarding_ns;
  if (!Str(meta, "uid").empty()) regarding["uid"] = Str(meta, "uid");
  if (!Str(meta, "resourceVersion").empty()) regarding["resourceVersion"] = Str(meta, "resourceVersion");

  // Named like client-go's events: "<object>.<hex unix nanoseconds>" (the API rejects a generateName ending in '.').
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx",
                static_cast<unsigned long long>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
  Json event = {{"apiVersion", "events.k8s.io/v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name.substr(0, 200) + suffix}, {"namespace", ns}}},
                {"eventTime", FormatMicroTime(now)},
                {"reportingController", spec.reporting_controller},
                {"reportingInstance", spec.reporting_instance},
                {"action", spec.action},
                {"reason", spec.reason},
                {"type", spec.type},
                {"regarding", regarding}};
  if (!spec.note.empty()) event["note"] = TruncateUtf8(spec.note, 1024);
  return event;
}

StatusOr<Json> CreateEvent(KubeClient& client, const EventSpec& spec, const Clock& clock) {
  auto event = BuildEvent(spec, clock.Now());
  if (!event.ok()) return event.status();
  static std::atomic<uint64_t> sequence{0};
  char suffix[24];
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(sequence.fetch_add(1)));
  (*event)["metadata"]["name"] = (*event)["metadata"]["name"].get<std::string>() + suffix;
  return client.Create(resources::Events(), event.value()["metadata"]["namespace"].get<std::string>(), *event);
}

std::string ObjectKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += "/";
  key += name;
  return key;
}

std::string ObjectKey(const Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  return ObjectKey(Str(*meta, "namespace"), Str(*meta, "name"));
}

std::string ResourceVersionOf(const Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  return Str(*meta, "resourceVersion");
}

}  // namespace pipeguard::kube
