// Kubeconfig and in-cluster configuration: a table of kubeconfig documents (data fields, relative paths, contexts,
// errors that name the file and field) and the in-cluster loader with a temporary service-account directory.
#include "pipeguard/kube/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pipeguard::kube {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
// base64 of kCertPem and kKeyPem.
constexpr char kCertB64[] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
constexpr char kKeyB64[] = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUUKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pipeguard-kube-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path Write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  fs::path path_;
};

std::string Kubeconfig(const std::string& cluster_fields, const std::string& user_fields,
                       const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n" +
         cluster_fields + "users:\n- name: u1\n  user:\n" + user_fields +
         "contexts:\n- name: main\n  context:\n    cluster: c1\n    user: u1\n    namespace: etl\n" + extra;
}

TEST(KubeconfigTest, EmbeddedDataFields) {
  auto config = ParseKubeconfig(
      Kubeconfig(std::string("    certificate-authority-data: ") + kCertB64 + "\n",
                 std::string("    client-certificate-data: ") + kCertB64 + "\n    client-key-data: " + kKeyB64 + "\n"),
      "/nonexistent/config");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->default_namespace, "etl");
  EXPECT_EQ(config->token, nullptr);
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_THAT(config->source, HasSubstr("/nonexistent/config"));
  EXPECT_THAT(config->source, HasSubstr("context main"));
}

TEST(KubeconfigTest, RelativePathsResolveAgainstTheKubeconfigDirectory) {
  TempDir dir;
  dir.Write("pki/ca.crt", kCertPem);
  dir.Write("pki/admin.crt", kCertPem);
  dir.Write("pki/admin.key", kKeyPem);
  dir.Write("token", "  abc.def  \n");
  const fs::path path = dir.Write("config", Kubeconfig("    certificate-authority: pki/ca.crt\n",
                                                       "    client-certificate: pki/admin.crt\n"
                                                       "    client-key: pki/admin.key\n    tokenFile: token\n"));
  auto config = LoadKubeconfig({.path = (dir.path() / "config").string()});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  ASSERT_NE(config->token, nullptr);
  auto token = config->token->Token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "abc.def");
}

TEST(KubeconfigTest, DataWinsOverFileLikeKubectl) {
  auto config = ParseKubeconfig(Kubeconfig(std::string("    certificate-authority: /does/not/exist\n"
                                                       "    certificate-authority-data: ") +
                                               kCertB64 + "\n",
                                           "    token: t0k3n\n"),
                                "/x/config");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->ca_pem, kCertPem);
  ASSERT_NE(config->token, nullptr);
  EXPECT_EQ(*config->token->Token(), "t0k3n");
}

TEST(KubeconfigTest, NamedContextOverridesCurrentContext) {
  const std::string text =
      Kubeconfig("", "    token: a\n", "- name: other\n  context:\n    cluster: c2\n    user: u1\n") + "";
  // Append a second cluster by rewriting the clusters list.
  std::string with_c2 = text;
  with_c2.replace(with_c2.find("users:"), 0, "- name: c2\n  cluster:\n    server: https://10.0.0.1:443/k8s\n");
  auto config = ParseKubeconfig(with_c2, "/x/config", {.context = "other"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->server, "https://10.0.0.1:443/k8s");
  EXPECT_EQ(config->default_namespace, "default");
}

struct BadCase {
  const char* name;
  std::string text;
  KubeconfigOptions options;
  const char* expected;  // substring of the error
};

TEST(KubeconfigTest, ErrorsNameTheFileAndField) {
  const std::vector<BadCase> cases = {
      {"not yaml", "clusters: [", {}, "kubeconfig /x/config:"},
      {"no current context", "apiVersion: v1\nkind: Config\n", {}, "current-context is not set"},
      {"unknown context", Kubeconfig("", ""), {.context = "nope"}, "context \"nope\" is not in contexts[]"},
      {"bad base64",
       Kubeconfig("    certificate-authority-data: '@@@'\n", ""),
       {},
       "cluster \"c1\": certificate-authority-data is not valid base64"},
      {"ca not pem",
       Kubeconfig("    certificate-authority-data: aGVsbG8=\n", ""),
       {},
       "certificate-authority(-data) is not a PEM certificate"},
      {"missing ca file", Kubeconfig("    certificate-authority: missing.crt\n", ""), {}, "cannot read /x/missing.crt"},
      {"insecure refused",
       Kubeconfig("    insecure-skip-tls-verify: true\n", ""),
       {},
       "insecure-skip-tls-verify is true"},
      {"cert without key",
       Kubeconfig("", std::string("    client-certificate-data: ") + kCertB64 + "\n"),
       {},
       "user \"u1\": client-certificate is set without client-key"},
      {"exec plugin", Kubeconfig("", "    exec:\n      command: aws\n"), {}, "exec and auth-provider"},
      {"http server",
       "current-context: m\nclusters:\n- name: c\n  cluster:\n    server: http://h\n"
       "contexts:\n- name: m\n  context:\n    cluster: c\n",
       {},
       "must be an https:// URL"},
      {"unknown user",
       "current-context: m\nclusters:\n- name: c\n  cluster:\n    server: https://h\n"
       "contexts:\n- name: m\n  context:\n    cluster: c\n    user: ghost\n",
       {},
       "user \"ghost\" is not in users[]"},
  };
  for (const auto& c : cases) {
    auto config = ParseKubeconfig(c.text, "/x/config", c.options);
    ASSERT_FALSE(config.ok()) << c.name;
    EXPECT_THAT(config.status().message(), HasSubstr(c.expected)) << c.name;
    EXPECT_THAT(config.status().message(), HasSubstr("/x/config")) << c.name;
  }
}

TEST(KubeconfigTest, InsecureAllowedOnlyWhenAsked) {
  auto config = ParseKubeconfig(Kubeconfig("    insecure-skip-tls-verify: true\n", "    token: x\n"), "/x/config",
                                {.allow_insecure_skip_tls_verify = true});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(config->insecure_skip_tls_verify);
}

TEST(KubeconfigTest, SecretsNeverAppearInErrors) {
  auto config = ParseKubeconfig(Kubeconfig("    certificate-authority-data: aGVsbG8=\n", "    token: SUPERSECRET\n"),
                                "/x/config");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), ::testing::Not(HasSubstr("SUPERSECRET")));
}

