// The generic Controller: key functions (own key, controller owner, constant, none), standing keys, results
// (RequeueAfter, errors with backoff), leadership followed from outside, and Ready, against FakeKubeClient.
#include "pipeguard/controller/controller.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "pipeguard/kube/fake_client.h"

namespace pipeguard::controller {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace res = kube::resources;

template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

// Records every key reconciled; answers with `answer` (Done by default).
class Recorder {
 public:
  ReconcileFunc Func() {
    return [this](const std::string& key) -> StatusOr<Result> {
      std::lock_guard lock(mu_);
      keys_.push_back(key);
      if (answer_) return answer_(key, keys_.size());
      return Result::Done();
    };
  }
  std::vector<std::string> Keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }
  std::function<StatusOr<Result>(const std::string&, size_t)> answer_;

 private:
  std::mutex mu_;
  std::vector<std::string> keys_;
};

Json ConfigMap(const std::string& name, Json owners = Json::array()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "data"}, {"ownerReferences", std::move(owners)}}}};
}

TEST(KeysForTest, OwnKeyControllerOwnerAndConstant) {
  const InformerCache cache;
  Json owned = ConfigMap("cm", Json::array({{{"apiVersion", "pipeguard.io/v1alpha1"},
                                             {"kind", "PipelineSecurityProfile"},
                                             {"name", "etl"},
                                             {"controller", true}}}));
  auto object = std::make_shared<const Json>(owned);
  EXPECT_EQ(ObjectKeys()(object, cache), std::vector<std::string>{"data/cm"});
  auto owner = ControllerOwnerKeys("pipeguard.io", "PipelineSecurityProfile");
  EXPECT_EQ(owner(object, cache), std::vector<std::string>{"data/etl"});
  owned["metadata"]["ownerReferences"][0]["kind"] = "Deployment";
  EXPECT_TRUE(owner(std::make_shared<const Json>(owned), cache).empty());
  owned["metadata"]["ownerReferences"][0]["kind"] = "PipelineSecurityProfile";
  owned["metadata"]["ownerReferences"][0]["controller"] = false;
  EXPECT_TRUE(owner(std::make_shared<const Json>(owned), cache).empty()) << "only the controller owner counts";
  owned["metadata"]["ownerReferences"][0]["controller"] = true;
  owned["metadata"]["ownerReferences"][0]["apiVersion"] = "other.io/v1";
  EXPECT_TRUE(owner(std::make_shared<const Json>(owned), cache).empty()) << "the group must match";
  EXPECT_TRUE(owner(std::make_shared<const Json>(Json::object()), cache).empty());
  EXPECT_TRUE(owner(std::make_shared<const Json>(Json("garbage")), cache).empty());
  EXPECT_EQ(ConstantKey("all")(object, cache), std::vector<std::string>{"all"});
  EXPECT_TRUE(NoKeys()(object, cache).empty());
}

TEST(ControllerTest, EventsBecomeKeysAndStandingKeysRunWithoutEvents) {
  kube::FakeKubeClient kube;
  Recorder recorder;
  Controller loop(kube, {{.informer = {.resource = res::ConfigMaps()}, .keys = ObjectKeys(), .primary = true}},
                  recorder.Func(), {.workers = 1, .standing_keys = {"standing"}});
  loop.Start();
  ASSERT_TRUE(Eventually([&] { return loop.Ready() && !recorder.Keys().empty(); }));
  EXPECT_EQ(recorder.Keys()[0], "standing");
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a")).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Keys().size() == 2; }));
  EXPECT_EQ(recorder.Keys()[1], "data/a");
  EXPECT_NE(loop.cache().Lookup(res::ConfigMaps(), "data", "a").value_or(nullptr), nullptr);
  loop.Stop();
}

