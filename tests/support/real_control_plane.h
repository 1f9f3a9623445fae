// The shared test library's real-server fixture: a kube-apiserver + etcd started by our own scripts
// (scripts/controlplane) on loopback, for the kube and operator integration tests. Plus the two helpers every
// real-server test needs: running a shell command and waiting for a condition.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "pipeguard/base/status.h"

namespace pipeguard::testing {

// Runs `command` with sh, stdout and stderr together into *output (when given); returns its exit status (-1 when it
// did not exit normally).
int RunShell(const std::string& command, std::string* output = nullptr);

// Polls `condition` every `poll` until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

// A control plane of its own: started in a fresh temporary directory, stopped and removed when destroyed. Its
// processes are tied to this test process (PIPEGUARD_CONTROLPLANE_OWNER_PID), so a crashed test leaves nothing.
class RealControlPlane {
 public:
  // Fails with a message that says how to fix it (binaries missing: run scripts/controlplane/install.sh once).
  static StatusOr<std::unique_ptr<RealControlPlane>> Start();
  ~RealControlPlane();
  RealControlPlane(const RealControlPlane&) = delete;
  RealControlPlane& operator=(const RealControlPlane&) = delete;

  // A variable of the control plane's env file (KUBECONFIG, KUBECTL, KUBECACHEDIR, ...); empty when unset.
  std::string Env(const std::string& name) const;
  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& dir() const { return dir_; }  // its PKI, logs and scratch files live here

  // `kubectl ARGS` against this control plane; returns its exit status.
  int Kubectl(const std::string& args, std::string* output = nullptr) const;

  // Applies crds/pipeguard.io_pipelinesecurityprofiles.yaml and waits until it is established.
  Status InstallProfileCrd() const;

 private:
  RealControlPlane() = default;
  std::string dir_;
  std::string kubeconfig_;
  std::map<std::string, std::string> env_;
};

}  // namespace pipeguard::testing
