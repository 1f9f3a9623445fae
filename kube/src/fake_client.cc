#include "pipeguard/kube/fake_client.h"

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {
namespace {

std::string Key(const Resource& r, std::string_view ns, std::string_view name) {
  return r.DisplayName() + "|" + (r.namespaced ? std::string(ns) : std::string()) + "|" + std::string(name);
}

std::string Prefix(const Resource& r, std::string_view ns) {
  std::string p = r.DisplayName() + "|";
  if (r.namespaced && !ns.empty()) p += std::string(ns) + "|";
  return p;
}

// The object without metadata.resourceVersion/managedFields, for "did anything change" comparisons.
Json Comparable(Json object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("resourceVersion");
    object["metadata"].erase("managedFields");
  }
  return object;
}

// Everything but metadata and status: a change here bumps metadata.generation.
Json SpecPart(Json object) {
  object.erase("metadata");
  object.erase("status");
  return object;
}

// The one selector the fake understands, "metadata.name=NAME" (what RBAC by resourceNames needs): the name, "" for
// no selector. Any other selector, and every label selector, is an InvalidArgument error.
StatusOr<std::string> NameSelector(const std::string& label, const std::string& field, const std::string& context) {
  constexpr std::string_view kName = "metadata.name=";
  if (label.empty() && (field.empty() || (field.starts_with(kName) && field.size() > kName.size() &&
                                          field.find(',') == std::string::npos))) {
    return field.empty() ? std::string() : field.substr(kName.size());
  }
  return Status::InvalidArgument(
      context + ": FakeKubeClient supports no label selector and no field selector but metadata.name=");
}

bool Selected(const std::string& name, const Json& object) {
  return name.empty() || (object.contains("metadata") && object["metadata"].value("name", "") == name);
}

}  // namespace

std::optional<Status> FakeKubeClient::TakeFailure(Verb verb) {
  ++calls_[verb];
  auto it = failures_.find(verb);
  if (it == failures_.end() || it->second.empty()) return std::nullopt;
  Status s = std::move(it->second.front());
  it->second.pop_front();
  return s;
}

void FakeKubeClient::Record(const Resource& resource, const std::string& ns, WatchEventType type, const Json& object) {
  if (!record_history_) return;
  history_.push_back({rv_, resource.DisplayName(), ns, type, object});
  cv_.notify_all();
}

StatusOr<Json> FakeKubeClient::Get(const Resource& resource, std::string_view ns, std::string_view name) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kGet)) return *f;
  auto it = objects_.find(Key(resource, ns, name));
  if (it == objects_.end()) {
    return MakeApiError(ErrorReason::kNotFound, 404, "GET " + resource.ObjectPath(ns, name),
                        resource.DisplayName() + " \"" + std::string(name) + "\" not found");
  }
  return it->second;
}

StatusOr<ListPage> FakeKubeClient::List(const Resource& resource, std::string_view ns, const ListOptions& options) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kList)) return *f;
  const std::string context = "LIST " + resource.CollectionPath(ns);
  auto name = NameSelector(options.label_selector, options.field_selector, context);
  if (!name.ok()) return name.status();
  ListPage page;
  page.resource_version = std::to_string(rv_);
  const std::string prefix = Prefix(resource, ns);
  auto it =
      options.continue_token.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(options.continue_token);
  for (; it != objects_.end() && it->first.starts_with(prefix); ++it) {
    if (options.limit > 0 && static_cast<int64_t>(page.items.size()) == options.limit) {
      page.continue_token = std::prev(it)->first;
      break;
    }
    if (Selected(*name, it->second)) page.items.push_back(it->second);
  }
  return page;
}