TEST(KubeconfigTest, DefaultPathTakesTheFirstKubeconfigEntry) {
  const char* old = std::getenv("KUBECONFIG");
  const std::string saved = old != nullptr ? old : "";
  setenv("KUBECONFIG", ":/first/config:/second/config", 1);
  EXPECT_EQ(DefaultKubeconfigPath(), "/first/config");
  if (old != nullptr) {
    setenv("KUBECONFIG", saved.c_str(), 1);
  } else {
    unsetenv("KUBECONFIG");
  }
}

TEST(InClusterTest, ReadsServiceAccountFilesAndRotatesTheToken) {
  TempDir dir;
  const fs::path token = dir.Write("token", "first-token\n");
  dir.Write("ca.crt", kCertPem);
  dir.Write("namespace", "pipeguard-system");
  FakeClock clock;
  InClusterOptions options{.host = "10.96.0.1",
                           .port = "443",
                           .token_path = token.string(),
                           .ca_path = (dir.path() / "ca.crt").string(),
                           .namespace_path = (dir.path() / "namespace").string(),
                           .clock = &clock};
  auto config = LoadInClusterConfig(options);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->default_namespace, "pipeguard-system");
  ASSERT_NE(config->token, nullptr);
  EXPECT_EQ(*config->token->Token(), "first-token");

  // Rotation detected through the file's size/mtime.
  dir.Write("token", "second-token-longer\n");
  EXPECT_EQ(*config->token->Token(), "second-token-longer");

  // Same size and mtime: only re-read once max_age has passed.
  const auto mtime = fs::last_write_time(token);
  dir.Write("token", "third-token-longer!\n");  // same length as the previous one
  fs::last_write_time(token, mtime);
  EXPECT_EQ(*config->token->Token(), "second-token-longer");
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*config->token->Token(), "third-token-longer!");

  // The file vanishes: the last good token is kept for a while, then the error surfaces.
  fs::remove(token);
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*config->token->Token(), "third-token-longer!");
  clock.Advance(std::chrono::seconds(61));
  auto gone = config->token->Token();
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.status().message(), HasSubstr(token.string()));
}

TEST(InClusterTest, IPv6HostIsBracketed) {
  TempDir dir;
  InClusterOptions options{.host = "fd00::1",
                           .port = "443",
                           .token_path = dir.Write("token", "t").string(),
                           .ca_path = dir.Write("ca.crt", kCertPem).string(),
                           .namespace_path = (dir.path() / "missing").string()};
  auto config = LoadInClusterConfig(options);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->default_namespace, "default");
}

TEST(InClusterTest, ClearErrors) {
  TempDir dir;
  InClusterOptions options{.host = "10.0.0.1",
                           .port = "443",
                           .token_path = (dir.path() / "token").string(),
                           .ca_path = dir.Write("ca.crt", kCertPem).string()};
  auto missing_token = LoadInClusterConfig(options);
  ASSERT_FALSE(missing_token.ok());
  EXPECT_THAT(missing_token.status().message(), HasSubstr("in-cluster token"));
  EXPECT_THAT(missing_token.status().message(), HasSubstr((dir.path() / "token").string()));

  options.port = "https";
  auto bad_port = LoadInClusterConfig(options);
  ASSERT_FALSE(bad_port.ok());
  EXPECT_THAT(bad_port.status().message(), HasSubstr("KUBERNETES_SERVICE_PORT"));

  InClusterOptions no_env = options;
  no_env.host = "";
  no_env.port = "";
  const char* old = std::getenv("KUBERNETES_SERVICE_HOST");
  if (old == nullptr) {
    auto outside = LoadInClusterConfig(no_env);
    ASSERT_FALSE(outside.ok());
    EXPECT_THAT(outside.status().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));
  }
}

}  // namespace
}  // namespace pipeguard::kube
