#include "pipeguard/aws/ecr.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace pipeguard::aws {
namespace {

constexpr std::string_view kTargetPrefix = "AmazonEC2ContainerRegistry_V20150921";

AwsError BadResponse(std::string why) {
  return LocalError(errc::kBadResponse, StatusCode::kInternal,
                    "ECR GetAuthorizationToken: unexpected response: " + std::move(why));
}

// Standard base64 with optional padding; nullopt on any other character.
std::optional<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
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
  auto decoded = Base64Decode(out.token);
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
