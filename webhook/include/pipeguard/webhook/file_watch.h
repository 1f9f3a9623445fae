// Change detection for files the webhook reloads (TLS pairs, configuration, context objects), by polling.
//
// A file's stamp is (exists, mtime in ns, size, inode, device) of the file stat() reaches, following symlinks, so
// the atomic symlink swap of Kubernetes Secret and ConfigMap volumes is seen as a change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pipeguard::webhook {

struct FileStamp {
  bool exists = false;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp StampFile(const std::string& path);

// Stamps of what `path` names: the file itself, or every regular *.yaml, *.yml and *.json file below a directory
// (recursively, the same files manifest::LoadPath reads), sorted by path. A listing error yields a stamp list that
// differs from any successful one, so the caller retries the load and reports the error.
using TreeStamp = std::vector<std::pair<std::string, FileStamp>>;
TreeStamp StampTree(const std::string& path);

// What a reload check did.
enum class ReloadOutcome { kUnchanged, kReloaded, kRejected };

// Called after every reload attempt with its result (for metrics).
using ReloadObserver = std::function<void(bool success)>;

// Runs `task` every `interval` on its own thread until Stop() or destruction. Stop() returns after the running
// task (if any) finished. Not copyable.
class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  void Stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pipeguard::webhook
