// Flags of pipeguard-webhook (the demo script and the e2e tests depend on them).
#include "pipeguard/webhook/flags.h"

#include <gtest/gtest.h>

namespace pipeguard::webhook {
namespace {

TEST(ParseWebhookFlags, ReadsEveryFlag) {
  auto flags = ParseWebhookFlags({"--config", "c.yaml", "--context", "a", "--context=b", "--tls-cert", "cert.pem",
                                  "--tls-key=key.pem", "--listen", "0.0.0.0:0", "--port-file", "port",
                                  "--max-body-bytes", "2048", "--log-level", "debug"});
  ASSERT_TRUE(flags.ok()) << flags.status().message();
  EXPECT_EQ(flags->config_path, "c.yaml");
  EXPECT_EQ(flags->context_paths, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(flags->tls_cert_path, "cert.pem");
  EXPECT_EQ(flags->tls_key_path, "key.pem");
  EXPECT_EQ(flags->host, "0.0.0.0");
  EXPECT_EQ(flags->port, 0);
  EXPECT_EQ(flags->port_file, "port");
  EXPECT_EQ(flags->max_body_bytes, 2048u);
  EXPECT_EQ(flags->log_level, "debug");
}

TEST(ParseWebhookFlags, Defaults) {
  auto flags = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k"});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->host, "127.0.0.1");
  EXPECT_EQ(flags->port, 8443);
  EXPECT_EQ(flags->max_body_bytes, 3u << 20);
  EXPECT_TRUE(flags->config_path.empty());
}

TEST(ParseWebhookFlags, HelpNeedsNothingElse) {
  auto flags = ParseWebhookFlags({"--help"});
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->help);
  EXPECT_NE(WebhookUsage().find("--port-file"), std::string::npos);
}

struct BadFlags {
  std::vector<std::string> args;
  std::string fragment;
};

class ParseWebhookFlagsRejects : public ::testing::TestWithParam<BadFlags> {};

TEST_P(ParseWebhookFlagsRejects, WithAMessageNamingTheProblem) {
  auto flags = ParseWebhookFlags(GetParam().args);
  ASSERT_FALSE(flags.ok());
  EXPECT_NE(flags.status().message().find(GetParam().fragment), std::string::npos) << flags.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseWebhookFlagsRejects,
    ::testing::Values(
        BadFlags{{}, "--tls-cert and --tls-key are required"},
        BadFlags{{"--tls-cert", "c"}, "--tls-cert and --tls-key are required"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--port", "1"}, "unknown flag --port"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "extra"}, "unexpected argument"},
        BadFlags{{"--tls-cert", "c", "--tls-key"}, "--tls-key needs a value"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--listen", "8443"}, "HOST:PORT"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--listen", "h:70000"}, "0 to 65535"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--listen", ":80"}, "needs a host"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--max-body-bytes", "ten"}, "byte count"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--max-body-bytes", "10"}, "byte count"},
        BadFlags{{"--tls-cert=", "--tls-key", "k"}, "non-empty"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--kubeconfig", "kc", "--in-cluster"},
                 "give one (--in-cluster inside a pod)"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--context", "dir"}, "give one source"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--in-cluster=yes"}, "takes no value"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--background-audit"}, "needs --kubeconfig or --in-cluster"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--audit-lease", "ns/x"},
                 "add --background-audit"},
        BadFlags{
            {"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--background-audit", "--audit-lease", "just-a-name"},
            "NAMESPACE/NAME"},
        BadFlags{
            {"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--background-audit", "--audit-period-seconds", "5"},
            "from 10 to 86400"},
        BadFlags{{"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--background-audit",
                  "--audit-writes-per-second", "0"},
                 "from 1 to 1000"}));

TEST(ParseWebhookFlags, BackgroundAuditFlags) {
  auto off = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k", "--in-cluster"});
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->background_audit);
  auto on = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k", "--in-cluster", "--background-audit",
                               "--audit-period-seconds=60", "--audit-writes-per-second", "5", "--audit-lease",
                               "pipeguard/pipeguard-audit"});
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->background_audit);
  EXPECT_EQ(on->audit_period_seconds, 60);
  EXPECT_EQ(on->audit_writes_per_second, 5);
  EXPECT_EQ(on->audit_lease, "pipeguard/pipeguard-audit");
}

TEST(ParseWebhookFlags, KubernetesContextFlags) {
  auto files = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k", "--context", "dir"});
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_FALSE(files->UsesKubernetesContext());

  auto kubeconfig = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k", "--kubeconfig=/tmp/kc"});
  ASSERT_TRUE(kubeconfig.ok()) << kubeconfig.status().message();
  EXPECT_EQ(kubeconfig->kubeconfig_path, "/tmp/kc");
  EXPECT_FALSE(kubeconfig->in_cluster);
  EXPECT_TRUE(kubeconfig->UsesKubernetesContext());

  auto in_cluster = ParseWebhookFlags({"--tls-cert", "c", "--tls-key", "k", "--in-cluster"});
  ASSERT_TRUE(in_cluster.ok()) << in_cluster.status().message();
  EXPECT_TRUE(in_cluster->in_cluster);
  EXPECT_TRUE(in_cluster->UsesKubernetesContext());
  EXPECT_NE(WebhookUsage().find("--in-cluster"), std::string::npos);
}

TEST(ParseListenAddress, AcceptsBracketedIpv6) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseListenAddress("[::1]:9443", host, port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9443);
}

}  // namespace
}  // namespace pipeguard::webhook
