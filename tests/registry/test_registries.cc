#include "test_registries.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "pipeguard/registry/http_registry.h"

namespace pipeguard::registry::testing {
namespace {

const std::string kScripts = std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/registry";

// Parses start.sh's env file: KEY=VALUE with VALUE as bash's printf %q writes simple strings.
std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> env;
  for (const auto& line : ReadLines(path)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string raw = line.substr(eq + 1), value;
    if (raw != "''") {
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
        value.push_back(raw[i]);
      }
    }
    env[line.substr(0, eq)] = value;
  }
  return env;
}

}  // namespace

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

StatusOr<std::string> RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return Status::Internal("popen failed for: " + command);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  int rc = pclose(pipe);
  if (rc != 0) {
    return Status::Internal("command failed (status " + std::to_string(WEXITSTATUS(rc)) + "): " + command +
                            "\nstdout: " + out);
  }
  return out;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + ".XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) return "";
  return buffer.data();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

StatusOr<std::unique_ptr<RealRegistry>> RealRegistry::Start(const std::string& flags) {
  // Installs or builds what is missing (apt packages, cosign from the Go module proxy): never a silent skip.
  if (auto installed = RunCommand(ShellQuote(kScripts + "/install.sh") + " >&2"); !installed.ok()) {
    return installed.status();
  }
  auto registry = std::unique_ptr<RealRegistry>(new RealRegistry());
  registry->dir_ = MakeTempDir("pipeguard-registry");
  if (registry->dir_.empty()) return Status::Internal("mkdtemp failed");
  auto started =
      RunCommand("PIPEGUARD_REGISTRY_OWNER_PID=" + std::to_string(getpid()) + " " + ShellQuote(kScripts + "/start.sh") +
                 " " + ShellQuote(registry->dir_) + " " + flags + " >&2");
  if (!started.ok()) return started.status();
  registry->env_ = ReadEnvFile(registry->dir_ + "/env");
  if (registry->host().empty()) return Status::Internal("start.sh wrote no REGISTRY_HOST");
  return registry;
}

RealRegistry::~RealRegistry() {
  if (dir_.empty()) return;
  (void)RunCommand(ShellQuote(kScripts + "/stop.sh") + " " + ShellQuote(dir_) + " >&2");
  (void)RunCommand("rm -rf " + ShellQuote(dir_));
}

std::string RealRegistry::env(const std::string& key) const {
  auto it = env_.find(key);
  return it == env_.end() ? "" : it->second;
}

StatusOr<std::string> RealRegistry::Push(const std::string& repo_and_tag, const std::string& seed) {
  auto out = RunCommand(ShellQuote(kScripts + "/artifacts.sh") + " push " + ShellQuote(dir_) + " " +
                        ShellQuote(repo_and_tag) + " " + ShellQuote(seed));
  if (!out.ok()) return out.status();
  std::string digest = *out;
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
  if (!IsValidSha256Digest(digest)) return Status::Internal("skopeo reported no digest: " + digest);
  return digest;
}

StatusOr<std::string> RealRegistry::Keygen(const std::string& name) {
  auto out =
      RunCommand(ShellQuote(kScripts + "/artifacts.sh") + " keygen " + ShellQuote(dir_) + " " + ShellQuote(name));
  if (!out.ok()) return out.status();
  std::string path = *out;
  while (!path.empty() && path.back() == '\n') path.pop_back();
  return path;
}

Status RealRegistry::Sign(const std::string& repo_at_digest, const std::string& key, const std::string& format) {
  auto out = RunCommand(ShellQuote(kScripts + "/artifacts.sh") + " sign " + ShellQuote(dir_) + " " +
                        ShellQuote(repo_at_digest) + " " + ShellQuote(key) + " " + ShellQuote(format));
  return out.ok() ? Status::Ok() : out.status();
}

namespace {

std::string Sha256Digest(const std::string& bytes) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), hash, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digest = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    digest.push_back(kHex[hash[i] >> 4]);
    digest.push_back(kHex[hash[i] & 0xf]);
  }
  return digest;
}

