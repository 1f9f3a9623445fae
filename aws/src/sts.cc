#include "pipeguard/aws/sts.h"

#include <ctime>

#include "pipeguard/aws/xml.h"

namespace pipeguard::aws {
namespace {

constexpr std::string_view kStsVersion = "2011-06-15";

AwsError BadResponse(std::string_view action, std::string why) {
  return LocalError(errc::kBadResponse, StatusCode::kInternal,
                    "STS " + std::string(action) + ": unexpected response: " + std::move(why));
}

AwsResult<XmlElement> QueryResult(ServiceClient& client, std::string_view action, const QueryParams& params,
                                  bool sign) {
  auto response = client.CallQuery(action, kStsVersion, params, sign);
  if (!response.ok()) return response.error();
  auto doc = ParseXml(response->body);
  if (!doc.ok()) return BadResponse(action, doc.error().message);
  const XmlElement* result = doc->Child(std::string(action) + "Result");
  if (result == nullptr) return BadResponse(action, "no <" + std::string(action) + "Result>");
  return *result;
}

bool ParseDigits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)
  std::tm tm{};
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !ParseDigits(text, 0, 4, year) || text[4] != '-' || !ParseDigits(text, 5, 2, month) ||
      text[7] != '-' || !ParseDigits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !ParseDigits(text, 11, 2, hour) || text[13] != ':' || !ParseDigits(text, 14, 2, minute) || text[16] != ':' ||
      !ParseDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  std::string_view zone = text.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

AwsResult<AssumedRole> StsClient::AssumeRoleWithWebIdentity(std::string_view role_arn, std::string_view session_name,
                                                            std::string_view web_identity_token,
                                                            std::optional<int> duration_seconds) {
  constexpr std::string_view kAction = "AssumeRoleWithWebIdentity";
  if (role_arn.empty() || session_name.empty() || web_identity_token.empty()) {
    return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument,
                      "STS AssumeRoleWithWebIdentity: role ARN, session name and token are all required");
  }
  QueryParams p{{"RoleArn", std::string(role_arn)},
                {"RoleSessionName", std::string(session_name)},
                {"WebIdentityToken", std::string(web_identity_token)}};
  if (duration_seconds) p.emplace_back("DurationSeconds", std::to_string(*duration_seconds));
  auto result = QueryResult(client_, kAction, p, /*sign=*/false);
  if (!result.ok()) return result.error();
  const XmlElement* creds = result->Child("Credentials");
  if (creds == nullptr) return BadResponse(kAction, "no <Credentials>");
  AssumedRole out;
  out.credentials.access_key_id = creds->ChildText("AccessKeyId");
  out.credentials.secret_access_key = creds->ChildText("SecretAccessKey");
  out.credentials.session_token = creds->ChildText("SessionToken");
  out.credentials.provider = "web-identity";
  std::string expiration = creds->ChildText("Expiration");
  out.credentials.expiration = ParseIso8601(expiration);
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      out.credentials.session_token.empty()) {
    return BadResponse(kAction, "<Credentials> lacks AccessKeyId, SecretAccessKey or SessionToken");
  }
  if (!out.credentials.expiration) return BadResponse(kAction, "unparseable Expiration '" + expiration + "'");
  if (const XmlElement* user = result->Child("AssumedRoleUser")) {
    out.assumed_role_arn = user->ChildText("Arn");
    out.assumed_role_id = user->ChildText("AssumedRoleId");
  }
  out.subject = result->ChildText("SubjectFromWebIdentityToken");
  return out;
}

AwsResult<CallerIdentity> StsClient::GetCallerIdentity() {
  auto result = QueryResult(client_, "GetCallerIdentity", {}, /*sign=*/true);
  if (!result.ok()) return result.error();
  CallerIdentity id{result->ChildText("Account"), result->ChildText("Arn"), result->ChildText("UserId")};
  if (id.account.empty() || id.arn.empty()) return BadResponse("GetCallerIdentity", "no Account or Arn");
  return id;
}

}  // namespace pipeguard::aws
