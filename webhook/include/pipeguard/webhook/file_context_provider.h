// A policy::ContextProvider backed by files: the configuration (YAML) and context objects (PipelineSecurityProfiles,
// Namespaces, ServiceAccounts, RBAC, and ConfigMaps that governed pods mount) from files or directories, reloaded
// when they change.
//
// Every load builds a complete new snapshot and swaps it in atomically; a load that fails (unreadable file,
// malformed YAML, invalid profile) keeps the previous snapshot, logs the error with file and line, and reports it
// to the observer. Requests never wait for a reload.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/webhook/file_watch.h"

namespace pipeguard::webhook {

struct FileContextOptions {
  std::string config_path;                 // empty: policy::DefaultConfig()
  std::vector<std::string> context_paths;  // files or directories (recursive: *.yaml, *.yml, *.json)
  // Optional: called with every newly loaded snapshot before it becomes current (e.g. to build the image
  // verification service of its configuration). An error rejects that snapshot: at Create() it is the startup
  // error; on a reload the previous snapshot stays, the error is logged and the observer gets false.
  std::function<Status(const std::shared_ptr<const policy::ContextSnapshot>&)> prepare;
};

// The configuration file at `path` (strict YAML, errors name file and line); empty path: policy::DefaultConfig().
StatusOr<policy::Config> LoadConfigFile(const std::string& path);

// Builds one snapshot from the sources. Errors name the file and line (and the List item) and say how to fix.
// Objects of non-context kinds are ignored; `List` objects are unpacked.
StatusOr<std::shared_ptr<const policy::ContextSnapshot>> LoadContextSnapshot(const FileContextOptions& options);

class FileContextProvider final : public policy::ContextProvider {
 public:
  // Loads the sources once; an error here is a startup error (the caller should exit with a clear message).
  static StatusOr<std::unique_ptr<FileContextProvider>> Create(FileContextOptions options,
                                                               ReloadObserver observer = {});
  ~FileContextProvider() override;

  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return current_.load(); }

  // Reloads when any source changed since the last attempt (stamps are taken before reading, so a change during
  // a load triggers another one). Call from one thread at a time.
  ReloadOutcome CheckNow();
  void Start(std::chrono::milliseconds interval = std::chrono::seconds(1));
  void Stop();

 private:
  FileContextProvider(FileContextOptions options, ReloadObserver observer);
  std::vector<TreeStamp> Stamps() const;

  FileContextOptions options_;
  ReloadObserver observer_;
  std::atomic<std::shared_ptr<const policy::ContextSnapshot>> current_;
  std::vector<TreeStamp> stamps_;
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace pipeguard::webhook
