#include "pipeguard/aws/credentials.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pipeguard/aws/sts.h"

namespace pipeguard::aws {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

AwsError NoCredentials(std::string message) {
  return LocalError(errc::kNoCredentials, StatusCode::kPermissionDenied, std::move(message));
}

std::string KeySuffix(const std::string& key) { return key.size() <= 4 ? key : key.substr(key.size() - 4); }

}  // namespace

std::string Credentials::Describe() const {
  return (provider.empty() ? std::string("static") : provider) + " credentials, access key ..." +
         KeySuffix(access_key_id) + (session_token.empty() ? "" : " (temporary)");
}

EnvironmentLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

StaticCredentialsProvider::StaticCredentialsProvider(Credentials credentials) : credentials_(std::move(credentials)) {
  if (credentials_.provider.empty()) credentials_.provider = "static";
}

AwsResult<Credentials> StaticCredentialsProvider::Get() { return credentials_; }

EnvironmentCredentialsProvider::EnvironmentCredentialsProvider(EnvironmentLookup env) : env_(std::move(env)) {}

AwsResult<Credentials> EnvironmentCredentialsProvider::Get() {
  auto read = [&](std::string_view name) {
    auto v = env_(name);
    return v ? Trim(*v) : std::string();
  };
  Credentials c;
  c.access_key_id = read("AWS_ACCESS_KEY_ID");
  c.secret_access_key = read("AWS_SECRET_ACCESS_KEY");
  c.session_token = read("AWS_SESSION_TOKEN");
  c.provider = "environment";
  if (c.access_key_id.empty() && c.secret_access_key.empty()) {
    return NoCredentials("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument,
                      std::string("AWS_ACCESS_KEY_ID is ") + (c.access_key_id.empty() ? "not set" : "set") +
                          " but AWS_SECRET_ACCESS_KEY is " + (c.secret_access_key.empty() ? "not set" : "set") +
                          ": set both (or neither, to use another credentials source)");
  }
  return c;
}

std::optional<WebIdentityConfig> WebIdentityConfigFromEnvironment(const EnvironmentLookup& env) {
  auto role = env("AWS_ROLE_ARN");
  auto file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!role || !file || role->empty() || file->empty()) return std::nullopt;
  WebIdentityConfig c;
  c.role_arn = Trim(*role);
  c.token_file = Trim(*file);
  if (auto name = env("AWS_ROLE_SESSION_NAME"); name && !name->empty()) c.session_name = Trim(*name);
  return c;
}

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(WebIdentityConfig config, StsClient& sts,
                                                               const Clock& clock)
    : config_(std::move(config)), sts_(sts), clock_(clock) {}

AwsResult<Credentials> WebIdentityCredentialsProvider::Get() {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  if (cached_ && (!cached_->expiration || now + config_.refresh_margin < *cached_->expiration)) return *cached_;

  std::ifstream in(config_.token_file, std::ios::binary);
  if (!in) {
    return LocalError(errc::kInvalidRequest, StatusCode::kFailedPrecondition,
                      "web identity: cannot read the token file " + config_.token_file +
                          " (AWS_WEB_IDENTITY_TOKEN_FILE); is the projected service account token mounted?");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token = Trim(buffer.str());
  if (token.empty()) {
    return LocalError(errc::kInvalidRequest, StatusCode::kFailedPrecondition,
                      "web identity: the token file " + config_.token_file + " is empty");
  }
  std::string session = config_.session_name;
  if (session.empty()) {
    session =
        "pipeguard-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  }
  auto assumed = sts_.AssumeRoleWithWebIdentity(config_.role_arn, session, token, config_.duration_seconds);
  std::fill(token.begin(), token.end(), '\0');
  if (!assumed.ok()) {
    AwsError e = assumed.error();
    e.message = "web identity (role " + config_.role_arn + "): " + e.message;
    return e;
  }
  cached_ = assumed->credentials;
  spdlog::info("aws: obtained {} for role {} (session {})", cached_->Describe(), config_.role_arn, session);
  return *cached_;
}

ChainCredentialsProvider::ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> providers)
    : providers_(std::move(providers)) {}

AwsResult<Credentials> ChainCredentialsProvider::Get() {
  std::string tried;
  for (const auto& p : providers_) {
    auto c = p->Get();
    if (c.ok() || !c.error().Is(errc::kNoCredentials)) return c;
    tried += (tried.empty() ? "" : "; ") + p->Name() + ": " + c.error().message;
  }
  return NoCredentials("no AWS credentials found (" + (tried.empty() ? std::string("no providers") : tried) +
                       "); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE");
}

std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const EnvironmentLookup& env, StsClient& sts,
                                                                 const Clock& clock) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  providers.push_back(std::make_unique<EnvironmentCredentialsProvider>(env));
  if (auto web = WebIdentityConfigFromEnvironment(env)) {
    providers.push_back(std::make_unique<WebIdentityCredentialsProvider>(*web, sts, clock));
  }
  return std::make_unique<ChainCredentialsProvider>(std::move(providers));
}

}  // namespace pipeguard::aws
