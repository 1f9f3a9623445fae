// The operator at scale, in ONE run (issue 4, section 6): N PipelineSecurityProfiles reconciled from scratch by the
// real pipeguard-operator binary against a real kube-apiserver + etcd (scripts/controlplane) and a real moto IAM
// server (scripts/moto), both on loopback in a temporary directory.
//
//   1. baseline A: `kubectl apply -f` of the N profiles (pure API-server cost of storing them);
//   2. the operator starts; time until every profile is Ready=True at its generation; then, once it is idle, the
//      Kubernetes API requests and IAM calls it made, per profile (its own /metrics:
//      pipeguard_operator_kube_requests_total{verb,resource}, pipeguard_operator_aws_api_calls_total{action,result});
//   3. the next periodic full resync (every profile reconciled again): requests per profile and writes, which must
//      be zero (exit 1 otherwise);
//   4. peak resident memory of the operator process (VmHWM from /proc/PID/status), target <= 50 MB;
//   5. baseline B: the same N CreateRole + PutRolePolicy calls (the operator's own documents) straight to moto with
//      as many threads as the operator has workers (the raw IAM cost of creating the roles).
// Reported: absolute figures and ratios of the time to Ready against both baselines.
//
// Usage: operator_scale [--profiles N] [--namespaces K] [--workers W] [--resync-seconds S] [--operator PATH] [--keep]
// Slow (minutes at N=500), so not part of ctest; see docs/performance.md. Exit 0 ok, 1 a target or check failed,
// 2 setup error.
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "moto_server.h"
#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/http.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/profile/profile.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace kube = pipeguard::kube;
namespace aws = pipeguard::aws;

const std::string kSource = PIPEGUARD_SOURCE_DIR;
const std::string kClusterName = "bench";
const std::string kAccount = "123456789012";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Everything started is stopped at exit, including through Die() (std::exit runs these static destructors).
struct ControlPlane {
  std::string dir;
  std::map<std::string, std::string> env;
  ~ControlPlane() {
    if (dir.empty()) return;
    std::system(("bash '" + kSource + "/scripts/controlplane/stop.sh' '" + dir + "' >/dev/null 2>&1").c_str());
  }
};
std::unique_ptr<ControlPlane> g_control_plane;
std::unique_ptr<aws::testing::MotoServer> g_moto;
pid_t g_operator = -1;
std::string g_workdir;
bool g_keep = false;

void StopOperator() {
  if (g_operator <= 0) return;
  ::kill(g_operator, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(g_operator, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
  if (::waitpid(g_operator, &status, WNOHANG) == 0) {
    ::kill(g_operator, SIGKILL);
    ::waitpid(g_operator, &status, 0);
  }
  g_operator = -1;
}

void Cleanup() {
  StopOperator();
  g_moto.reset();
  g_control_plane.reset();
  if (!g_workdir.empty() && !g_keep) {
    std::error_code ec;
    fs::remove_all(g_workdir, ec);
  }
}

[[noreturn]] void Die(const std::string& message, int code = 2) {
  std::cerr << "operator_scale: " << message << "\n";
  if (!g_workdir.empty()) std::cerr << "(operator log: " << g_workdir << "/operator.log, kept)\n";
  g_keep = true;
  Cleanup();
  std::exit(code);
}

int Run(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::string out;
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  const int rc = ::pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Kubectl(const std::string& args) {
  auto& env = g_control_plane->env;
  return "KUBECONFIG='" + env["KUBECONFIG"] + "' KUBECACHEDIR='" + env["KUBECACHEDIR"] + "' '" + env["KUBECTL"] + "' " +
         args;
}

// /proc/PID/status fields in kB (VmRSS, VmHWM); 0 when unreadable.
long ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return 0;
}

// Prometheus text format: one sample per series (counters only need name, labels and value).
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
using Metrics = std::vector<Sample>;

Metrics Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) Die("cannot scrape the operator's /metrics on port " + std::to_string(port));
  Metrics out;
  static const std::regex kLine(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$)");
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  std::istringstream in(res->body);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, kLine)) continue;
    Sample s{m[1], {}, std::strtod(m[4].str().c_str(), nullptr)};
    const std::string labels = m[3];
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), kLabel); it != std::sregex_iterator(); ++it) {
      s.labels[(*it)[1]] = (*it)[2];
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Sum of `name`'s series whose labels include `match` (a label absent from `match` is summed over).
double Sum(const Metrics& metrics, const std::string& name, const std::map<std::string, std::string>& match = {}) {
  double total = 0;
  for (const auto& s : metrics) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      ok = ok && it != s.labels.end() && it->second == v;
    }
    if (ok) total += s.value;
  }
  return total;
}

