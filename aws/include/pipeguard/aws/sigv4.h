// AWS Signature Version 4 as pure functions (no clock, no I/O): the time is an argument.
//
// Canonical request = METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload
// hash, where
//   - the canonical URI is the decoded path UriEncode()d with '/' kept (encoded once, as the AWS test suite and
//     the services this library calls, whose path is "/", expect; no dot-segment normalisation);
//   - the canonical query is the name=value pairs UriEncode()d and sorted by name, then value;
//   - every header is signed: names lower-cased, values trimmed with inner runs of spaces collapsed to one,
//     repeated headers joined with ',' in their original order, sorted by name;
//   - the payload hash is the hex SHA-256 of the body.
// Verified against AWS's published test vectors (tests/aws/data/sigv4).
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/error.h"
#include "pipeguard/aws/http.h"

namespace pipeguard::aws {

struct SigningParams {
  std::string region;   // e.g. "us-east-1"
  std::string service;  // e.g. "iam", "sts", "ecr"
  std::chrono::system_clock::time_point time;
  // Sign X-Amz-Security-Token (true, what IAM/STS/ECR expect) or add it after signing (the suite's
  // post-sts-header-after case).
  bool sign_session_token = true;
};

// The intermediate values of one signature, for tests and diagnostics. None of them is secret: the signing key is
// not kept here.
struct SignatureParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header value
};

std::string HexEncode(std::string_view bytes);
std::string Sha256Hex(std::string_view data);
std::array<unsigned char, 32> HmacSha256(std::string_view key, std::string_view data);
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request").
std::array<unsigned char, 32> DeriveSigningKey(std::string_view secret_access_key, std::string_view yyyymmdd,
                                               std::string_view region, std::string_view service);
// "20150830T123600Z" (UTC).
std::string AmzDate(std::chrono::system_clock::time_point time);

// The canonical request of `request` as it stands (every header signed); the signed-header list goes to
// *signed_headers when not null.
std::string CanonicalRequest(const HttpRequest& request, std::string* signed_headers = nullptr);
// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

// Signs `request` in place: sets X-Amz-Date from params.time, adds X-Amz-Security-Token when the credentials have
// a session token, and sets Authorization. The request must have a Host header. Errors: missing Host, empty access
// key or secret, empty region or service (kInvalidRequest; never retryable).
AwsResult<SignatureParts> SignRequest(HttpRequest& request, const Credentials& credentials,
                                      const SigningParams& params);

}  // namespace pipeguard::aws
