#include "pipeguard/aws/service_client.h"

#include <nlohmann/json.hpp>

#include "pipeguard/aws/sigv4.h"
#include "pipeguard/aws/xml.h"

namespace pipeguard::aws {
namespace {

ServiceConfig MakeConfig(std::string url, std::string_view region, std::string service, std::string display) {
  ServiceConfig c;
  c.endpoint = Endpoint::Parse(url).value();  // the URLs built here are always valid
  c.region = std::string(region);
  c.signing_service = std::move(service);
  c.display_name = std::move(display);
  return c;
}

// "com.amazonaws.ecr#RepositoryNotFoundException:http://..." -> "RepositoryNotFoundException".
std::string StripJsonErrorType(std::string_view type) {
  if (auto hash = type.rfind('#'); hash != std::string_view::npos) type = type.substr(hash + 1);
  if (auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

}  // namespace

ServiceConfig IamServiceConfig() { return MakeConfig("https://iam.amazonaws.com", "us-east-1", "iam", "IAM"); }

ServiceConfig StsServiceConfig(std::string_view region) {
  return MakeConfig("https://sts." + std::string(region) + ".amazonaws.com", region, "sts", "STS");
}

ServiceConfig EcrServiceConfig(std::string_view region) {
  return MakeConfig("https://api.ecr." + std::string(region) + ".amazonaws.com", region, "ecr", "ECR");
}

AwsError ParseAwsError(const HttpResponse& response, ServiceClient::ErrorFormat format, std::string_view context) {
  AwsError e;
  e.http_status = response.status;
  e.message = std::string(context);
  if (const std::string* id = response.FindHeader("x-amzn-RequestId")) e.request_id = *id;
  std::string message;
  if (format == ServiceClient::ErrorFormat::kXml) {
    if (auto doc = ParseXml(response.body); doc.ok()) {
      const XmlElement* err = doc->Child("Error");                     // <ErrorResponse><Error>
      if (err == nullptr) err = doc->Find({"Errors", "Error"});        // <Response><Errors><Error>
      if (err == nullptr && doc->name == "Error") err = &doc.value();  // bare <Error>
      if (err != nullptr) {
        e.code = err->ChildText("Code");
        message = err->ChildText("Message");
      }
      std::string id = doc->ChildText("RequestId");
      if (id.empty()) id = doc->ChildText("RequestID");
      if (!id.empty()) e.request_id = id;
    }
  } else {
    if (const std::string* type = response.FindHeader("x-amzn-ErrorType")) e.code = StripJsonErrorType(*type);
    auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
      if (auto it = json.find("__type"); it != json.end() && it->is_string()) {
        e.code = StripJsonErrorType(it->get<std::string>());
      }
      for (const char* key : {"message", "Message"}) {
        if (auto it = json.find(key); it != json.end() && it->is_string()) message = it->get<std::string>();
      }
    }
  }
  if (e.code.empty()) e.code = "HTTP " + std::to_string(response.status);
  if (!message.empty()) e.message += (e.message.empty() ? "" : ": ") + message;
  e.status_code = ClassifyAwsErrorCode(e.code, e.http_status);
  return e;
}

ServiceClient::ServiceClient(ServiceConfig config, AwsHttpClient& http, CredentialsProvider* credentials,
                             const Clock& clock, RandomSource& random, CallObserver observer)
    : config_(std::move(config)),
      http_(http),
      credentials_(credentials),
      clock_(clock),
      random_(random),
      observer_(std::move(observer)) {}

AwsResult<HttpResponse> ServiceClient::Call(std::string_view action, HttpRequest request, ErrorFormat format,
                                            bool sign) {
  const std::string context = config_.display_name + " " + std::string(action);
  const RetryPolicy& policy = config_.retry;
  const auto start = clock_.Now();
  const auto deadline = start + policy.deadline;
  request.SetHeader("Host", config_.endpoint.HostHeader());

  int attempt = 0;
  int last_status = 0;
  auto finish = [&](AwsResult<HttpResponse> result) {
    if (observer_) {
      CallRecord record{config_.display_name, action, attempt, last_status,
                        result.ok() ? std::string_view() : std::string_view(result.error().code)};
      observer_(record);
    }
    return result;
  };

  while (true) {
    ++attempt;
    if (sign) {
      if (credentials_ == nullptr) {
        return finish(LocalError(errc::kNoCredentials, StatusCode::kPermissionDenied,
                                 context + ": no credentials provider configured for signed calls"));
      }
      auto creds = credentials_->Get();
      if (!creds.ok()) {
        AwsError e = creds.error();
        e.message = context + ": getting credentials: " + e.message;
        return finish(std::move(e));
      }
      SigningParams params{config_.region, config_.signing_service, clock_.Now()};
      auto signed_parts = SignRequest(request, *creds, params);
      if (!signed_parts.ok()) {
        AwsError e = signed_parts.error();
        e.message = context + ": " + e.message;
        return finish(std::move(e));
      }
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Now());
    auto timeout = std::min(policy.attempt_timeout, std::max(remaining, std::chrono::milliseconds(1)));
    auto response = http_.Send(config_.endpoint, request, timeout);

    AwsError error;
    if (!response.ok()) {
      error = response.error();
      error.message = context + ": " + error.message;
      last_status = 0;
    } else if (response->status >= 200 && response->status < 300) {
      last_status = response->status;
      return finish(std::move(response));
    } else {
      last_status = response->status;
      error = ParseAwsError(*response, format, context);
    }
    error.retryable = IsRetryable(error, policy);
    if (!error.retryable) return finish(std::move(error));
    if (attempt >= policy.max_attempts) {
      error.message += " (gave up after " + std::to_string(attempt) + " attempts)";
      return finish(std::move(error));
    }
    auto delay = BackoffDelay(policy, attempt, random_);
    if (clock_.Now() + delay >= deadline) {
      error.message += " (gave up after " + std::to_string(attempt) + " attempts: deadline of " +
                       std::to_string(policy.deadline.count()) + " ms reached)";
      if (error.code == errc::kConnectionError) error.status_code = StatusCode::kDeadlineExceeded;
      return finish(std::move(error));
    }
    clock_.SleepFor(delay);
  }
}

AwsResult<HttpResponse> ServiceClient::CallQuery(std::string_view action, std::string_view version,
                                                 const QueryParams& params, bool sign) {
  QueryParams all;
  all.reserve(params.size() + 2);
  all.emplace_back("Action", std::string(action));
  all.emplace_back("Version", std::string(version));
  all.insert(all.end(), params.begin(), params.end());
  HttpRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  request.body = FormEncode(all);
  return Call(action, std::move(request), ErrorFormat::kXml, sign);
}

AwsResult<HttpResponse> ServiceClient::CallJson(std::string_view target_prefix, std::string_view action,
                                                std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  request.headers.emplace_back("X-Amz-Target", std::string(target_prefix) + "." + std::string(action));
  request.body = std::move(body);
  return Call(action, std::move(request), ErrorFormat::kJson, true);
}

}  // namespace pipeguard::aws
