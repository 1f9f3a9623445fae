// Integration tests against a REAL kube-apiserver + etcd started from scripts/controlplane (the envtest approach).
// The control plane is started once per test process in SetUpTestSuite and stopped in TearDownTestSuite; each test
// uses its own namespace. Missing binaries are a failure with instructions, never a silent skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "pipeguard/kube/config.h"
#include "pipeguard/kube/context_provider.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/leader_election.h"
#include "real_control_plane.h"

namespace pipeguard::kube {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

using pipeguard::testing::Eventually;
using pipeguard::testing::RealControlPlane;

class ControlPlaneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto plane = RealControlPlane::Start();
    if (!plane.ok()) {
      setup_error_ = plane.status().message();
      return;
    }
    plane_ = std::move(plane).value().release();
    auto config = LoadKubeconfig({.path = plane_->kubeconfig()});
    if (!config.ok()) {
      setup_error_ = config.status().message();
      return;
    }
    config_ = new ClientConfig(*config);
    auto client = NewHttpKubeClient(*config);
    if (!client.ok()) {
      setup_error_ = client.status().message();
      return;
    }
    client_ = client->release();
  }

  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    delete config_;
    config_ = nullptr;
    delete plane_;  // stops the control plane and removes its directory
    plane_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ns_ = "t-" + std::to_string(counter_++) + "-" + std::to_string(getpid());
    ASSERT_TRUE(client_
                    ->Create(resources::Namespaces(), "",
                             {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}})
                    .ok());
  }

  static Json ConfigMap(const std::string& name, const std::string& value) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", value}}}};
  }

  int Kubectl(const std::string& args, std::string* out = nullptr) { return plane_->Kubectl(args, out); }

  void InstallCrd() {
    const Status installed = plane_->InstallProfileCrd();
    ASSERT_TRUE(installed.ok()) << installed.message();
  }

  static Json Profile(const std::string& name) {
    return {{"apiVersion", "pipeguard.io/v1alpha1"},
            {"kind", "PipelineSecurityProfile"},
            {"metadata", {{"name", name}}},
            {"spec", {{"podSelector", {{"matchLabels", {{"app", name}}}}}, {"serviceAccount", {{"name", name}}}}}};
  }

  static inline std::string setup_error_;
  static inline RealControlPlane* plane_ = nullptr;
  static inline ClientConfig* config_ = nullptr;
  static inline KubeClient* client_ = nullptr;
  static inline int counter_ = 0;
  std::string ns_;
};

