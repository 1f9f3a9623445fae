#include "pipeguard/webhook/file_context_provider.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::webhook {

StatusOr<policy::Config> LoadConfigFile(const std::string& path) {
  if (path.empty()) return policy::DefaultConfig();
  auto text = manifest::ReadFile(path);
  if (!text.ok()) return Status::InvalidArgument("configuration: " + text.status().message());
  return policy::ParseConfig(*text, path);
}

StatusOr<std::shared_ptr<const policy::ContextSnapshot>> LoadContextSnapshot(const FileContextOptions& options) {
  auto config = LoadConfigFile(options.config_path);
  if (!config.ok()) return config.status();
  policy::ContextSnapshotBuilder builder(std::move(config).value());
  for (const auto& path : options.context_paths) {
    auto documents = manifest::LoadPath(path);
    if (!documents.ok()) return documents.status();
    for (const auto& document : *documents) {
      Status status;
      policy::ForEachItem(document.object, [&](const nlohmann::json& item, int index) {
        if (!status.ok() || builder.AddConfigMap(item)) return;  // ConfigMaps that governed pods may mount
        auto added = builder.Add(item);
        if (added.ok()) return;
        std::string where = document.file + ":" + std::to_string(document.line);
        if (index >= 0) where += " (items[" + std::to_string(index) + "])";
        status = Status::InvalidArgument(where + ": " + added.status().message());
      });
      if (!status.ok()) return status;
    }
  }
  return std::move(builder).Build();
}

FileContextProvider::FileContextProvider(FileContextOptions options, ReloadObserver observer)
    : options_(std::move(options)), observer_(std::move(observer)) {}

FileContextProvider::~FileContextProvider() { Stop(); }

std::vector<TreeStamp> FileContextProvider::Stamps() const {
  std::vector<TreeStamp> stamps;
  if (!options_.config_path.empty()) stamps.push_back(StampTree(options_.config_path));
  for (const auto& path : options_.context_paths) stamps.push_back(StampTree(path));
  return stamps;
}

StatusOr<std::unique_ptr<FileContextProvider>> FileContextProvider::Create(FileContextOptions options,
                                                                           ReloadObserver observer) {
  std::unique_ptr<FileContextProvider> provider(new FileContextProvider(std::move(options), std::move(observer)));
  provider->stamps_ = provider->Stamps();
  auto snapshot = LoadContextSnapshot(provider->options_);
  if (!snapshot.ok()) return snapshot.status();
  if (provider->options_.prepare) {
    if (auto prepared = provider->options_.prepare(*snapshot); !prepared.ok()) return prepared;
  }
  spdlog::info("policy context loaded: {} profiles from {} context paths", (*snapshot)->profile_count(),
               provider->options_.context_paths.size());
  provider->current_.store(std::move(snapshot).value());
  return provider;
}

ReloadOutcome FileContextProvider::CheckNow() {
  std::vector<TreeStamp> stamps = Stamps();
  if (stamps == stamps_) return ReloadOutcome::kUnchanged;
  stamps_ = std::move(stamps);
  auto snapshot = LoadContextSnapshot(options_);
  if (!snapshot.ok()) {
    spdlog::error("policy context reload failed, keeping the previous snapshot: {}", snapshot.status().message());
    if (observer_) observer_(false);
    return ReloadOutcome::kRejected;
  }
  if (options_.prepare) {
    if (auto prepared = options_.prepare(*snapshot); !prepared.ok()) {
      spdlog::error("policy context reload rejected, keeping the previous snapshot: {}", prepared.message());
      if (observer_) observer_(false);
      return ReloadOutcome::kRejected;
    }
  }
  spdlog::info("policy context reloaded: {} profiles", (*snapshot)->profile_count());
  current_.store(std::move(snapshot).value());
  if (observer_) observer_(true);
  return ReloadOutcome::kReloaded;
}

void FileContextProvider::Start(std::chrono::milliseconds interval) {
  if (task_ == nullptr) task_ = std::make_unique<PeriodicTask>(interval, [this] { CheckNow(); });
}

void FileContextProvider::Stop() { task_.reset(); }

}  // namespace pipeguard::webhook
