// KubeContextProvider against the in-memory client: the prepare hook runs on every snapshot before it becomes
// current, a rejected snapshot keeps the previous one, and Create() reports a failure on the initial snapshot.
#include <gtest/gtest.h>

#include <atomic>

#include "pipeguard/kube/context_provider.h"
#include "pipeguard/kube/fake_client.h"

namespace pipeguard::kube {
namespace {
using namespace std::chrono_literals;

Json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

KubeContextOptions Options() {
  KubeContextOptions options;
  options.config = policy::DefaultConfig();
  options.debounce = 1ms;
  return options;
}

TEST(KubeContextProviderFake, CreateFailsWhenTheInitialSnapshotCannotBePrepared) {
  FakeKubeClient client;
  KubeContextOptions options = Options();
  options.prepare = [](const std::shared_ptr<const policy::ContextSnapshot>&) {
    return Status::InvalidArgument("images.keys[0]: unreadable key file");
  };
  auto provider = KubeContextProvider::Create(client, std::move(options));
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(provider.status().message(), "images.keys[0]: unreadable key file");
  EXPECT_EQ(client.Calls(Verb::kList), 0);  // nothing was started
}

TEST(KubeContextProviderFake, PreparesEverySnapshotAndKeepsThePreviousOneWhenPrepareFails) {
  FakeKubeClient client;
  ASSERT_TRUE(client.Create(resources::Namespaces(), "", Namespace("payments")).ok());
  std::atomic<bool> reject{false};
  std::atomic<int> prepared{0};
  std::atomic<int> errors{0};
  KubeContextOptions options = Options();
  options.prepare = [&](const std::shared_ptr<const policy::ContextSnapshot>& snapshot) {
    EXPECT_NE(snapshot, nullptr);
    ++prepared;
    return reject ? Status::InvalidArgument("rejected") : Status::Ok();
  };
  options.on_error = [&](const Status&) { ++errors; };
  auto created = KubeContextProvider::Create(client, std::move(options));
  ASSERT_TRUE(created.ok()) << created.status().message();
  KubeContextProvider& provider = **created;
  EXPECT_EQ(prepared, 1);  // the configuration-only snapshot
  EXPECT_FALSE(provider.Ready());

  provider.Start();
  ASSERT_TRUE(provider.WaitReady(10s));
  EXPECT_NE(provider.Current()->NamespaceLabels("payments"), nullptr);
  const int prepared_before = prepared;
  EXPECT_GE(prepared_before, 2);

  reject = true;
  const auto kept = provider.Current();
  ASSERT_TRUE(client.Create(resources::Namespaces(), "", Namespace("ledger")).ok());
  ASSERT_TRUE(Eventually([&] { return errors.load() >= 1; }));
  EXPECT_EQ(provider.Current(), kept);  // the rejected snapshot never became current
  EXPECT_EQ(provider.Current()->NamespaceLabels("ledger"), nullptr);

  reject = false;
  ASSERT_TRUE(client.Create(resources::Namespaces(), "", Namespace("audit")).ok());
  ASSERT_TRUE(Eventually([&] { return provider.Current()->NamespaceLabels("audit") != nullptr; }));
  EXPECT_NE(provider.Current()->NamespaceLabels("ledger"), nullptr);
  provider.Stop();
}

// ConfigMaps come from their own informer (not the snapshot): a ConfigMap created after start is found without a
// snapshot rebuild, without binaryData, and an unknown one is null.
TEST(KubeContextProviderFake, ConfigMapsComeFromTheInformerWithoutRebuildingTheSnapshot) {
  FakeKubeClient client;
  const Json dbt = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", "dbt-profiles"}, {"namespace", "etl"}}},
                    {"data", {{"profiles.yml", "x: {password: \"{{ env_var('P') }}\"}"}}},
                    {"binaryData", {{"blob", "AAAA"}}}};
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "etl", dbt).ok());
  auto created = KubeContextProvider::Create(client, Options());
  ASSERT_TRUE(created.ok()) << created.status().message();
  KubeContextProvider& provider = **created;
  EXPECT_EQ(provider.ConfigMap("etl", "dbt-profiles"), nullptr);  // not started
  provider.Start();
  ASSERT_TRUE(provider.WaitReady(10s));  // readiness waits for the ConfigMap informer too
  const auto found = provider.ConfigMap("etl", "dbt-profiles");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->at("data").at("profiles.yml"), dbt["data"]["profiles.yml"]);
  EXPECT_FALSE(found->contains("binaryData"));
  EXPECT_EQ(provider.ConfigMap("etl", "other"), nullptr);
  EXPECT_EQ(provider.ConfigMap("marketing", "dbt-profiles"), nullptr);

  const uint64_t builds = provider.builds();
  Json later = dbt;
  later["metadata"]["name"] = "later";
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "etl", later).ok());
  ASSERT_TRUE(Eventually([&] { return provider.ConfigMap("etl", "later") != nullptr; }));
  std::this_thread::sleep_for(20ms);  // a rebuild would have run by now (debounce 1ms)
  EXPECT_EQ(provider.builds(), builds);
  provider.Stop();
}

}  // namespace
}  // namespace pipeguard::kube
