// SigV4 against AWS's published test vectors (tests/aws/data/sigv4/README.md) and the IAM ListUsers example.
#include "pipeguard/aws/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pipeguard::aws {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(PIPEGUARD_TEST_DATA) / "aws" / "data" / "sigv4";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::chrono::system_clock::time_point SuiteTime() {
  // 2015-08-30T12:36:00Z
  return std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
}

Credentials SuiteCredentials() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return c;
}

// Parses the suite's .req format. A header line starting with whitespace is another value of the previous header
// (the suite's get-header-value-multiline case). The query string's names and values are percent-decoded.
HttpRequest ParseReq(const std::string& text) {
  HttpRequest r;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  auto first_space = line.find(' ');
  auto last_space = line.rfind(' ');
  r.method = line.substr(0, first_space);
  std::string target = line.substr(first_space + 1, last_space - first_space - 1);
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      auto amp = query.find('&', start);
      std::string pair = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      auto eq = pair.find('=');
      r.query.emplace_back(UriDecode(pair.substr(0, eq)),
                           eq == std::string::npos ? "" : UriDecode(pair.substr(eq + 1)));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  std::string last_name;
  while (std::getline(in, line)) {
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      r.headers.emplace_back(last_name, line);
      continue;
    }
    auto colon = line.find(':');
    last_name = line.substr(0, colon);
    r.headers.emplace_back(last_name, line.substr(colon + 1));
  }
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  r.body = body;
  return r;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kDataDir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class SigV4SuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4SuiteTest, MatchesPublishedVector) {
  const std::string name = GetParam();
  const fs::path dir = kDataDir / name;
  HttpRequest request = ParseReq(ReadFile(dir / (name + ".req")));
  Credentials creds = SuiteCredentials();
  SigningParams params{"us-east-1", "service", SuiteTime()};
  if (fs::exists(dir / "context.json")) {
    auto ctx = nlohmann::json::parse(ReadFile(dir / "context.json"));
    params.service = ctx.value("service", params.service);
    params.sign_session_token = ctx.value("sign_session_token", true);
  }
  // The session token of the suite's requests is the credentials' token: the signer adds it itself.
  if (const std::string* token = request.FindHeader("X-Amz-Security-Token")) creds.session_token = *token;

  auto parts = SignRequest(request, creds, params);
  ASSERT_TRUE(parts.ok()) << parts.error().ToString();
  if (fs::exists(dir / (name + ".creq"))) {
    EXPECT_EQ(parts->canonical_request, ReadFile(dir / (name + ".creq")));
  }
  if (fs::exists(dir / (name + ".sts"))) {
    EXPECT_EQ(parts->string_to_sign, ReadFile(dir / (name + ".sts")));
  }
  EXPECT_EQ(parts->authorization, ReadFile(dir / (name + ".authz")));
  const std::string* authz = request.FindHeader("Authorization");
  ASSERT_NE(authz, nullptr);
  EXPECT_EQ(*authz, parts->authorization);
  if (!creds.session_token.empty()) {
    const std::string* token = request.FindHeader("X-Amz-Security-Token");
    ASSERT_NE(token, nullptr) << "the session token header must be sent whether signed or not";
    EXPECT_EQ(*token, creds.session_token);
  }
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4SuiteTest, ::testing::ValuesIn(CaseNames()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(SigV4SuiteData, HasTheCasesTheSpecNames) {
  auto names = CaseNames();
  for (const char* required :
       {"iam-list-users", "get-header-key-duplicate", "get-header-value-trim", "get-header-value-multiline",
        "post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters", "post-sts-header-before",
        "post-sts-header-after", "get-vanilla-with-session-token"}) {
    EXPECT_THAT(names, ::testing::Contains(required));
  }
}

// The classic IAM ListUsers example, step by step (operator-iam.md section 12).
TEST(SigV4, IamListUsersIntermediateValues) {
  auto key = DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
  EXPECT_EQ(HexEncode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

  HttpRequest r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"Action", "ListUsers"}, {"Version", "2010-05-08"}};
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"Host", "iam.amazonaws.com"}};
  auto parts = SignRequest(r, SuiteCredentials(), {"us-east-1", "iam", SuiteTime()});
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(Sha256Hex(parts->canonical_request), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(parts->signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(parts->signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  const std::string* date = r.FindHeader("x-amz-date");
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(*date, "20150830T123600Z");
}

TEST(SigV4, ResigningReplacesDateAuthorizationAndStaleToken) {
  HttpRequest r;
  r.headers = {{"Host", "sts.amazonaws.com"}};
  Credentials temp = SuiteCredentials();
  temp.session_token = "token-1";
  ASSERT_TRUE(SignRequest(r, temp, {"us-east-1", "sts", SuiteTime()}).ok());
  auto later = SuiteTime() + std::chrono::minutes(2);
  ASSERT_TRUE(SignRequest(r, SuiteCredentials(), {"us-east-1", "sts", later}).ok());
  int authz = 0, dates = 0;
  for (const auto& [k, v] : r.headers) {
    authz += k == "Authorization";
    dates += k == "X-Amz-Date";
    EXPECT_NE(k, "X-Amz-Security-Token") << "long-term credentials must not carry the old session token";
  }
  EXPECT_EQ(authz, 1);
  EXPECT_EQ(dates, 1);
  EXPECT_EQ(*r.FindHeader("X-Amz-Date"), "20150830T123800Z");
}

TEST(SigV4, RejectsRequestsItCannotSign) {
  HttpRequest no_host;
  auto r1 = SignRequest(no_host, SuiteCredentials(), {"us-east-1", "iam", SuiteTime()});
  ASSERT_FALSE(r1.ok());
  EXPECT_TRUE(r1.error().Is(errc::kInvalidRequest));
  EXPECT_THAT(r1.error().message, ::testing::HasSubstr("Host"));

  HttpRequest r;
  r.headers = {{"Host", "iam.amazonaws.com"}};
  Credentials no_secret;
  no_secret.access_key_id = "AKIDEXAMPLE";
  auto r2 = SignRequest(r, no_secret, {"us-east-1", "iam", SuiteTime()});
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, ::testing::Not(::testing::HasSubstr("wJalr")));
  auto r3 = SignRequest(r, SuiteCredentials(), {"", "iam", SuiteTime()});
  EXPECT_FALSE(r3.ok());
}

TEST(SigV4, UriEncodeFollowsAwsRules) {
  EXPECT_EQ(UriEncode("a b+c/d~e_f.g-h*"), "a%20b%2Bc%2Fd~e_f.g-h%2A");
  EXPECT_EQ(UriEncode("/a b/", /*keep_slash=*/true), "/a%20b/");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4"), "%E1%88%B4");
  EXPECT_EQ(UriDecode("%7B%22a%22%3A1%7D+x"), "{\"a\":1}+x");
  EXPECT_EQ(UriDecode("a+b", /*plus_is_space=*/true), "a b");
  EXPECT_EQ(UriDecode("100%"), "100%");
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");
}

TEST(SigV4, AmzDateIsUtc) {
  EXPECT_EQ(AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(0))), "19700101T000000Z");
  EXPECT_EQ(AmzDate(SuiteTime()), "20150830T123600Z");
}

}  // namespace
}  // namespace pipeguard::aws
