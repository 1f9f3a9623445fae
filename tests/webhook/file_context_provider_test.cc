// The file-backed context provider: initial load, reload on change, and keeping the last good snapshot.
#include "pipeguard/webhook/file_context_provider.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using testing::DataPath;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

constexpr const char* kExtraProfile = R"(apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata:
  name: hourly-clicks
  namespace: etl
spec:
  podSelector:
    matchLabels:
      pipeguard.io/pipeline: hourly-clicks
  serviceAccount:
    name: hourly-clicks
)";

// A copy of the test context in a temp dir, so tests can edit it.
struct EditableContext {
  TempDir dir;
  FileContextOptions options;
  EditableContext() {
    std::filesystem::copy(DataPath("context"), dir.File("context"), std::filesystem::copy_options::recursive);
    std::filesystem::copy(DataPath("config.yaml"), dir.File("config.yaml"));
    options = {dir.File("config.yaml"), {dir.File("context")}};
  }
};

TEST(LoadContextSnapshot, LoadsConfigProfilesAndListItems) {
  auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  EXPECT_EQ((*snapshot)->profile_count(), 2u);
  EXPECT_FALSE((*snapshot)->config().images.verify);
  ASSERT_NE((*snapshot)->NamespaceLabels("etl-audit"), nullptr);
  const auto* sa = (*snapshot)->ServiceAccount("etl", "airflow-worker");  // from a kind: List
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->automount_token, false);
}

TEST(LoadContextSnapshot, WithoutFilesUsesTheDefaultConfig) {
  auto snapshot = LoadContextSnapshot({});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  EXPECT_EQ((*snapshot)->profile_count(), 0u);
  EXPECT_TRUE((*snapshot)->config().images.verify);
}

TEST(LoadContextSnapshot, AnInvalidProfileNamesFileAndLine) {
  TempDir dir;
  WriteText(dir.File("bad.yaml"), std::string("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n") +
                                      "apiVersion: pipeguard.io/v1alpha1\nkind: PipelineSecurityProfile\n"
                                      "metadata:\n  name: broken\n  namespace: etl\nspec:\n  mode: sometimes\n"
                                      "  podSelector: {}\n");
  auto snapshot = LoadContextSnapshot({"", {dir.File("bad.yaml")}});
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.status().message().find(dir.File("bad.yaml") + ":6"), std::string::npos)
      << snapshot.status().message();
  EXPECT_NE(snapshot.status().message().find("/spec/mode"), std::string::npos) << snapshot.status().message();
}

TEST(LoadContextSnapshot, AnUnknownConfigKeyIsAnError) {
  TempDir dir;
  WriteText(dir.File("config.yaml"), "mode: enforce\nimages:\n  verfiy: false\n");
  auto snapshot = LoadContextSnapshot({dir.File("config.yaml"), {}});
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.status().message().find("config.yaml"), std::string::npos) << snapshot.status().message();
}

TEST(FileContextProvider, ReloadsWhenAFileIsAdded) {
  EditableContext ctx;
  std::vector<bool> results;
  auto provider = FileContextProvider::Create(ctx.options, [&](bool ok) { results.push_back(ok); });
  ASSERT_TRUE(provider.ok()) << provider.status().message();
  const auto before = (*provider)->Current();
  EXPECT_EQ(before->profile_count(), 2u);
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kUnchanged);

  WriteText(ctx.dir.File("context/extra.yaml"), kExtraProfile);
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kReloaded);
  EXPECT_EQ((*provider)->Current()->profile_count(), 3u);
  EXPECT_EQ(before->profile_count(), 2u);  // holders of the old snapshot keep a consistent view
  EXPECT_EQ(results, std::vector<bool>{true});
}

TEST(FileContextProvider, ABadReloadKeepsThePreviousSnapshot) {
  EditableContext ctx;
  std::vector<bool> results;
  auto provider = FileContextProvider::Create(ctx.options, [&](bool ok) { results.push_back(ok); });
  ASSERT_TRUE(provider.ok()) << provider.status().message();
  const auto good = (*provider)->Current();

  testing::CapturedLogs logs;
  WriteText(ctx.dir.File("context/broken.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: [unclosed\n");
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kRejected);
  EXPECT_EQ((*provider)->Current(), good);
  EXPECT_NE(logs.Text().find("broken.yaml:"), std::string::npos) << logs.Text();
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kUnchanged);

  std::filesystem::remove(ctx.dir.File("context/broken.yaml"));
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kReloaded);
  EXPECT_NE((*provider)->Current(), good);
  EXPECT_EQ(results, (std::vector<bool>{false, true}));
}

TEST(FileContextProvider, AConfigChangeIsPickedUp) {
  EditableContext ctx;
  auto provider = FileContextProvider::Create(ctx.options);
  ASSERT_TRUE(provider.ok()) << provider.status().message();
  EXPECT_EQ((*provider)->Current()->config().mode, policy::Mode::kEnforce);
  std::string text = ReadText(ctx.dir.File("config.yaml"));
  text.replace(text.find("mode: enforce"), 13, "mode: audit");
  WriteText(ctx.dir.File("config.yaml"), text);
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kReloaded);
  EXPECT_EQ((*provider)->Current()->config().mode, policy::Mode::kAudit);
}

TEST(FileContextProvider, StartupFailsOnAMissingPath) {
  auto provider = FileContextProvider::Create({"", {"/nonexistent/context"}});
  ASSERT_FALSE(provider.ok());
  EXPECT_NE(provider.status().message().find("/nonexistent/context"), std::string::npos);
}

}  // namespace
}  // namespace pipeguard::webhook