// Per-series difference after - before, keyed by one label (e.g. the IAM action or the kube verb).
std::map<std::string, double> DeltaBy(const Metrics& before, const Metrics& after, const std::string& name,
                                      const std::string& label) {
  std::map<std::string, double> out;
  for (const auto& s : after) {
    if (s.name == name && s.labels.count(label)) out[s.labels.at(label)] += s.value;
  }
  for (const auto& s : before) {
    if (s.name == name && s.labels.count(label)) out[s.labels.at(label)] -= s.value;
  }
  std::erase_if(out, [](const auto& kv) { return kv.second == 0; });
  return out;
}

constexpr const char* kKubeRequests = "pipeguard_operator_kube_requests_total";
constexpr const char* kAwsCalls = "pipeguard_operator_aws_api_calls_total";
constexpr const char* kReconciles = "pipeguard_operator_reconciles_total";

bool IsWrite(const std::string& verb) {
  return verb == "create" || verb == "update" || verb == "apply" || verb == "patch" || verb == "delete";
}

struct Costs {
  double kube_reads = 0, kube_writes = 0, event_writes = 0, iam_calls = 0, iam_writes = 0, reconciles = 0, errors = 0;
  double mean_reconcile_ms = 0;
  std::map<std::string, double> kube_by_verb, iam_by_action;
};

Costs CostsBetween(const Metrics& before, const Metrics& after) {
  Costs c;
  c.kube_by_verb = DeltaBy(before, after, kKubeRequests, "verb");
  for (const auto& [verb, n] : c.kube_by_verb) (IsWrite(verb) ? c.kube_writes : c.kube_reads) += n;
  c.event_writes = Sum(after, kKubeRequests, {{"resource", "events.events.k8s.io"}}) -
                   Sum(before, kKubeRequests, {{"resource", "events.events.k8s.io"}});
  c.iam_by_action = DeltaBy(before, after, kAwsCalls, "action");
  for (const auto& [action, n] : c.iam_by_action) {
    c.iam_calls += n;
    if (action.rfind("Get", 0) != 0 && action.rfind("List", 0) != 0) c.iam_writes += n;
  }
  c.reconciles = Sum(after, kReconciles) - Sum(before, kReconciles);
  c.errors = Sum(after, kReconciles, {{"result", "error"}}) - Sum(before, kReconciles, {{"result", "error"}});
  const std::string duration = "pipeguard_operator_reconcile_duration_seconds";
  const double count = Sum(after, duration + "_count") - Sum(before, duration + "_count");
  if (count > 0) c.mean_reconcile_ms = 1000 * (Sum(after, duration + "_sum") - Sum(before, duration + "_sum")) / count;
  return c;
}

std::string PerProfile(const std::map<std::string, double>& by, int n) {
  std::string out;
  char buf[96];
  for (const auto& [k, v] : by) {
    std::snprintf(buf, sizeof(buf), "%s%s %.2f", out.empty() ? "" : ", ", k.c_str(), v / n);
    out += buf;
  }
  return out.empty() ? "none" : out;
}

