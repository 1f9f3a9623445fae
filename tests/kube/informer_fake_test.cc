// Informer against the in-memory client: sync, event handlers, resume after a dropped watch, relist on 410 with
// the differences delivered as add/update/delete, bookmarks, and backoff after errors.
#include <gtest/gtest.h>

#include <set>

#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/fake_client.h"
#include "pipeguard/kube/informer.h"

namespace pipeguard::kube {
namespace {
using namespace std::chrono_literals;

Json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"data", {{"k", value}}}};
}

// Records handler calls; Wait() blocks (bounded, real time) until a predicate on the log holds.
class Recorder {
 public:
  InformerHandlers Handlers() {
    InformerHandlers h;
    h.on_add = [this](const ObjectPtr& o) { Log("add " + ObjectKey(*o)); };
    h.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { Log("update " + ObjectKey(*o)); };
    h.on_delete = [this](const ObjectPtr& o) { Log("delete " + ObjectKey(*o)); };
    return h;
  }
  bool WaitFor(const std::string& entry) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return seen_.count(entry) != 0; });
  }
  int Count() {
    std::lock_guard lock(mu_);
    return static_cast<int>(log_.size());
  }

 private:
  void Log(const std::string& s) {
    std::lock_guard lock(mu_);
    log_.push_back(s);
    seen_.insert(s);
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
  std::multiset<std::string> seen_;
};

InformerOptions Options() {
  InformerOptions o;
  o.resource = resources::ConfigMaps();
  o.namespace_ = "ns";
  o.page_size = 2;
  o.backoff_initial = 1ms;
  o.backoff_max = 5ms;
  o.seed = 42;
  return o;
}

TEST(InformerFakeTest, SyncsWatchesAndRelistsAfterGone) {
  FakeKubeClient client;
  for (const char* n : {"a", "b", "c"})
    ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap(n, "1")).ok());
  Recorder rec;
  Informer informer(client, Options(), rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  EXPECT_EQ(informer.Size(), 3u);
  ASSERT_TRUE(rec.WaitFor("add ns/c"));
  ASSERT_TRUE(client.WaitForWatches(1, 10s));

  // Live events.
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap("d", "1")).ok());
  ASSERT_TRUE(client.Patch(resources::ConfigMaps(), "ns", "a", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  ASSERT_TRUE(client.Delete(resources::ConfigMaps(), "ns", "b").ok());
  ASSERT_TRUE(rec.WaitFor("add ns/d"));
  ASSERT_TRUE(rec.WaitFor("update ns/a"));
  ASSERT_TRUE(rec.WaitFor("delete ns/b"));
  EXPECT_EQ(informer.Get("ns/a")->at("data").at("k"), "2");
  EXPECT_EQ(informer.Get("ns/b"), nullptr);
  EXPECT_EQ(informer.LastResourceVersion(), client.CurrentResourceVersion());

  // Bookmarks advance the resourceVersion without events.
  client.SendBookmark(resources::ConfigMaps());
  for (int i = 0; i < 1000 && informer.LastResourceVersion() != client.CurrentResourceVersion(); ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(informer.LastResourceVersion(), client.CurrentResourceVersion());

  // A dropped watch resumes from the last resourceVersion (no relist).
  client.CloseWatches();
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap("e", "1")).ok());
  ASSERT_TRUE(rec.WaitFor("add ns/e"));
  EXPECT_EQ(informer.Stats().lists, 1u);

  // Changes lost while disconnected and history compacted: the resumed watch gets 410 and the informer relists,
  // delivering exactly the differences.
  client.set_record_history(false);
  ASSERT_TRUE(client.Delete(resources::ConfigMaps(), "ns", "c").ok());
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap("f", "1")).ok());
  ASSERT_TRUE(client.Patch(resources::ConfigMaps(), "ns", "d", PatchType::kMerge, {{"data", {{"k", "9"}}}}).ok());
  client.Compact();
  client.set_record_history(true);
  client.CloseWatches();
  ASSERT_TRUE(rec.WaitFor("delete ns/c"));
  ASSERT_TRUE(rec.WaitFor("add ns/f"));
  ASSERT_TRUE(rec.WaitFor("update ns/d"));
  const InformerStats stats = informer.Stats();
  EXPECT_EQ(stats.gone, 1u);
  EXPECT_EQ(stats.lists, 2u);
  std::vector<std::string> keys;
  for (const auto& o : informer.List()) keys.push_back(ObjectKey(*o));
  EXPECT_EQ(keys, (std::vector<std::string>{"ns/a", "ns/d", "ns/e", "ns/f"}));
  informer.Stop();
  EXPECT_EQ(client.ActiveWatches(), 0);
}

