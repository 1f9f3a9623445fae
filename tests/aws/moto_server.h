// A real moto server for integration tests, started with scripts/moto/start.sh (which installs moto on first use)
// and stopped with stop.sh. Failing to start is a test failure, never a skip.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

namespace pipeguard::aws::testing {

class MotoServer {
 public:
  // Starts a server with its state in a fresh temporary directory. On failure, ok() is false and error() has the
  // script's output.
  MotoServer() {
    char templ[] = "/tmp/pipeguard-moto-XXXXXX";
    const char* made = ::mkdtemp(templ);
    if (made == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = made;
    const std::string scripts = std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/moto";
    const std::string cmd = "PIPEGUARD_MOTO_OWNER_PID=" + std::to_string(::getpid()) + " bash '" + scripts +
                            "/start.sh' '" + dir_.string() + "' >'" + (dir_ / "start.out").string() + "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream env(dir_ / "env");
    std::string line;
    while (std::getline(env, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (rc != 0 || env_.count("MOTO_ENDPOINT") == 0) {
      std::ifstream out(dir_ / "start.out");
      error_ = "scripts/moto/start.sh failed (exit " + std::to_string(rc) + "):\n" +
               std::string(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
    }
  }
  ~MotoServer() {
    if (dir_.empty()) return;
    const std::string cmd =
        "bash '" + std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/moto/stop.sh' '" + dir_.string() + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) std::filesystem::remove_all(dir_);
  }
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string endpoint() const { return env_.at("MOTO_ENDPOINT"); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::string error_;
};

}  // namespace pipeguard::aws::testing