TEST(ControllerTest, UpdatesThatDoNotMatterAreNotOffered) {
  kube::FakeKubeClient kube;
  Recorder recorder;
  Watch watch{.informer = {.resource = res::ConfigMaps()}, .keys = ObjectKeys(), .primary = true};
  watch.update_matters = [](const Json& older, const Json& newer) {
    return older.value("data", Json::object()) != newer.value("data", Json::object());  // labels do not matter here
  };
  Controller loop(kube, {watch}, recorder.Func(), {.workers = 1});
  loop.Start();
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a")).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Keys().size() == 1; }));
  Json relabelled = *kube.Get(res::ConfigMaps(), "data", "a");
  relabelled["metadata"]["labels"] = {{"team", "payments"}};
  ASSERT_TRUE(kube.Update(res::ConfigMaps(), "data", relabelled).ok());
  Json changed = *kube.Get(res::ConfigMaps(), "data", "a");
  changed["data"] = {{"k", "v"}};
  ASSERT_TRUE(kube.Update(res::ConfigMaps(), "data", changed).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Keys().size() == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.Keys().size(), 2u) << "the label-only update was offered";
  loop.Stop();
}

TEST(ControllerTest, RequeueAfterComesBackAndErrorsBackOff) {
  kube::FakeKubeClient kube;
  Recorder recorder;
  recorder.answer_ = [](const std::string&, size_t n) -> StatusOr<Result> {
    if (n == 1) return Status::Unavailable("transient");
    if (n == 2) return Result::RequeueAfter(20ms, "look again");
    return Result::Done();
  };
  Controller loop(kube, {}, recorder.Func(),
                  {.workers = 1, .standing_keys = {"k"}, .rate_limiter = {.base_delay = 1ms, .jitter = 0}});
  loop.Start();
  ASSERT_TRUE(Eventually([&] { return recorder.Keys().size() == 3; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.Keys().size(), 3u) << "Done: nothing more";
  EXPECT_EQ(loop.queue().NumRequeues("k"), 0) << "success forgets the backoff";
  loop.Stop();
}

TEST(ControllerTest, AFollowerReconcilesOnlyAfterSetLeader) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a")).ok());
  Recorder recorder;
  Controller loop(kube, {{.informer = {.resource = res::ConfigMaps()}, .keys = ObjectKeys(), .primary = true}},
                  recorder.Func(), {.workers = 1, .follow_leadership = true, .standing_keys = {"standing"}});
  loop.Start();
  ASSERT_TRUE(Eventually([&] { return loop.Ready(); }));
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(loop.IsLeader());
  EXPECT_TRUE(recorder.Keys().empty());
  EXPECT_FALSE(loop.ProcessNextItem()) << "a follower takes no key";
  loop.SetLeader(true);  // every primary object and the standing keys
  ASSERT_TRUE(Eventually([&] { return recorder.Keys().size() >= 2; }));
  auto keys = recorder.Keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"data/a", "standing"}));
  loop.Stop();
}

TEST(ControllerTest, ThrownExceptionsAreErrorsAndRetried) {
  kube::FakeKubeClient kube;
  Recorder recorder;
  recorder.answer_ = [](const std::string&, size_t n) -> StatusOr<Result> {
    if (n == 1) throw std::runtime_error("boom");
    return Result::Done();
  };
  Controller loop(kube, {}, recorder.Func(),
                  {.workers = 0, .standing_keys = {"k"}, .rate_limiter = {.base_delay = 1ms}});
  EXPECT_TRUE(loop.ProcessNextItem());
  EXPECT_EQ(loop.queue().NumRequeues("k"), 1);
  bool retried = false;  // once its 1 ms backoff has passed
  for (int i = 0; i < 500 && !retried; ++i) {
    retried = loop.ProcessNextItem();
    if (!retried) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(retried);
  EXPECT_EQ(recorder.Keys().size(), 2u);
  EXPECT_EQ(loop.queue().NumRequeues("k"), 0);
}

}  // namespace
}  // namespace pipeguard::controller
