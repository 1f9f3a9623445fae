#include "real_control_plane.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pipeguard::testing {

namespace {
const std::string kScripts = std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/controlplane";
}  // namespace

int RunShell(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  std::string out;
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) out.append(buffer, n);
  const int rc = pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

StatusOr<std::unique_ptr<RealControlPlane>> RealControlPlane::Start() {
  std::string out;
  if (RunShell(kScripts + "/install.sh --no-build", &out) != 0) {
    return Status::FailedPrecondition(
        "control plane binaries are missing; build them once with scripts/controlplane/install.sh (output: " + out +
        ")");
  }
  std::unique_ptr<RealControlPlane> plane(new RealControlPlane());
  char dir_template[] = "/tmp/pipeguard-cp-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return Status::Internal("cannot create a temporary directory");
  plane->dir_ = dir_template;
  if (RunShell(
          "PIPEGUARD_CONTROLPLANE_OWNER_PID=" + std::to_string(getpid()) + " " + kScripts + "/start.sh " + plane->dir_,
          &out) != 0) {
    return Status::Unavailable("scripts/controlplane/start.sh failed: " + out);
  }
  std::ifstream env(plane->dir_ + "/env");
  for (std::string line; std::getline(env, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) plane->env_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  plane->kubeconfig_ = plane->Env("KUBECONFIG");
  if (plane->kubeconfig_.empty()) return Status::Internal("the control plane's env file names no KUBECONFIG");
  return plane;
}

RealControlPlane::~RealControlPlane() {
  if (dir_.empty()) return;
  RunShell(kScripts + "/stop.sh " + dir_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RealControlPlane::Env(const std::string& name) const {
  auto it = env_.find(name);
  return it == env_.end() ? std::string() : it->second;
}

int RealControlPlane::Kubectl(const std::string& args, std::string* output) const {
  return RunShell(
      "KUBECONFIG=" + Env("KUBECONFIG") + " KUBECACHEDIR=" + Env("KUBECACHEDIR") + " " + Env("KUBECTL") + " " + args,
      output);
}

Status RealControlPlane::InstallProfileCrd() const {
  std::string out;
  if (Kubectl("apply -f " + std::string(PIPEGUARD_SOURCE_DIR) + "/crds/pipeguard.io_pipelinesecurityprofiles.yaml",
              &out) != 0) {
    return Status::Internal("kubectl apply of the profile CRD failed: " + out);
  }
  if (Kubectl("wait --for condition=established --timeout=60s crd/pipelinesecurityprofiles.pipeguard.io", &out) != 0) {
    return Status::DeadlineExceeded("the profile CRD was not established within 60 s: " + out);
  }
  return Status::Ok();
}

}  // namespace pipeguard::testing