TEST_F(ControlPlaneTest, CrudApplyPatchDeleteAndTypedErrors) {
  KubeClient& c = *client_;
  auto created = c.Create(resources::ConfigMaps(), ns_, ConfigMap("cm", "1"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(IsAlreadyExists(c.Create(resources::ConfigMaps(), ns_, ConfigMap("cm", "1")).status()));

  auto got = c.Get(resources::ConfigMaps(), ns_, "cm");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["data"]["k"], "1");
  Json updated = *got;
  updated["data"]["k"] = "2";
  ASSERT_TRUE(c.Update(resources::ConfigMaps(), ns_, updated).ok());
  Status stale = c.Update(resources::ConfigMaps(), ns_, updated).status();  // old resourceVersion
  EXPECT_TRUE(IsConflict(stale)) << stale.message();

  // Server-side apply: the second identical apply changes nothing, not even the resourceVersion.
  const Json desired = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", "applied"}, {"labels", {{"app.kubernetes.io/managed-by", "pipeguard"}}}}},
      {"data", {{"a", "1"}}}};
  ApplyOptions apply{.field_manager = "pipeguard-test", .force = true};
  auto first = c.Apply(resources::ConfigMaps(), ns_, "applied", desired, apply);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = c.Apply(resources::ConfigMaps(), ns_, "applied", desired, apply);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(ResourceVersionOf(*first), ResourceVersionOf(*second));
  // Another manager changing our field conflicts unless forced.
  Json other = desired;
  other["data"]["a"] = "2";
  Status conflict = c.Apply(resources::ConfigMaps(), ns_, "applied", other, {.field_manager = "someone-else"}).status();
  EXPECT_TRUE(IsConflict(conflict)) << conflict.message();

  auto merged = c.Patch(resources::ConfigMaps(), ns_, "applied", PatchType::kMerge, {{"data", {{"b", "x"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().message();
  EXPECT_EQ((*merged)["data"]["b"], "x");
  auto json_patched = c.Patch(resources::ConfigMaps(), ns_, "applied", PatchType::kJson,
                              Json::array({{{"op", "remove"}, {"path", "/data/b"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status().message();
  EXPECT_FALSE((*json_patched)["data"].contains("b"));

  Status invalid = c.Create(resources::ConfigMaps(), ns_, ConfigMap("Not_A_Valid_Name", "1")).status();
  EXPECT_TRUE(IsInvalid(invalid)) << invalid.message();
  EXPECT_THAT(invalid.message(), HasSubstr("Not_A_Valid_Name"));

  Status wrong_uid = c.Delete(resources::ConfigMaps(), ns_, "cm", {.precondition_uid = "not-the-uid"});
  EXPECT_TRUE(IsConflict(wrong_uid)) << wrong_uid.message();
  ASSERT_TRUE(c.Delete(resources::ConfigMaps(), ns_, "cm", {.propagation_policy = "Background"}).ok());
  EXPECT_TRUE(IsNotFound(c.Get(resources::ConfigMaps(), ns_, "cm").status()));
  EXPECT_TRUE(IsNotFound(c.Delete(resources::ConfigMaps(), ns_, "cm")));
}

TEST_F(ControlPlaneTest, ListPaginatesWithLimitAndContinue) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, ConfigMap("cm" + std::to_string(i), "v")).ok());
  }
  std::vector<size_t> page_sizes;
  ListOptions options{.limit = 2};
  std::vector<std::string> names;
  do {
    auto page = client_->List(resources::ConfigMaps(), ns_, options);
    ASSERT_TRUE(page.ok()) << page.status().message();
    page_sizes.push_back(page->items.size());
    for (const auto& item : page->items) {
      EXPECT_EQ(item["kind"], "ConfigMap");  // restored on LIST items
      EXPECT_EQ(item["apiVersion"], "v1");
      names.push_back(item["metadata"]["name"]);
    }
    options.continue_token = page->continue_token;
  } while (!options.continue_token.empty());
  // kube-root-ca.crt is not created without the controller-manager, so exactly our five.
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(names, (std::vector<std::string>{"cm0", "cm1", "cm2", "cm3", "cm4"}));
  auto all = client_->ListAll(resources::ConfigMaps(), ns_, {.limit = 2});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 5u);
  EXPECT_FALSE(all->resource_version.empty());
}

TEST_F(ControlPlaneTest, WatchSeesAddModifyDeleteAndStopsPromptly) {
  auto list = client_->List(resources::ConfigMaps(), ns_, {});
  ASSERT_TRUE(list.ok());
  std::mutex mu;
  std::vector<std::string> events;
  std::stop_source stop;
  Status watch_status = Status::Internal("not returned");
  std::thread watcher([&] {
    watch_status = client_->Watch(
        resources::ConfigMaps(), ns_, {.resource_version = list->resource_version, .timeout_seconds = 120},
        [&](WatchEvent&& e) {
          if (e.type == WatchEventType::kBookmark) return true;
          std::lock_guard lock(mu);
          events.push_back(std::string(WatchEventTypeName(e.type)) + " " +
                           e.object["metadata"]["name"].get<std::string>());
          return true;
        },
        stop.get_token());
  });
  auto count = [&] {
    std::lock_guard lock(mu);
    return events.size();
  };
  ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, ConfigMap("w", "1")).ok());
  ASSERT_TRUE(client_->Patch(resources::ConfigMaps(), ns_, "w", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  ASSERT_TRUE(client_->Delete(resources::ConfigMaps(), ns_, "w").ok());
  EXPECT_TRUE(Eventually([&] { return count() >= 3; }));
  const auto stop_at = std::chrono::steady_clock::now();
  stop.request_stop();
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 5s);  // not the 120 s server timeout
  EXPECT_TRUE(watch_status.ok()) << watch_status.message();
  EXPECT_EQ(events, (std::vector<std::string>{"ADDED w", "MODIFIED w", "DELETED w"}));
}

TEST_F(ControlPlaneTest, WatchFromAnExpiredVersionReports410) {
  Status from_error;
  Status s = client_->Watch(resources::ConfigMaps(), "", {.resource_version = "1", .timeout_seconds = 10},
                            [&](WatchEvent&& e) {
                              if (e.type == WatchEventType::kError) {
                                from_error = StatusFromApiStatus(e.object, 500, "WATCH");
                                return false;
                              }
                              return true;
                            },
                            {});
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(IsGone(from_error)) << from_error.message();
}

// Forwards to the real client but makes the Nth watch start from resourceVersion "1", which the real server
// answers with 410 Expired: the informer must relist.
class ExpiringWatchClient final : public KubeClient {
 public:
  ExpiringWatchClient(KubeClient& inner, int expire_watch) : inner_(inner), expire_watch_(expire_watch) {}
  StatusOr<Json> Get(const Resource& r, std::string_view ns, std::string_view n) override {
    return inner_.Get(r, ns, n);
  }
  StatusOr<ListPage> List(const Resource& r, std::string_view ns, const ListOptions& o) override {
    return inner_.List(r, ns, o);
  }
  Status Watch(const Resource& r, std::string_view ns, const WatchOptions& o, const WatchCallback& cb,
               std::stop_token stop) override {
    WatchOptions options = o;
    if (++watches_ == expire_watch_) options.resource_version = "1";
    return inner_.Watch(r, ns, options, cb, stop);
  }
  StatusOr<Json> Create(const Resource& r, std::string_view ns, const Json& o) override {
    return inner_.Create(r, ns, o);
  }
  StatusOr<Json> Update(const Resource& r, std::string_view ns, const Json& o, std::string_view s) override {
    return inner_.Update(r, ns, o, s);
  }
  StatusOr<Json> Apply(const Resource& r, std::string_view ns, std::string_view n, const Json& o, const ApplyOptions& a,
                       std::string_view s) override {
    return inner_.Apply(r, ns, n, o, a, s);
  }
  StatusOr<Json> Patch(const Resource& r, std::string_view ns, std::string_view n, PatchType t, const Json& p,
                       std::string_view s, std::string_view f) override {
    return inner_.Patch(r, ns, n, t, p, s, f);
  }
  Status Delete(const Resource& r, std::string_view ns, std::string_view n, const DeleteOptions& o) override {
    return inner_.Delete(r, ns, n, o);
  }

 private:
  KubeClient& inner_;
  std::atomic<int> watches_{0};
  const int expire_watch_;
};

TEST_F(ControlPlaneTest, InformerConvergesAndRelistsAfter410) {
  ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, ConfigMap("before", "1")).ok());
  ExpiringWatchClient expiring(*client_, /*expire_watch=*/1);
  InformerOptions options;
  options.resource = resources::ConfigMaps();
  options.namespace_ = ns_;
  options.page_size = 2;
  options.backoff_initial = 10ms;
  std::atomic<int> adds{0}, deletes{0};
  InformerHandlers handlers;
  handlers.on_add = [&](const ObjectPtr&) { ++adds; };
  handlers.on_delete = [&](const ObjectPtr&) { ++deletes; };
  Informer informer(expiring, options, handlers);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  ASSERT_TRUE(Eventually([&] { return informer.Stats().gone >= 1 && informer.Stats().lists >= 2; }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client_->Create(resources::ConfigMaps(), ns_, ConfigMap("after" + std::to_string(i), "1")).ok());
  }
  ASSERT_TRUE(client_->Delete(resources::ConfigMaps(), ns_, "before").ok());
  EXPECT_TRUE(Eventually([&] { return informer.Size() == 3 && informer.Get(ns_ + "/before") == nullptr; }));
  EXPECT_EQ(adds.load(), 4);
  EXPECT_EQ(deletes.load(), 1);
  EXPECT_NE(informer.Get(ns_ + "/after2"), nullptr);
  informer.Stop();
}

TEST_F(ControlPlaneTest, EventsAreCreated) {
  auto cm = client_->Create(resources::ConfigMaps(), ns_, ConfigMap("subject", "1"));
  ASSERT_TRUE(cm.ok());
  EventSpec spec{.regarding = *cm,
                 .type = "Warning",
                 .reason = "DriftReverted",
                 .action = "Reconcile",
                 .note = "restored data.k",
                 .reporting_instance = "test-0"};
  auto event = CreateEvent(*client_, spec);
  ASSERT_TRUE(event.ok()) << event.status().message();
  auto events = client_->ListAll(resources::Events(), ns_, {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 1u);
  const Json& e = events->items[0];
  EXPECT_EQ(e["reason"], "DriftReverted");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["regarding"]["name"], "subject");
  EXPECT_EQ(e["regarding"]["uid"], (*cm)["metadata"]["uid"]);
}

TEST_F(ControlPlaneTest, StatusSubresourceOnTheProfileCrd) {
  InstallCrd();
  auto created = client_->Create(resources::PipelineSecurityProfiles(), ns_, Profile("etl"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto patched = client_->Patch(resources::PipelineSecurityProfiles(), ns_, "etl", PatchType::kMerge,
                                {{"status", {{"observedGeneration", 1}, {"roleArn", "arn:aws:iam::1:role/x"}}}},
                                "status", "pipeguard-test");
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_EQ((*patched)["status"]["roleArn"], "arn:aws:iam::1:role/x");
  EXPECT_EQ((*patched)["metadata"]["generation"], 1);  // status writes do not bump the generation
  // The main resource ignores status.
  Json change = *patched;
  change["status"]["roleArn"] = "changed-through-main";
  change["spec"]["serviceAccount"]["automountToken"] = true;
  auto updated = client_->Update(resources::PipelineSecurityProfiles(), ns_, change);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ((*updated)["status"]["roleArn"], "arn:aws:iam::1:role/x");
  EXPECT_EQ((*updated)["metadata"]["generation"], 2);
  // Status through apply on the subresource.
  Json status_apply = {{"apiVersion", "pipeguard.io/v1alpha1"},
                       {"kind", "PipelineSecurityProfile"},
                       {"metadata", {{"name", "etl"}}},
                       {"status", {{"observedGeneration", 2}}}};
  auto applied = client_->Apply(resources::PipelineSecurityProfiles(), ns_, "etl", status_apply,
                                {.field_manager = "pipeguard-test", .force = true}, "status");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ((*applied)["status"]["observedGeneration"], 2);
}

TEST_F(ControlPlaneTest, TwoElectorsOneLeaderAndHandover) {
  auto make = [&](const std::string& id) {
    LeaderElectionConfig config;
    config.lease_namespace = ns_;
    config.lease_name = "operator";
    config.identity = id;
    config.lease_duration = 3s;
    config.renew_deadline = 2s;
    config.retry_period = 100ms;
    EXPECT_TRUE(ValidateLeaderElectionConfig(config).ok());
    return std::make_unique<LeaderElector>(*client_, config);
  };
  auto a = make("a"), b = make("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(Eventually([&] { return a->IsLeader() || b->IsLeader(); }));
  // Over a second of renewals there is never more than one leader.
  for (int i = 0; i < 50; ++i) {
    ASSERT_FALSE(a->IsLeader() && b->IsLeader());
    std::this_thread::sleep_for(20ms);
  }
  LeaderElector* leader = a->IsLeader() ? a.get() : b.get();
  LeaderElector* follower = leader == a.get() ? b.get() : a.get();
  auto lease = client_->Get(resources::Leases(), ns_, "operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], leader->config().identity);
  leader->Stop();  // releases the lease
  EXPECT_FALSE(leader->IsLeader());
  EXPECT_TRUE(Eventually([&] { return follower->IsLeader(); }, 3s));
  follower->Stop();
}

TEST_F(ControlPlaneTest, ContextProviderSeesAProfileCreatedWithKubectlWithinASecond) {
  InstallCrd();
  KubeContextOptions options;
  options.config = policy::DefaultConfig();
  options.debounce = 100ms;
  KubeContextProvider provider(*client_, options);
  provider.Start();
  ASSERT_TRUE(provider.WaitReady(20s));
  EXPECT_NE(provider.Current()->NamespaceLabels(ns_), nullptr);
  EXPECT_TRUE(provider.Current()->ProfilesIn(ns_).empty());

  const std::string manifest = "/tmp/pipeguard-kube-profile-" + ns_ + ".json";
  Json profile = Profile("spark");
  profile["metadata"]["namespace"] = ns_;
  std::ofstream(manifest) << profile.dump();
  std::string out;
  ASSERT_EQ(Kubectl("apply -f " + manifest, &out), 0) << out;
  fs::remove(manifest);
  const auto applied_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return provider.Current()->ProfilesIn(ns_).size() == 1; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - applied_at, 1s);
  EXPECT_EQ(provider.Current()->ProfilesIn(ns_)[0].service_account, "spark");

  // A ServiceAccount bound to cluster-admin shows up as a risky grant.
  ASSERT_EQ(Kubectl("create serviceaccount spark -n " + ns_, &out), 0) << out;
  ASSERT_EQ(Kubectl("create clusterrolebinding " + ns_ + "-admin --clusterrole=cluster-admin --serviceaccount=" + ns_ +
                        ":spark",
                    &out),
            0)
      << out;
  EXPECT_TRUE(Eventually([&] {
    return provider.Current()->ServiceAccount(ns_, "spark") != nullptr &&
           !provider.Current()->RiskyGrantsFor(ns_, "spark").empty();
  }));
  provider.Stop();
}

TEST_F(ControlPlaneTest, TlsAndAuthenticationFailuresAreTyped) {
  // No client certificate: the API server treats us as anonymous and RBAC refuses.
  ClientConfig anonymous = *config_;
  anonymous.client_cert_pem.clear();
  anonymous.client_key_pem.clear();
  auto anon = NewHttpKubeClient(anonymous);
  ASSERT_TRUE(anon.ok()) << anon.status().message();
  Status refused = (*anon)->Get(resources::Namespaces(), "", "default").status();
  EXPECT_TRUE(IsForbidden(refused) || IsUnauthorized(refused)) << refused.message();

  // A CA that did not sign the server certificate: the handshake fails and says why.
  std::ifstream client_ca(plane_->dir() + "/pki/client-ca.crt");
  std::stringstream pem;
  pem << client_ca.rdbuf();
  ClientConfig wrong_ca = *config_;
  wrong_ca.ca_pem = pem.str();
  auto untrusted = NewHttpKubeClient(wrong_ca);
  ASSERT_TRUE(untrusted.ok()) << untrusted.status().message();
  Status tls = (*untrusted)->Get(resources::Namespaces(), "", "default").status();
  EXPECT_EQ(ErrorReasonOf(tls), ErrorReason::kUnavailable) << tls.message();
  EXPECT_THAT(tls.message(), HasSubstr("TLS handshake"));

  // A bearer token the server does not know: 401.
  ClientConfig bad_token = anonymous;
  bad_token.token = std::make_shared<StaticTokenSource>("not-a-real-token");
  auto with_token = NewHttpKubeClient(bad_token);
  ASSERT_TRUE(with_token.ok());
  Status unauthorized = (*with_token)->Get(resources::Namespaces(), "", "default").status();
  EXPECT_TRUE(IsUnauthorized(unauthorized)) << unauthorized.message();
  EXPECT_THAT(unauthorized.message(), ::testing::Not(HasSubstr("not-a-real-token")));

  // Malformed PEM is refused at construction, naming the source.
  ClientConfig bad_key = *config_;
  bad_key.client_key_pem = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  auto refused_client = NewHttpKubeClient(bad_key);
  ASSERT_FALSE(refused_client.ok());
  EXPECT_THAT(refused_client.status().message(), HasSubstr("client key"));
}

}  // namespace
}  // namespace pipeguard::kube
