#include "pipeguard/aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <map>

namespace pipeguard::aws {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Trims the value and collapses each inner run of whitespace to a single space.
std::string NormalizeHeaderValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string ToString(const std::array<unsigned char, 32>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

AwsError InvalidSigning(std::string message) {
  return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument, "SigV4 signing: " + std::move(message));
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::array<unsigned char, 32> HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return out;
}

std::array<unsigned char, 32> DeriveSigningKey(std::string_view secret_access_key, std::string_view yyyymmdd,
                                               std::string_view region, std::string_view service) {
  std::string k_secret = "AWS4" + std::string(secret_access_key);
  auto k_date = HmacSha256(k_secret, yyyymmdd);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  auto k_region = HmacSha256(ToString(k_date), region);
  auto k_service = HmacSha256(ToString(k_region), service);
  return HmacSha256(ToString(k_service), "aws4_request");
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalRequest(const HttpRequest& request, std::string* signed_headers_out) {
  std::string out = request.method;
  out.push_back('\n');
  out += UriEncode(request.path.empty() ? "/" : request.path, /*keep_slash=*/true);
  out.push_back('\n');

  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [k, v] : request.query) query.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(query.begin(), query.end());
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (i) out.push_back('&');
    out += query[i].first + "=" + query[i].second;
  }
  out.push_back('\n');

  std::map<std::string, std::string> headers;  // sorted by lower-cased name; values joined in original order
  for (const auto& [name, value] : request.headers) {
    auto [it, inserted] = headers.try_emplace(Lower(name), NormalizeHeaderValue(value));
    if (!inserted) {
      it->second += ',';
      it->second += NormalizeHeaderValue(value);
    }
  }
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    out += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }
  out.push_back('\n');
  out += signed_headers;
  out.push_back('\n');
  out += Sha256Hex(request.body);
  if (signed_headers_out) *signed_headers_out = std::move(signed_headers);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

AwsResult<SignatureParts> SignRequest(HttpRequest& request, const Credentials& credentials,
                                      const SigningParams& params) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidSigning("the credentials have no access key id or no secret access key");
  }
  if (params.region.empty() || params.service.empty()) return InvalidSigning("region and service are required");
  if (request.FindHeader("host") == nullptr) return InvalidSigning("the request has no Host header");

  std::string amz_date = AmzDate(params.time);
  std::string date = amz_date.substr(0, 8);
  request.SetHeader("X-Amz-Date", amz_date);
  std::erase_if(request.headers, [](const auto& h) { return Lower(h.first) == "authorization"; });
  std::erase_if(request.headers, [](const auto& h) { return Lower(h.first) == "x-amz-security-token"; });
  const bool token = !credentials.session_token.empty();
  if (token && params.sign_session_token) request.SetHeader("X-Amz-Security-Token", credentials.session_token);

  SignatureParts parts;
  std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  parts.canonical_request = CanonicalRequest(request, &parts.signed_headers);
  parts.string_to_sign = StringToSign(amz_date, scope, parts.canonical_request);
  auto key = DeriveSigningKey(credentials.secret_access_key, date, params.region, params.service);
  auto signature = HmacSha256(ToString(key), parts.string_to_sign);
  OPENSSL_cleanse(key.data(), key.size());
  parts.signature = HexEncode(ToString(signature));
  parts.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                        ", SignedHeaders=" + parts.signed_headers + ", Signature=" + parts.signature;
  request.headers.emplace_back("Authorization", parts.authorization);
  if (token && !params.sign_session_token) request.SetHeader("X-Amz-Security-Token", credentials.session_token);
  return parts;
}

}  // namespace pipeguard::aws
