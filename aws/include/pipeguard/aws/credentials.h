// AWS credentials and where they come from.
//
// Secrets (secret access key, session token, web identity token) are never logged, put in errors or returned by
// any ToString: Credentials::Describe() shows the provider and the last 4 characters of the access key id only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/clock.h"
#include "pipeguard/aws/error.h"

namespace pipeguard::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;                                        // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // none: never expires
  std::string provider;                                             // "static", "environment", "web-identity"

  // "environment credentials, access key ...MPLE" (no secret, at most the last 4 characters of the key id).
  std::string Describe() const;
};

// Returns credentials for signing. Implementations are thread-safe; Get may block for a network call (web
// identity) and caches what it fetched.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials, or an AwsError: errc::kNoCredentials when this provider is not configured (a chain then tries the
  // next one); any other error when it is configured but failed (a chain stops there: a misconfigured IRSA must
  // not silently fall back to other credentials).
  virtual AwsResult<Credentials> Get() = 0;
  virtual std::string Name() const = 0;
};

// Reads one environment variable; nullopt when unset. Injected so tests do not touch the process environment.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvironmentLookup ProcessEnvironment();

// Always returns the same credentials (tests, or keys from a configuration file).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials);
  AwsResult<Credentials> Get() override;
  std::string Name() const override { return "static"; }

 private:
  Credentials credentials_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional AWS_SESSION_TOKEN, read on every Get (so a rotated
// environment is seen). kNoCredentials when neither key variable is set; kInvalidRequest when only one is.
class EnvironmentCredentialsProvider : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(EnvironmentLookup env);
  AwsResult<Credentials> Get() override;
  std::string Name() const override { return "environment"; }

 private:
  EnvironmentLookup env_;
};

class StsClient;

struct WebIdentityConfig {
  std::string role_arn;      // AWS_ROLE_ARN
  std::string token_file;    // AWS_WEB_IDENTITY_TOKEN_FILE, re-read on every refresh (kubelet rotates it)
  std::string session_name;  // AWS_ROLE_SESSION_NAME, default "pipeguard-<unix seconds>"
  std::chrono::seconds refresh_margin{300};  // refresh this long before Expiration
  std::optional<int> duration_seconds;       // DurationSeconds, default: the role's (1 h)
};

// IRSA: exchanges the projected service-account token for role credentials with the unsigned STS call
// AssumeRoleWithWebIdentity, caches them until Expiration minus refresh_margin, then fetches again (re-reading the
// token file). Get is serialised by a mutex, so concurrent callers share one refresh.
class WebIdentityCredentialsProvider : public CredentialsProvider {
 public:
  // `sts` must outlive the provider; `clock` decides expiry.
  WebIdentityCredentialsProvider(WebIdentityConfig config, StsClient& sts, const Clock& clock);
  AwsResult<Credentials> Get() override;
  std::string Name() const override { return "web-identity"; }

 private:
  WebIdentityConfig config_;
  StsClient& sts_;
  const Clock& clock_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// Reads the web identity configuration from AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME;
// nullopt when AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE is unset.
std::optional<WebIdentityConfig> WebIdentityConfigFromEnvironment(const EnvironmentLookup& env);

// Tries each provider in order and returns the first credentials; a provider answering kNoCredentials is skipped,
// any other error is returned as is. Remembers nothing itself (the providers cache).
class ChainCredentialsProvider : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> providers);
  AwsResult<Credentials> Get() override;
  std::string Name() const override { return "chain"; }

 private:
  std::vector<std::unique_ptr<CredentialsProvider>> providers_;
};

// The default chain: environment, then web identity (when configured in the environment; it uses `sts`, which must
// outlive the chain).
std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const EnvironmentLookup& env, StsClient& sts,
                                                                 const Clock& clock);

}  // namespace pipeguard::aws