// Waits until the operator has made no reconcile for `quiet` (polling /metrics), returns the last scrape.
Metrics WaitIdle(int port, std::chrono::milliseconds quiet, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  Metrics last = Scrape(port);
  auto stable_since = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(500ms);
    Metrics now = Scrape(port);
    if (Sum(now, kReconciles) != Sum(last, kReconciles) || Sum(now, kKubeRequests) != Sum(last, kKubeRequests) ||
        Sum(now, kAwsCalls) != Sum(last, kAwsCalls)) {
      stable_since = Clock::now();
    }
    last = std::move(now);
    if (Clock::now() - stable_since >= quiet) return last;
  }
  Die("the operator did not become idle in time");
}

Json ProfileObject(int i, int namespaces) {
  const std::string name = "pipeline-" + std::to_string(i);
  const std::string ns = "team-" + std::to_string(i % namespaces);
  Json p = {
      {"apiVersion", "pipeguard.io/v1alpha1"},
      {"kind", "PipelineSecurityProfile"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec",
       {{"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", name}}}}},
        {"serviceAccount", {{"name", name}, {"automountToken", false}}},
        {"aws",
         {{"s3", Json::array({{{"bucket", "acme-data-raw"}, {"prefixes", {ns + "/" + name + "/"}}, {"access", "read"}},
                              {{"bucket", "acme-data-curated"}, {"prefixes", {ns + "/"}}, {"access", "readwrite"}}})},
          {"s3WriteKmsKeyArn", "arn:aws:kms:eu-west-1:" + kAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"}}},
        {"network",
         {{"egress", Json::array({{{"cidr", "10.20.0.0/16"}, {"ports", Json::array({{{"port", 5432}}})}},
                                  {{"cidr", "10.30.4.0/24"}, {"ports", Json::array({{{"port", 9096}}})}}})}}}}}};
  return p;
}

std::string OperatorConfigYaml() {
  return "clusterName: " + kClusterName + "\nawsAccountId: \"" + kAccount +
         "\"\noidcIssuerUrl: https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF\n"
         "permissionsBoundaryArn: arn:aws:iam::" +
         kAccount + ":policy/pipeguard-boundary\nstsEgressCidrs: [10.0.8.0/24]\n";
}

struct Options {
  int profiles = 500;
  int namespaces = 10;
  int workers = 2;
  int resync_seconds = 0;  // 0: chosen from N
  std::string operator_binary = PIPEGUARD_OPERATOR_BINARY;
};

