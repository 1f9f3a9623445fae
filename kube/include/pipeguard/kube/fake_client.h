// FakeKubeClient: an in-memory KubeClient for unit tests (like leveldb's in-memory Env), with fault injection.
//
// Semantics kept from the API server: a global resourceVersion counter; Create fails with AlreadyExists; Update
// checks metadata.resourceVersion (Conflict when stale); Update/Patch/Apply on "status" change only .status and
// the main resource never changes .status; generation increments when anything but metadata/status changes;
// generateName; LIST pagination with limit/continue; WATCH from a resourceVersion replays history, from "" sends
// ADDED for the current state, and from a version older than the compaction point sends an ERROR event with a
// 410 Status (like the real server). Simplifications: Apply merges the applied object into the stored one (RFC 7386)
// without field ownership, and leaves the resourceVersion unchanged when nothing changed; strategic merge patch is
// treated as a merge patch; of selectors only the field selector metadata.name=NAME is supported (others are an
// InvalidArgument error).
//
// Thread-safe. Watches block until stopped, the callback returns false, or CloseWatches() is called.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pipeguard/kube/client.h"

namespace pipeguard::kube {

enum class Verb { kGet, kList, kWatch, kCreate, kUpdate, kApply, kPatch, kDelete };

class FakeKubeClient final : public KubeClient {
 public:
  FakeKubeClient() = default;

  StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name) override;
  StatusOr<ListPage> List(const Resource& resource, std::string_view ns, const ListOptions& options) override;
  Status Watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
               const WatchCallback& callback, std::stop_token stop) override;
  StatusOr<Json> Create(const Resource& resource, std::string_view ns, const Json& object) override;
  StatusOr<Json> Update(const Resource& resource, std::string_view ns, const Json& object,
                        std::string_view subresource = {}) override;
  StatusOr<Json> Apply(const Resource& resource, std::string_view ns, std::string_view name, const Json& object,
                       const ApplyOptions& options, std::string_view subresource = {}) override;
  StatusOr<Json> Patch(const Resource& resource, std::string_view ns, std::string_view name, PatchType type,
                       const Json& patch, std::string_view subresource = {},
                       std::string_view field_manager = {}) override;
  Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {}) override;

  // Fault injection: the next call of `verb` fails with `error` (queued; one per call).
  void FailNext(Verb verb, Status error);
  // Forgets the watch history and advances the resourceVersion: a later watch from any version issued before gets a
  // 410 ERROR event (this lets tests force a relist); a LIST afterwards returns a watchable version.
  void Compact();
  // While false, writes change the store but are not recorded for watches (events lost while disconnected).
  void set_record_history(bool record);
  // Ends every running watch (as a dropped connection would); their Watch calls return OK.
  void CloseWatches();
  // Sends a BOOKMARK with the current resourceVersion to every running watch of `resource`.
  void SendBookmark(const Resource& resource);
  // Number of calls per verb so far (including failed ones).
  int Calls(Verb verb) const;
  // Number of watches currently running.
  int ActiveWatches() const;
  // Blocks (real time, bounded by `timeout`) until at least `n` watches are running.
  bool WaitForWatches(int n, std::chrono::milliseconds timeout) const;
  std::string CurrentResourceVersion() const;

 private:
  struct HistoryEntry {
    int64_t rv;
    std::string resource;  // Resource::DisplayName()
    std::string ns;
    WatchEventType type;
    Json object;
  };
  std::optional<Status> TakeFailure(Verb verb);
  // Requires mu_ held.
  StatusOr<Json> WriteLocked(const Resource& resource, const std::string& ns, Json desired,
                             std::string_view subresource, bool create, bool check_rv, const std::string& context);
  void Record(const Resource& resource, const std::string& ns, WatchEventType type, const Json& object);

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  int64_t rv_ = 100;
  int64_t compacted_rv_ = 0;
  uint64_t close_generation_ = 0;
  bool record_history_ = true;
  int active_watches_ = 0;
  int name_counter_ = 0;
  // key: DisplayName() + "|" + ns + "|" + name
  std::map<std::string, Json> objects_;
  std::deque<HistoryEntry> history_;
  std::map<Verb, std::deque<Status>> failures_;
  std::map<Verb, int> calls_;
};

}  // namespace pipeguard::kube
