// Real and fake registries for the integration tests of HttpRegistry.
//
// RealRegistry runs Debian's docker-registry through scripts/registry/start.sh in a fresh temp dir (installing
// the tools with scripts/registry/install.sh when they are missing: never skipped) and stops it with stop.sh;
// images are pushed with skopeo and signed with the real cosign CLIs (scripts/registry/artifacts.sh).
// FakeRegistry runs scripts/registry/fake_registry.py (slow, dripping, oversized, redirecting, flaky answers).
// Both are tied to this test process: start.sh's watchdog stops the registry if the process dies.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::registry::testing {

// '...'-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);
// Runs `command` with /bin/sh -c; its stdout (stderr goes to the test log), or an error with the exit status.
StatusOr<std::string> RunCommand(const std::string& command);
// A fresh directory under $TMPDIR (or /tmp).
std::string MakeTempDir(const std::string& prefix);
// The non-empty lines of a file ("" when it does not exist).
std::vector<std::string> ReadLines(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

class RealRegistry {
 public:
  // flags: "", "--tls", "--token-auth" or both.
  static StatusOr<std::unique_ptr<RealRegistry>> Start(const std::string& flags);
  ~RealRegistry();

  const std::string& dir() const { return dir_; }
  std::string env(const std::string& key) const;
  std::string host() const { return env("REGISTRY_HOST"); }

  // artifacts.sh push: the manifest digest skopeo reports.
  StatusOr<std::string> Push(const std::string& repo_and_tag, const std::string& seed);
  // artifacts.sh keygen: the public key path.
  StatusOr<std::string> Keygen(const std::string& name);
  // artifacts.sh sign: format "v2-legacy", "v3-bundle" or "v3-legacy".
  Status Sign(const std::string& repo_at_digest, const std::string& key, const std::string& format);

  // Raw pushes over the distribution API, for artifacts no CLI here can make (a keyless bundle from the tests' own
  // Fulcio). Plain-HTTP registries only (started without --tls and --token-auth).
  // Stores `bytes` as a blob of `repo`; returns its digest.
  StatusOr<std::string> PutBlob(const std::string& repo, const std::string& bytes);
  // Stores `body` as a manifest of `repo` under `reference` (a tag, or empty for its digest); returns its digest.
  StatusOr<std::string> PutManifest(const std::string& repo, const std::string& reference,
                                    const std::string& media_type, const std::string& body);

 private:
  std::string dir_;
  std::map<std::string, std::string> env_;
};

class FakeRegistry {
 public:
  // basic_user "user:password" makes the main server demand Basic auth.
  static StatusOr<std::unique_ptr<FakeRegistry>> Start(const std::string& basic_user);
  ~FakeRegistry();

  std::string host() const { return "127.0.0.1:" + std::to_string(main_port_); }
  int storage_port() const { return storage_port_; }
  const std::string& dir() const { return dir_; }
  // Stores `body` as a blob (and manifest) by digest; returns the digest.
  std::string AddBlob(const std::string& body);
  void Tag(const std::string& tag, const std::string& digest);
  // The request log: one JSON object per request.
  std::vector<std::string> Log() const { return ReadLines(dir_ + "/requests.log"); }

 private:
  std::string dir_;
  int pid_ = 0;
  int main_port_ = 0;
  int storage_port_ = 0;
};

}  // namespace pipeguard::registry::testing