Status FakeKubeClient::Watch(const Resource& resource, std::string_view ns_view, const WatchOptions& options,
                             const WatchCallback& callback, std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (auto f = TakeFailure(Verb::kWatch)) return *f;
  const std::string ns(ns_view);
  const std::string context = "WATCH " + resource.CollectionPath(ns);
  auto name = NameSelector(options.label_selector, options.field_selector, context);
  if (!name.ok()) return name.status();
  int64_t from = rv_;
  std::vector<WatchEvent> pending;
  if (options.resource_version.empty()) {
    const std::string prefix = Prefix(resource, ns);
    for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it) {
      if (Selected(*name, it->second)) pending.push_back({WatchEventType::kAdded, it->second});
    }
  } else {
    try {
      from = std::stoll(options.resource_version);
    } catch (const std::exception&) {
      return MakeApiError(ErrorReason::kBadRequest, 400, context, "invalid resourceVersion");
    }
    if (from < compacted_rv_) {
      lock.unlock();
      Json status = {{"kind", "Status"},    {"apiVersion", "v1"},
                     {"status", "Failure"}, {"reason", "Expired"},
                     {"code", 410},         {"message", "too old resource version: " + options.resource_version}};
      callback({WatchEventType::kError, std::move(status)});
      return Status::Ok();
    }
  }
  ++active_watches_;
  cv_.notify_all();
  const uint64_t generation = close_generation_;
  const std::string display = resource.DisplayName();
  bool keep_going = true;
  while (keep_going) {
    for (const auto& h : history_) {
      if (h.rv > from && h.resource == display &&
          (!resource.namespaced || ns.empty() || h.ns == ns || h.type == WatchEventType::kBookmark) &&
          (h.type == WatchEventType::kBookmark || Selected(*name, h.object))) {
        pending.push_back({h.type, h.object});
      }
    }
    if (!history_.empty()) from = std::max(from, history_.back().rv);
    if (!pending.empty()) {
      lock.unlock();
      for (auto& event : pending) {
        if (!callback(std::move(event))) {
          keep_going = false;
          break;
        }
      }
      pending.clear();
      lock.lock();
      continue;
    }
    const bool woke = cv_.wait(lock, stop, [&] {
      return close_generation_ != generation || (!history_.empty() && history_.back().rv > from);
    });
    if (!woke || close_generation_ != generation) break;
  }
  --active_watches_;
  cv_.notify_all();
  return Status::Ok();
}

