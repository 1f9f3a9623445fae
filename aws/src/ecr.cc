#include "pipeguard/aws/ecr.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "pipeguard/base/base64.h"

namespace pipeguard::aws {
namespace {

constexpr std::string_view kTargetPrefix = "AmazonEC2ContainerRegistry_V20150921";

AwsError BadResponse(std::string why) {
  return LocalError(errc::kBadResponse, StatusCode::kInternal,
                    "ECR GetAuthorizationToken: unexpected response: " + std::move(why));
}

}  // namespace

AwsResult<EcrAuthorization> EcrClient::GetAuthorizationToken() {
  auto response = client_.CallJson(kTargetPrefix, "GetAuthorizationToken", "{}");
  if (!response.ok()) return response.error();
  auto json = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return BadResponse("the body is not a JSON object");
  auto data = json.find("authorizationData");
  if (data == json.end() || !data->is_array() || data->empty() || !(*data)[0].is_object()) {
    return BadResponse("no authorizationData");
  }
  const auto& first = (*data)[0];
  EcrAuthorization out;
  auto token = first.find("authorizationToken");
  if (token == first.end() || !token->is_string()) return BadResponse("no authorizationToken");
  out.token = token->get<std::string>();
  auto decoded = base::Base64Decode(out.token);
  if (!decoded) return BadResponse("authorizationToken is not base64");
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return BadResponse("authorizationToken does not decode to user:password");
  out.username = decoded->substr(0, colon);
  out.password = decoded->substr(colon + 1);
  std::fill(decoded->begin(), decoded->end(), '\0');
  auto expires = first.find("expiresAt");
  if (expires == first.end() || !expires->is_number()) return BadResponse("no numeric expiresAt");
  double seconds = expires->get<double>();
  if (!std::isfinite(seconds) || seconds < 0) return BadResponse("expiresAt out of range");
  if (seconds > 1e12) return BadResponse("expiresAt out of range");
  // Epoch seconds with a fraction; rounded to milliseconds (doubles cannot hold .123 exactly).
  out.expires_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(std::llround(seconds * 1000)));
  if (auto proxy = first.find("proxyEndpoint"); proxy != first.end() && proxy->is_string()) {
    out.proxy_endpoint = proxy->get<std::string>();
  }
  return out;
}

}  // namespace pipeguard::aws