Options ParseFlags(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--profiles") {
      o.profiles = std::atoi(next().c_str());
    } else if (a == "--namespaces") {
      o.namespaces = std::atoi(next().c_str());
    } else if (a == "--workers") {
      o.workers = std::atoi(next().c_str());
    } else if (a == "--resync-seconds") {
      o.resync_seconds = std::atoi(next().c_str());
    } else if (a == "--operator") {
      o.operator_binary = next();
    } else if (a == "--keep") {
      g_keep = true;
    } else {
      Die("usage: operator_scale [--profiles N] [--namespaces K] [--workers W] [--resync-seconds S] "
          "[--operator PATH] [--keep]");
    }
  }
  if (o.profiles < 1 || o.namespaces < 1 || o.namespaces > o.profiles || o.workers < 1 || o.workers > 64) {
    Die("--profiles >= 1, 1 <= --namespaces <= --profiles, 1 <= --workers <= 64");
  }
  // The periodic resync must not fall inside the from-scratch phase (about 25 ms per profile on 2 cores): allow
  // 0.2 s per profile plus slack.
  if (o.resync_seconds <= 0) o.resync_seconds = std::max(60, 30 + o.profiles / 5);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseFlags(argc, argv);
  const int n = opt.profiles;
  char tmpl[] = "/tmp/pipeguard-operator-scale-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  g_workdir = tmpl;
  std::signal(SIGPIPE, SIG_IGN);
  if (!fs::exists(opt.operator_binary)) Die("no operator binary at " + opt.operator_binary);

  // --- the real servers -------------------------------------------------------------------------------------------
  std::string out;
  if (Run("bash '" + kSource + "/scripts/controlplane/install.sh' --no-build", &out) != 0) {
    Die("control plane binaries are missing; build them once with scripts/controlplane/install.sh:\n" + out);
  }
  g_control_plane = std::make_unique<ControlPlane>();
  const std::string cp_dir = g_workdir + "/controlplane";
  fs::create_directories(cp_dir);
  if (Run("PIPEGUARD_CONTROLPLANE_OWNER_PID=" + std::to_string(::getpid()) + " bash '" + kSource +
              "/scripts/controlplane/start.sh' '" + cp_dir + "'",
          &out) != 0) {
    Die("scripts/controlplane/start.sh failed:\n" + out);
  }
  g_control_plane->dir = cp_dir;
  {
    std::ifstream env(cp_dir + "/env");
    for (std::string line; std::getline(env, line);) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) g_control_plane->env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  g_moto = std::make_unique<aws::testing::MotoServer>();
  if (!g_moto->ok()) Die(g_moto->error());

  if (Run(Kubectl("apply -f '" + kSource + "/crds/pipeguard.io_pipelinesecurityprofiles.yaml'"), &out) != 0 ||
      Run(Kubectl("wait --for condition=established --timeout=60s crd/pipelinesecurityprofiles.pipeguard.io"), &out) !=
          0) {
    Die("cannot install the CRD: " + out);
  }
  auto kube_config = kube::LoadKubeconfig({.path = g_control_plane->env["KUBECONFIG"]});
  if (!kube_config.ok()) Die(kube_config.status().message());
  auto kube_client = kube::NewHttpKubeClient(*kube_config);
  if (!kube_client.ok()) Die(kube_client.status().message());
  kube::KubeClient& k8s = **kube_client;
  for (int i = 0; i < opt.namespaces; ++i) {
    Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team-" + std::to_string(i)}}}};
    if (auto r = k8s.Create(kube::resources::Namespaces(), "", ns); !r.ok()) Die(r.status().message());
  }

  // --- baseline A: kubectl apply of the N profiles ------------------------------------------------------------------
  const std::string profiles_file = g_workdir + "/profiles.json";
  {
    Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", Json::array()}};
    for (int i = 0; i < n; ++i) list["items"].push_back(ProfileObject(i, opt.namespaces));
    std::ofstream(profiles_file) << list.dump();
  }
  const auto apply_start = Clock::now();
  if (Run(Kubectl("apply -f '" + profiles_file + "'"), &out) != 0) Die("kubectl apply of the profiles failed: " + out);
  const double apply_seconds = Seconds(Clock::now() - apply_start);

  // --- the operator from scratch ------------------------------------------------------------------------------------
  const std::string config_file = g_workdir + "/operator.yaml";
  std::ofstream(config_file) << OperatorConfigYaml();
  const std::string log_file = g_workdir + "/operator.log";
  const auto operator_start = Clock::now();
  g_operator = ::fork();
  if (g_operator < 0) Die("fork failed");
  if (g_operator == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlives the benchmark
    std::freopen(log_file.c_str(), "w", stdout);
    std::freopen(log_file.c_str(), "a", stderr);
    ::setenv("AWS_ACCESS_KEY_ID", "AKIAPIPEGUARDTEST000", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "pipeguard-moto-dummy-secret", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    const std::string kubeconfig = g_control_plane->env["KUBECONFIG"];
    const std::string endpoint = g_moto->endpoint();
    const std::string workers = std::to_string(opt.workers);
    const std::string resync = std::to_string(opt.resync_seconds) + "s";
    ::execl(opt.operator_binary.c_str(), opt.operator_binary.c_str(), "--config", config_file.c_str(), "--kubeconfig",
            kubeconfig.c_str(), "--aws-endpoint", endpoint.c_str(), "--metrics-listen", "127.0.0.1:0", "--workers",
            workers.c_str(), "--resync", resync.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::ifstream log(log_file);
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(text, m, std::regex("metrics on port ([0-9]+)"))) port = std::stoi(m[1]);
    if (::waitpid(g_operator, nullptr, WNOHANG) != 0) Die("the operator exited:\n" + text);
    if (port == 0) std::this_thread::sleep_for(20ms);
  }
  if (port == 0) Die("the operator did not report its metrics port");

  int ready = 0;
  double ready_seconds = 0;
  const auto ready_deadline = operator_start + std::chrono::seconds(120 + 2 * n);
  while (true) {
    auto listed = k8s.ListAll(kube::resources::PipelineSecurityProfiles(), "", {});
    if (!listed.ok()) Die(listed.status().message());
    ready = 0;
    for (const auto& p : listed->items) {
      const int64_t generation = p["metadata"].value("generation", int64_t{0});
      const Json status = p.value("status", Json::object());
      if (status.value("observedGeneration", int64_t{-1}) != generation) continue;
      for (const auto& c : status.value("conditions", Json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
      }
    }
    if (ready == n) {
      ready_seconds = Seconds(Clock::now() - operator_start);
      break;
    }
    if (Clock::now() > ready_deadline) Die(std::to_string(ready) + " of " + std::to_string(n) + " profiles Ready");
    std::this_thread::sleep_for(500ms);  // the LIST competes with the operator for the same cores: not too often
  }
  const Metrics initial = WaitIdle(port, 3s, std::chrono::seconds(600));
  const double idle_seconds = Seconds(Clock::now() - operator_start);
  const long rss_idle_kb = ProcStatusKb(g_operator, "VmRSS");
  const Costs scratch = CostsBetween({}, initial);

  // --- the next periodic full resync ---------------------------------------------------------------------------------
  const auto resync_deadline = Clock::now() + std::chrono::seconds(2 * opt.resync_seconds + 300);
  while (Sum(Scrape(port), kReconciles) - Sum(initial, kReconciles) < n) {
    if (Clock::now() > resync_deadline) Die("no full resync within " + std::to_string(2 * opt.resync_seconds) + " s");
    std::this_thread::sleep_for(500ms);
  }
  const Metrics after_resync = WaitIdle(port, 3s, std::chrono::seconds(600));
  const Costs resync = CostsBetween(initial, after_resync);
  const long hwm_kb = ProcStatusKb(g_operator, "VmHWM");
  const long rss_end_kb = ProcStatusKb(g_operator, "VmRSS");
  StopOperator();

  // --- baseline B: the raw IAM calls ---------------------------------------------------------------------------------
  auto operator_config = pipeguard::guardrails::ParseOperatorConfig(OperatorConfigYaml(), "operator.yaml");
  if (!operator_config.ok()) Die(operator_config.status().message());
  auto http = aws::MakeHttplibAwsHttpClient();
  aws::StaticCredentialsProvider credentials(
      aws::Credentials{"AKIAPIPEGUARDTEST000", "pipeguard-moto-dummy-secret", "", std::nullopt, "static"});
  aws::SystemRandom random;
  aws::ServiceConfig iam_config = aws::IamServiceConfig();
  iam_config.endpoint = aws::Endpoint::Parse(g_moto->endpoint()).value();
  aws::ServiceClient iam_service(iam_config, *http, &credentials, aws::SystemClock(), random);
  aws::IamClient iam(iam_service);
  std::vector<std::pair<aws::CreateRoleRequest, std::string>> requests;
  for (int i = 0; i < n; ++i) {
    Json object = ProfileObject(i, opt.namespaces);
    object["metadata"]["name"] = "baseline-" + std::to_string(i);  // other role names than the operator's
    object["metadata"]["uid"] = "00000000-0000-0000-0000-" + std::to_string(100000000000 + i);
    auto parsed = pipeguard::api::ParseProfile(object);
    if (!parsed.ok()) Die(parsed.status().message());
    requests.emplace_back(pipeguard::desired::DesiredCreateRole(*operator_config, *parsed),
                          pipeguard::guardrails::CanonicalInlinePolicy(*parsed, operator_config->aws_partition));
  }
  std::atomic<int> next{0}, failures{0};
  const auto iam_start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < opt.workers; ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < n; i = next++) {
          auto created = iam.CreateRole(requests[i].first);
          if (!created.ok() ||
              !iam.PutRolePolicy(requests[i].first.role_name, pipeguard::desired::kInlinePolicyName, requests[i].second)
                   .ok()) {
            ++failures;
          }
        }
      });
    }
  }
  const double iam_seconds = Seconds(Clock::now() - iam_start);
  if (failures > 0) Die("baseline B: " + std::to_string(failures.load()) + " IAM calls failed");

  // --- report ------------------------------------------------------------------------------------------------------
  std::string machine;
  Run("nproc", &machine);
  std::string load;
  { std::ifstream("/proc/loadavg") >> load; }
  const auto per = [n](double v) { return v / n; };
  std::printf("\noperator_scale: %d profiles in %d namespaces, %d workers, %s cores (load %s at the end)\n\n", n,
              opt.namespaces, opt.workers, machine.substr(0, machine.find('\n')).c_str(), load.c_str());
  std::printf("| measurement | figure |\n|---|---|\n");
  std::printf("| time from operator start to all %d Ready | %.1f s (%.1f profiles/s) |\n", n, ready_seconds,
              n / ready_seconds);
  std::printf(
      "| until idle (follow-up passes done) | %.1f s, %.0f reconciles (%.2f per profile, mean %.0f ms), "
      "%.0f errors |\n",
      idle_seconds, scratch.reconciles, per(scratch.reconciles), scratch.mean_reconcile_ms, scratch.errors);
  std::printf(
      "| from scratch: Kubernetes API requests per profile | %.2f (reads %.2f, writes %.2f of which Events "
      "%.2f): %s |\n",
      per(scratch.kube_reads + scratch.kube_writes), per(scratch.kube_reads), per(scratch.kube_writes),
      per(scratch.event_writes), PerProfile(scratch.kube_by_verb, n).c_str());
  std::printf("| from scratch: IAM calls per profile | %.2f: %s |\n", per(scratch.iam_calls),
              PerProfile(scratch.iam_by_action, n).c_str());
  std::printf("| steady-state resync: reconciles | %.0f (mean %.1f ms, %.0f errors) |\n", resync.reconciles,
              resync.mean_reconcile_ms, resync.errors);
  std::printf("| steady-state resync: writes, Kubernetes / IAM | %.0f / %.0f (target 0) |\n", resync.kube_writes,
              resync.iam_writes);
  std::printf("| steady-state resync: Kubernetes reads per profile | %.2f: %s |\n", per(resync.kube_reads),
              PerProfile(resync.kube_by_verb, n).c_str());
  std::printf("| steady-state resync: IAM calls per profile | %.2f: %s |\n", per(resync.iam_calls),
              PerProfile(resync.iam_by_action, n).c_str());
  std::printf(
      "| operator resident memory: peak (VmHWM) / idle after Ready / end | %.1f / %.1f / %.1f MiB "
      "(target <= 50 MB) |\n",
      hwm_kb / 1024.0, rss_idle_kb / 1024.0, rss_end_kb / 1024.0);
  std::printf("| baseline A: `kubectl apply` of the %d profiles | %.1f s |\n", n, apply_seconds);
  std::printf("| baseline B: %d x (CreateRole + PutRolePolicy) straight to moto, %d threads | %.1f s |\n", n,
              opt.workers, iam_seconds);
  std::printf("| ratio time-to-Ready / baseline A | %.2fx |\n", ready_seconds / apply_seconds);
  std::printf("| ratio time-to-Ready / baseline B | %.2fx |\n", ready_seconds / iam_seconds);

  bool ok = true;
  const auto check = [&ok](bool good, const std::string& what) {
    if (!good) {
      std::printf("FAILED: %s\n", what.c_str());
      ok = false;
    }
  };
  check(resync.kube_writes == 0, "the steady-state resync made Kubernetes writes");
  check(resync.iam_writes == 0, "the steady-state resync made IAM writes");
  check(resync.reconciles >= n, "the resync did not reconcile every profile");
  check(hwm_kb <= 50 * 1000, "peak resident memory above 50 MB");
  Cleanup();
  return ok ? 0 : 1;
}