StatusOr<Json> FakeKubeClient::WriteLocked(const Resource& resource, const std::string& ns, Json desired,
                                           std::string_view subresource, bool create, bool check_rv,
                                           const std::string& context) {
  if (!desired.is_object()) return MakeApiError(ErrorReason::kBadRequest, 400, context, "the body must be an object");
  if (!desired.contains("metadata") || !desired["metadata"].is_object()) desired["metadata"] = Json::object();
  Json& meta = desired["metadata"];
  if (create) {
    std::string name = meta.value("name", "");
    if (name.empty()) {
      const std::string generate = meta.value("generateName", "");
      if (generate.empty()) return MakeApiError(ErrorReason::kInvalid, 422, context, "metadata.name: Required value");
      name = generate + "fake" + std::to_string(++name_counter_);
    }
    const std::string key = Key(resource, ns, name);
    if (objects_.count(key) != 0) {
      return MakeApiError(ErrorReason::kAlreadyExists, 409, context,
                          resource.DisplayName() + " \"" + name + "\" already exists");
    }
    meta["name"] = name;
    if (resource.namespaced) meta["namespace"] = ns;
    meta["uid"] = "fake-uid-" + std::to_string(++name_counter_);
    meta["resourceVersion"] = std::to_string(++rv_);
    meta["generation"] = 1;
    meta["creationTimestamp"] = "2024-01-01T00:00:00Z";
    if (desired.value("apiVersion", "").empty()) desired["apiVersion"] = resource.ApiVersion();
    if (desired.value("kind", "").empty()) desired["kind"] = resource.kind;
    objects_[key] = desired;
    Record(resource, ns, WatchEventType::kAdded, desired);
    return desired;
  }
  const std::string name = meta.value("name", "");
  auto it = objects_.find(Key(resource, ns, name));
  if (it == objects_.end()) {
    return MakeApiError(ErrorReason::kNotFound, 404, context, resource.DisplayName() + " \"" + name + "\" not found");
  }
  const Json& existing = it->second;
  const std::string want_rv = meta.value("resourceVersion", "");
  if (check_rv && !want_rv.empty() && want_rv != ResourceVersionOf(existing)) {
    return MakeApiError(ErrorReason::kConflict, 409, context,
                        "Operation cannot be fulfilled on " + resource.DisplayName() + " \"" + name +
                            "\": the object has been modified; please apply your changes to the latest version "
                            "and try again");
  }
  Json updated;
  if (subresource == "status") {
    updated = existing;
    if (desired.contains("status")) {
      updated["status"] = desired["status"];
    } else {
      updated.erase("status");
    }
  } else {
    updated = std::move(desired);
    if (existing.contains("status")) {
      updated["status"] = existing["status"];
    } else {
      updated.erase("status");
    }
    for (const char* immutable : {"uid", "creationTimestamp", "namespace", "name", "generation"}) {
      if (existing["metadata"].contains(immutable)) updated["metadata"][immutable] = existing["metadata"][immutable];
    }
    if (updated.value("apiVersion", "").empty()) updated["apiVersion"] = existing.value("apiVersion", "");
    if (updated.value("kind", "").empty()) updated["kind"] = existing.value("kind", "");
    if (SpecPart(updated) != SpecPart(existing)) {
      updated["metadata"]["generation"] = existing["metadata"].value("generation", 1) + 1;
    }
  }
  updated["metadata"]["resourceVersion"] = ResourceVersionOf(existing);
  if (Comparable(updated) == Comparable(existing)) return existing;  // a no-op write keeps the version
  updated["metadata"]["resourceVersion"] = std::to_string(++rv_);
  it->second = updated;
  Record(resource, ns, WatchEventType::kModified, updated);
  return updated;
}

StatusOr<Json> FakeKubeClient::Create(const Resource& resource, std::string_view ns, const Json& object) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kCreate)) return *f;
  std::string n(ns);
  if (n.empty() && object.contains("metadata")) n = object["metadata"].value("namespace", "");
  if (resource.namespaced && n.empty()) return Status::InvalidArgument("POST: a namespace is required");
  return WriteLocked(resource, resource.namespaced ? n : "", object, "", true, false,
                     "POST " + resource.CollectionPath(n));
}

StatusOr<Json> FakeKubeClient::Update(const Resource& resource, std::string_view ns, const Json& object,
                                      std::string_view subresource) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kUpdate)) return *f;
  std::string n(ns);
  if (n.empty() && object.contains("metadata")) n = object["metadata"].value("namespace", "");
  if (resource.namespaced && n.empty()) return Status::InvalidArgument("PUT: a namespace is required");
  return WriteLocked(resource, resource.namespaced ? n : "", object, subresource, false, true,
                     "PUT " + resource.CollectionPath(n));
}

StatusOr<Json> FakeKubeClient::Apply(const Resource& resource, std::string_view ns, std::string_view name,
                                     const Json& object, const ApplyOptions& options, std::string_view subresource) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kApply)) return *f;
  const std::string n = resource.namespaced ? std::string(ns) : "";
  const std::string context = "PATCH(apply) " + resource.ObjectPath(n, name, subresource);
  if (options.field_manager.empty()) return Status::InvalidArgument(context + ": field_manager is required");
  auto it = objects_.find(Key(resource, n, name));
  Json desired = object;
  desired["metadata"]["name"] = std::string(name);
  if (it == objects_.end()) {
    if (!subresource.empty()) return MakeApiError(ErrorReason::kNotFound, 404, context, "not found");
    return WriteLocked(resource, n, desired, "", true, false, context);
  }
  Json merged = it->second;
  merged.merge_patch(desired);
  return WriteLocked(resource, n, merged, subresource, false, false, context);
}

