// `pipeguard scan` over directories with symbolic links (issue 9 item 7): links to files and directories are
// followed, a directory reached twice is read once, and a broken link or a link loop is an input error (exit 2)
// that names the link, never a silent skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"

namespace pipeguard::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace ::pipeguard::cli::testing;

// A fresh directory, removed at the end of the test.
class TempTree {
 public:
  TempTree() {
    static int counter = 0;
    root_ = fs::temp_directory_path() /
            ("pipeguard-symlinks-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string Write(const std::string& relative, const std::string& text) const {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

constexpr const char* kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME, namespace: etl}\n";

std::string ConfigMapNamed(const std::string& name) {
  std::string text = kConfigMap;
  text.replace(text.find("NAME"), 4, name);
  return text;
}

StatusOr<ScanReport> Scan(const std::string& input) {
  ScanOptions options;
  options.config_path = kCliData + "/offline-config.yaml";
  options.now_unix_seconds = kNow;
  options.inputs = {input};
  std::istringstream in;
  return RunScan(options, in);
}

TEST(ScanSymlinks, BrokenLinkInADirectoryIsAnInputErrorNamingTheLink) {
  TempTree tree;
  tree.Write("ok.yaml", ConfigMapNamed("ok"));
  fs::create_directories(tree.root() / "sub");
  fs::create_symlink("missing/deployment.yaml", tree.root() / "sub" / "deployment.yaml");
  const auto report = Scan(tree.root().string());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), StartsWith(tree.Path("sub/deployment.yaml") + ": broken symbolic link"));
  EXPECT_THAT(report.status().message(), HasSubstr("\"missing/deployment.yaml\" does not exist"));
}

TEST(ScanSymlinks, LinkChainLoopIsAnInputError) {
  TempTree tree;
  fs::create_symlink("b.yaml", tree.root() / "a.yaml");
  fs::create_symlink("a.yaml", tree.root() / "b.yaml");
  const auto report = Scan(tree.root().string());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), StartsWith(tree.Path("a.yaml") + ": symbolic link loop"));
}

TEST(ScanSymlinks, DirectoryLinkToAnAncestorIsAnInputError) {
  TempTree tree;
  tree.Write("manifests/ok.yaml", ConfigMapNamed("ok"));
  fs::create_directory_symlink("..", tree.root() / "manifests" / "up");
  const auto report = Scan(tree.root().string());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), StartsWith(tree.Path("manifests/up") + ": symbolic link loop"));
  EXPECT_THAT(report.status().message(), HasSubstr("contains the link"));
}

TEST(ScanSymlinks, LinksToFilesAndDirectoriesAreFollowedAndADirectoryIsReadOnce) {
  TempTree tree;
  tree.Write("shared/cm.yaml", ConfigMapNamed("shared"));
  tree.Write("app/own.yaml", ConfigMapNamed("own"));
  fs::create_directory_symlink("../shared", tree.root() / "app" / "common");
  fs::create_symlink("../shared/cm.yaml", tree.root() / "app" / "linked.yaml");
  // Scanning app/ reads its own file, the linked file, and the linked directory.
  const auto app = Scan(tree.Path("app"));
  ASSERT_TRUE(app.ok()) << app.status().message();
  std::vector<std::string> sources;
  for (const auto& r : app->results) sources.push_back(r.file.substr(tree.root().string().size()));
  EXPECT_THAT(sources, ::testing::ElementsAre("/app/common/cm.yaml", "/app/linked.yaml", "/app/own.yaml"));
  // Scanning the root reaches shared/ twice, through app/common first (sorted order) and directly: it is read once.
  const auto all = Scan(tree.root().string());
  ASSERT_TRUE(all.ok()) << all.status().message();
  std::vector<std::string> all_sources;
  for (const auto& r : all->results) all_sources.push_back(r.file.substr(tree.root().string().size()));
  EXPECT_THAT(all_sources, ::testing::ElementsAre("/app/common/cm.yaml", "/app/linked.yaml", "/app/own.yaml"));
}

TEST(ScanSymlinks, HiddenBrokenLinksAreStillSkipped) {
  TempTree tree;
  tree.Write("ok.yaml", ConfigMapNamed("ok"));
  fs::create_symlink("gone", tree.root() / ".editor-lock");
  const auto report = Scan(tree.root().string());
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->results.size(), 1u);
}

TEST(ScanSymlinks, TheBinaryExitsTwoWithTheLinkOnStandardError) {
  TempTree tree;
  tree.Write("ok.yaml", ConfigMapNamed("ok"));
  fs::create_symlink("nowhere.yaml", tree.root() / "dangling.yaml");
  const auto result = RunBinary({"scan", "--config", kCliData + "/offline-config.yaml", tree.root().string()});
  EXPECT_EQ(result.exit_code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr(tree.Path("dangling.yaml") + ": broken symbolic link"));
  EXPECT_THAT(result.out, IsEmpty());
}

}  // namespace
}  // namespace pipeguard::cli
