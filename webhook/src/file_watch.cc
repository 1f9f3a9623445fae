#include "pipeguard/webhook/file_watch.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace pipeguard::webhook {

namespace fs = std::filesystem;

FileStamp StampFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  FileStamp stamp;
  stamp.exists = true;
  stamp.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  stamp.size = static_cast<std::uint64_t>(info.st_size);
  stamp.inode = static_cast<std::uint64_t>(info.st_ino);
  stamp.device = static_cast<std::uint64_t>(info.st_dev);
  return stamp;
}

TreeStamp StampTree(const std::string& path) {
  TreeStamp out;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    out.emplace_back(path, StampFile(path));
    return out;
  }
  fs::recursive_directory_iterator it(path, fs::directory_options::none, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec)) continue;
    const std::string ext = it->path().extension().string();
    if (ext != ".yaml" && ext != ".yml" && ext != ".json") continue;
    out.emplace_back(it->path().string(), StampFile(it->path().string()));
  }
  if (ec) out.emplace_back(path + " (listing failed: " + ec.message() + ")", FileStamp{});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

PeriodicTask::PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task) {
  thread_ = std::thread([this, interval, task = std::move(task)] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      task();
      lock.lock();
    }
  });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pipeguard::webhook