StatusOr<Json> FakeKubeClient::Patch(const Resource& resource, std::string_view ns, std::string_view name,
                                     PatchType type, const Json& patch, std::string_view subresource,
                                     std::string_view) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kPatch)) return *f;
  const std::string n = resource.namespaced ? std::string(ns) : "";
  const std::string context = "PATCH " + resource.ObjectPath(n, name, subresource);
  auto it = objects_.find(Key(resource, n, name));
  if (it == objects_.end()) {
    return MakeApiError(ErrorReason::kNotFound, 404, context,
                        resource.DisplayName() + " \"" + std::string(name) + "\" not found");
  }
  Json patched = it->second;
  try {
    if (type == PatchType::kJson) {
      patched = patched.patch(patch);
    } else {
      patched.merge_patch(patch);
    }
  } catch (const Json::exception& e) {
    return MakeApiError(ErrorReason::kInvalid, 422, context, std::string("the patch does not apply: ") + e.what());
  }
  return WriteLocked(resource, n, patched, subresource, false, true, context);
}

Status FakeKubeClient::Delete(const Resource& resource, std::string_view ns, std::string_view name,
                              const DeleteOptions& options) {
  std::lock_guard lock(mu_);
  if (auto f = TakeFailure(Verb::kDelete)) return *f;
  const std::string n = resource.namespaced ? std::string(ns) : "";
  const std::string context = "DELETE " + resource.ObjectPath(n, name);
  auto it = objects_.find(Key(resource, n, name));
  if (it == objects_.end()) {
    return MakeApiError(ErrorReason::kNotFound, 404, context,
                        resource.DisplayName() + " \"" + std::string(name) + "\" not found");
  }
  const Json& meta = it->second["metadata"];
  if ((!options.precondition_uid.empty() && options.precondition_uid != meta.value("uid", "")) ||
      (!options.precondition_resource_version.empty() &&
       options.precondition_resource_version != meta.value("resourceVersion", ""))) {
    return MakeApiError(ErrorReason::kConflict, 409, context, "Precondition failed");
  }
  Json gone = it->second;
  objects_.erase(it);
  gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
  Record(resource, n, WatchEventType::kDeleted, gone);
  return Status::Ok();
}

void FakeKubeClient::FailNext(Verb verb, Status error) {
  std::lock_guard lock(mu_);
  failures_[verb].push_back(std::move(error));
}

void FakeKubeClient::Compact() {
  std::lock_guard lock(mu_);
  history_.clear();
  compacted_rv_ = ++rv_;  // lists from now on return a version that can be watched
}

void FakeKubeClient::set_record_history(bool record) {
  std::lock_guard lock(mu_);
  record_history_ = record;
}

void FakeKubeClient::CloseWatches() {
  std::lock_guard lock(mu_);
  ++close_generation_;
  cv_.notify_all();
}

void FakeKubeClient::SendBookmark(const Resource& resource) {
  std::lock_guard lock(mu_);
  ++rv_;
  Json bookmark = {{"apiVersion", resource.ApiVersion()},
                   {"kind", resource.kind},
                   {"metadata", {{"resourceVersion", std::to_string(rv_)}}}};
  history_.push_back({rv_, resource.DisplayName(), "", WatchEventType::kBookmark, std::move(bookmark)});
  cv_.notify_all();
}

int FakeKubeClient::Calls(Verb verb) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

int FakeKubeClient::ActiveWatches() const {
  std::lock_guard lock(mu_);
  return active_watches_;
}

bool FakeKubeClient::WaitForWatches(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return active_watches_ >= n; });
}

std::string FakeKubeClient::CurrentResourceVersion() const {
  std::lock_guard lock(mu_);
  return std::to_string(rv_);
}

}  // namespace pipeguard::kube