Status Unexpected(const std::string& what, const httplib::Result& result) {
  return Status::Internal(what + ": " +
                          (result ? "HTTP " + std::to_string(result->status) + " " + result->body.substr(0, 300)
                                  : "no answer (" + httplib::to_string(result.error()) + ")"));
}

}  // namespace

StatusOr<std::string> RealRegistry::PutBlob(const std::string& repo, const std::string& bytes) {
  httplib::Client client("http://" + host());
  const std::string digest = Sha256Digest(bytes);
  // A monolithic upload: open a session, then PUT the bytes to its Location with the digest.
  auto opened = client.Post("/v2/" + repo + "/blobs/uploads/", "", "application/octet-stream");
  if (!opened || opened->status != 202 || !opened->has_header("Location")) {
    return Unexpected("opening a blob upload to " + repo, opened);
  }
  std::string location = opened->get_header_value("Location");
  if (const size_t scheme = location.find("://"); scheme != std::string::npos) {
    location = location.substr(location.find('/', scheme + 3));
  }
  location += (location.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + digest;
  auto stored = client.Put(location, bytes, "application/octet-stream");
  if (!stored || stored->status != 201) return Unexpected("uploading blob " + digest, stored);
  return digest;
}

StatusOr<std::string> RealRegistry::PutManifest(const std::string& repo, const std::string& reference,
                                                const std::string& media_type, const std::string& body) {
  httplib::Client client("http://" + host());
  const std::string digest = Sha256Digest(body);
  auto stored = client.Put("/v2/" + repo + "/manifests/" + (reference.empty() ? digest : reference), body, media_type);
  if (!stored || stored->status != 201) return Unexpected("storing manifest " + repo + ":" + reference, stored);
  return digest;
}

StatusOr<std::unique_ptr<FakeRegistry>> FakeRegistry::Start(const std::string& basic_user) {
  auto fake = std::unique_ptr<FakeRegistry>(new FakeRegistry());
  fake->dir_ = MakeTempDir("pipeguard-fake-registry");
  if (fake->dir_.empty()) return Status::Internal("mkdtemp failed");
  for (const char* sub : {"/blobs", "/tags"}) {
    if (auto made = RunCommand("mkdir -p " + ShellQuote(fake->dir_ + sub)); !made.ok()) return made.status();
  }
  std::string command = "setsid python3 " + ShellQuote(kScripts + "/fake_registry.py") + " --port-file " +
                        ShellQuote(fake->dir_ + "/ports.json") + " --data " + ShellQuote(fake->dir_) + " --log " +
                        ShellQuote(fake->dir_ + "/requests.log") + " --slow-seconds 3" +
                        (basic_user.empty() ? "" : " --basic-user " + ShellQuote(basic_user)) + " >" +
                        ShellQuote(fake->dir_ + "/server.log") + " 2>&1 </dev/null & echo $!";
  auto pid = RunCommand(command);
  if (!pid.ok()) return pid.status();
  fake->pid_ = std::stoi(*pid);
  for (int i = 0; i < 100; ++i) {
    auto lines = ReadLines(fake->dir_ + "/ports.json");
    if (!lines.empty()) {
      auto ports = nlohmann::json::parse(lines[0]);
      fake->main_port_ = ports["main"].get<int>();
      fake->storage_port_ = ports["storage"].get<int>();
      return fake;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Internal("fake_registry.py did not start; see " + fake->dir_ + "/server.log");
}

FakeRegistry::~FakeRegistry() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);  // its own process group (setsid): the server and nothing else
    for (int i = 0; i < 50 && kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!dir_.empty()) (void)RunCommand("rm -rf " + ShellQuote(dir_));
}

std::string FakeRegistry::AddBlob(const std::string& body) {
  std::string digest = Sha256Digest(body);
  WriteFile(dir_ + "/blobs/" + digest.substr(7), body);
  return digest;
}

void FakeRegistry::Tag(const std::string& tag, const std::string& digest) { WriteFile(dir_ + "/tags/" + tag, digest); }

}  // namespace pipeguard::registry::testing