TEST(InformerFakeTest, ANameFieldSelectorSeesOnlyThatObject) {
  FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(resources::ConfigMaps(), "ns", ConfigMap("a", "1")).ok());
  ASSERT_TRUE(kube.Create(resources::ConfigMaps(), "ns", ConfigMap("b", "1")).ok());
  Recorder recorder;
  InformerOptions o = Options();
  o.field_selector = "metadata.name=b";
  Informer informer(kube, o, recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(recorder.WaitFor("add ns/b"));
  ASSERT_TRUE(kube.Update(resources::ConfigMaps(), "ns", ConfigMap("a", "2")).ok());
  ASSERT_TRUE(kube.Update(resources::ConfigMaps(), "ns", ConfigMap("b", "2")).ok());
  ASSERT_TRUE(recorder.WaitFor("update ns/b"));
  ASSERT_TRUE(kube.Delete(resources::ConfigMaps(), "ns", "b").ok());
  ASSERT_TRUE(recorder.WaitFor("delete ns/b"));
  EXPECT_EQ(recorder.Count(), 3) << "nothing of ns/a";
  EXPECT_EQ(informer.Get("ns/a"), nullptr);
  informer.Stop();
  ListOptions labels;
  labels.label_selector = "app=x";
  EXPECT_FALSE(kube.List(resources::ConfigMaps(), "ns", labels).ok()) << "label selectors stay unsupported";
}

TEST(InformerFakeTest, RetriesListErrorsWithBackoff) {
  FakeKubeClient client;
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap("a", "1")).ok());
  const Status down = MakeApiError(ErrorReason::kUnavailable, 0, "LIST", "connection refused");
  client.FailNext(Verb::kList, down);
  client.FailNext(Verb::kList, down);
  client.FailNext(Verb::kWatch, MakeApiError(ErrorReason::kServerError, 500, "WATCH", "boom"));
  Recorder rec;
  Informer informer(client, Options(), rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  ASSERT_TRUE(client.WaitForWatches(1, 10s));
  const InformerStats stats = informer.Stats();
  EXPECT_EQ(stats.errors, 3u);
  EXPECT_EQ(stats.lists, 1u);
  EXPECT_GE(stats.watches, 2u);
  ASSERT_TRUE(client.Create(resources::ConfigMaps(), "ns", ConfigMap("b", "1")).ok());
  ASSERT_TRUE(rec.WaitFor("add ns/b"));
}

TEST(InformerFakeTest, StopIsPromptAndIdempotent) {
  FakeKubeClient client;
  Informer informer(client, Options());
  informer.Start();
  ASSERT_TRUE(client.WaitForWatches(1, 10s));
  informer.Stop();
  informer.Stop();
  EXPECT_EQ(client.ActiveWatches(), 0);
  EXPECT_TRUE(informer.HasSynced());
}

TEST(BackoffTest, GrowsExponentiallyWithJitterAndCaps) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 7);
  const int64_t bases[] = {100, 200, 400, 800, 1000, 1000};
  for (int64_t base : bases) {
    const int64_t d = b.Next().count();
    EXPECT_GE(d, base / 2);
    EXPECT_LE(d, base);
  }
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
}

}  // namespace
}  // namespace pipeguard::kube
