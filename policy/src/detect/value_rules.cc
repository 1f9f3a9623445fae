#include "detect/value_rules.h"

#include <re2/re2.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "detect/filters.h"
#include "detect/structured_values.h"
#include "detect/text.h"
#include "detect/transport.h"
#include "detect/uri.h"

namespace pipeguard::policy::detect {
namespace {

// ---- trigger scan ---------------------------------------------------------------------------------------

enum Trigger : std::uint32_t {
  kTrigPem = 1u << 0,
  kTrigAws = 1u << 1,
  kTrigVendor = 1u << 2,
  kTrigJwt = 1u << 3,
  kTrigUri = 1u << 4,
  kTrigParams = 1u << 5,      // '=' seen
  kTrigConnString = 1u << 6,  // `;`, `?`, `jdbc:` or `host=`: parameters are worth splitting
  kTrigServiceAccount = 1u << 7,
  kTrigOracleThin = 1u << 8,  // `oracle:thin:` (user/password@ syntax)
};

// The first two bytes of every trigger keyword.
constexpr BigramSet kTriggerBigrams({"--", "AK", "AS", "AB", "AC", "A3", "AI", "AG", "gh", "gi", "gl",
                                     "xo", "xa", "ho", "hf", "hv", "da", "dc", "sk", "se", "rk", "T3",
                                     "np", "py", "SG", "ey", ":/", "jd", "or", "OR", "Or", "oR"});

// Records what a trigger keyword or parameter marker starting at v[i] says (the per-position test of ScanTriggers).
void TriggersAt(std::string_view v, std::size_t i, std::uint32_t& t) {
  const std::size_t n = v.size();
  const char c = v[i];
  if (c == '=' || c == ';' || c == '?') {
    t |= c == '=' ? kTrigParams : kTrigConnString;
    if (c == '=' && i >= 4 && HasAtIgnoreCase(v, i - 4, "host")) t |= kTrigConnString;
    return;
  }
  if (i + 1 >= n || !kTriggerBigrams.Contains(c, v[i + 1])) return;
  switch (c) {
    case '-':
      if (HasAt(v, i, "-----BEGIN")) t |= kTrigPem;
      break;
    case 'A':
      if (HasAt(v, i, "AKIA") || HasAt(v, i, "ASIA") || HasAt(v, i, "ABIA") || HasAt(v, i, "ACCA") ||
          HasAt(v, i, "A3T")) {
        t |= kTrigAws;
      }
      if (HasAt(v, i, "AIza") || HasAt(v, i, "AGE-SECRET-KEY-1")) t |= kTrigVendor;
      break;
    case 'g':
      if (i + 3 < n && v[i + 1] == 'h' && v[i + 3] == '_') t |= kTrigVendor;  // ghp_ gho_ ghu_ ghs_ ghr_
      if (HasAt(v, i, "github_pat_") || HasAt(v, i, "glpat-")) t |= kTrigVendor;
      break;
    case 'x':
      if (HasAt(v, i, "xox") || HasAt(v, i, "xapp-")) t |= kTrigVendor;
      break;
    case 'h':
      if (HasAt(v, i, "hooks.slack.com/") || HasAt(v, i, "hf_") || HasAt(v, i, "hvs.") || HasAt(v, i, "hvb.")) {
        t |= kTrigVendor;
      }
      break;
    case 'd':
      if (HasAt(v, i, "dapi") || HasAt(v, i, "dckr_pat_")) t |= kTrigVendor;
      break;
    case 's':
      if (HasAt(v, i, "sk_") || HasAt(v, i, "sk-ant-")) t |= kTrigVendor;
      if (HasAt(v, i, "service_account")) t |= kTrigServiceAccount;
      break;
    case 'r':
      if (HasAt(v, i, "rk_")) t |= kTrigVendor;
      break;
    case 'T':
      if (HasAt(v, i, "T3BlbkFJ")) t |= kTrigVendor;
      break;
    case 'n':
      if (HasAt(v, i, "npm_")) t |= kTrigVendor;
      break;
    case 'p':
      if (HasAt(v, i, "pypi-AgEI")) t |= kTrigVendor;
      break;
    case 'S':
      if (HasAt(v, i, "SG.")) t |= kTrigVendor;
      break;
    case 'O':
      if (HasAtIgnoreCase(v, i, "oracle:thin:")) t |= kTrigOracleThin;
      break;
    case 'e':
      if (HasAt(v, i, "eyJ")) t |= kTrigJwt;
      break;
    case ':':
      if (HasAt(v, i, "://")) t |= kTrigUri;
      break;
    case 'j':
      if (HasAt(v, i, "jdbc:")) t |= kTrigConnString;
      break;
    case 'o':
      if (HasAtIgnoreCase(v, i, "oracle:thin:")) t |= kTrigOracleThin;
      break;
    default:
      break;
  }
}

// Every trigger keyword is at least three bytes long, so an occurrence at an even index starts with a bigram of
// kTriggerBigrams there, and one at an odd index has its second and third bytes at the next (even) index. The
// scan probes only the pairs at even indexes, against this set: the first and the second pairs of the keywords
// (`gh?_` contributes every pair starting with `h`, `oracle:thin:` the case variants of `ra`), and every pair
// holding a parameter marker (`=`, `;`, `?`) in either byte.
constexpr BigramSet kTriggerProbe = [] {
  BigramSet probe = kTriggerBigrams;
  probe.AddAll(
      BigramSet({"--", "KI", "SI", "BI", "CC", "3T", "Iz", "GE", "it", "lp", "ox", "ap", "oo", "f_", "vs", "vb",
                 "ck", "k_", "k-", "er", "3B", "pm", "yp", "G.", "yJ", "//", "db", "ra", "rA", "Ra", "RA"}));
  probe.AddAllStartingWith('h');  // `gh?_` (ghp_ gho_ ghu_ ghs_ ghr_)
  for (char marker : {'=', ';', '?'}) {
    probe.AddAllStartingWith(marker);
    probe.AddAllEndingWith(marker);
  }
  return probe;
}();

// kTriggerProbe covers what ScanTriggers assumes: for every keyword TriggersAt can fire on, at least three bytes,
// its first and second pairs; every pair starting with `h`; every pair holding a marker.
static_assert([] {
  constexpr std::string_view kKeywords[] = {"-----BEGIN",   "AKIA",
                                            "ASIA",         "ABIA",
                                            "ACCA",         "A3T",
                                            "AIza",         "AGE-SECRET-KEY-1",
                                            "ghp_",         "github_pat_",
                                            "glpat-",       "xox",
                                            "xapp-",        "hooks.slack.com/",
                                            "hf_",          "hvs.",
                                            "hvb.",         "dapi",
                                            "dckr_pat_",    "sk_",
                                            "sk-ant-",      "service_account",
                                            "rk_",          "T3BlbkFJ",
                                            "npm_",         "pypi-AgEI",
                                            "SG.",          "eyJ",
                                            "://",          "jdbc:",
                                            "oracle:thin:", "orACLE:THIN:",
                                            "ORACLE:THIN:", "ORacle:thin:",
                                            "Oracle:thin:", "oRACLE:THIN:"};
  for (std::string_view k : kKeywords) {
    if (k.size() < 3 || !kTriggerBigrams.Contains(k[0], k[1])) return false;
    if (!kTriggerProbe.Contains(k[0], k[1]) || !kTriggerProbe.Contains(k[1], k[2])) return false;
  }
  for (unsigned b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (!kTriggerProbe.Contains('h', c)) return false;
    for (char marker : {'=', ';', '?'}) {
      if (!kTriggerProbe.Contains(marker, c) || !kTriggerProbe.Contains(c, marker)) return false;
    }
  }
  return true;
}());

// One pass over the value that records which detectors could possibly match (the keyword pre-filter of D9):
// one pair probe per two bytes (kTriggerProbe) rejects almost every position of an ordinary value; a hit at
// index j runs the per-position test at j - 1, j and j + 1. Most values trigger nothing.
std::uint32_t ScanTriggers(std::string_view v) {
  std::uint32_t t = 0;
  const std::size_t n = v.size();
  for (std::size_t j = 0; j + 1 < n; j += 2) {
    if (!kTriggerProbe.Contains(v[j], v[j + 1])) continue;
    if (j > 0) TriggersAt(v, j - 1, t);
    TriggersAt(v, j, t);
    TriggersAt(v, j + 1, t);
  }
  // With an odd length, the last byte is in no probed pair; it starts no keyword but may be a marker.
  if (n % 2 == 1) TriggersAt(v, n - 1, t);
  return t;
}

// ---- helpers --------------------------------------------------------------------------------------------

RE2::Options Latin1Options() {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);  // byte semantics: binary input can never fail to match
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);
  return o;
}

bool IsB64UrlChar(char c) { return IsAsciiAlnum(c) || c == '-' || c == '_'; }

std::size_t RunEnd(std::string_view v, std::size_t i) {
  while (i < v.size() && IsB64UrlChar(v[i])) ++i;
  return i;
}

bool DecodesToJson(std::string_view b64, bool require_object) {
  std::string decoded;
  if (!DecodeBase64(b64, decoded)) return false;
  const std::string_view d = TrimAscii(decoded);
  if (require_object && (d.empty() || d.front() != '{')) return false;
  return nlohmann::json::accept(d.begin(), d.end());
}

std::string_view VendorName(std::string_view m) {
  if (m.substr(0, 2) == "gh" || m.substr(0, 11) == "github_pat_") return "GitHub token";
  if (m.substr(0, 6) == "glpat-") return "GitLab token";
  if (m.substr(0, 3) == "xox" || m.substr(0, 5) == "xapp-") return "Slack token";
  if (m.find("hooks.slack.com") != std::string_view::npos) return "Slack webhook";
  if (m.substr(0, 4) == "dapi") return "Databricks token";
  if (m.substr(0, 4) == "AIza") return "Google API key";
  if (m.substr(0, 3) == "sk_" || m.substr(0, 3) == "rk_") return "Stripe key";
  if (m.substr(0, 7) == "sk-ant-") return "Anthropic key";
  if (m.substr(0, 3) == "sk-") return "OpenAI key";
  if (m.substr(0, 3) == "hf_") return "Hugging Face token";
  if (m.substr(0, 4) == "npm_") return "npm token";
  if (m.substr(0, 5) == "pypi-") return "PyPI token";
  if (m.substr(0, 3) == "SG.") return "SendGrid key";
  if (m.substr(0, 2) == "hv") return "Vault token";
  if (m.substr(0, 9) == "dckr_pat_") return "Docker Hub token";
  if (m.substr(0, 4) == "AGE-") return "age secret key";
  return "vendor token";
}

bool LooksLikeTokenPlaceholder(std::string_view token) {
  return ContainsIgnoreCase(token, "xxxx") || ContainsIgnoreCase(token, "example") ||
         ContainsIgnoreCase(token, "0000000000") || ContainsIgnoreCase(token, "abcdefghij");
}

constexpr std::string_view kVendorPattern =
    R"(\bgh[pousr]_[0-9A-Za-z]{36}\b)"
    R"(|\bgithub_pat_[0-9A-Za-z_]{82}\b)"
    R"(|\bglpat-[0-9A-Za-z_-]{20}\b)"
    R"(|\bxox[baprse]-[0-9]{6,}-[0-9A-Za-z-]{8,})"
    R"(|\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+)"
    R"(|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,60})"
    R"(|\bdapi[a-f0-9]{32}(?:-[0-9])?\b)"
    R"(|\bAIza[0-9A-Za-z_-]{35}\b)"
    R"(|\b[sr]k_(?:live|test|prod)_[0-9A-Za-z]{10,99}\b)"
    R"(|\bsk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA\b)"
    R"(|\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b)"
    R"(|\bhf_[A-Za-z]{34}\b)"
    R"(|\bnpm_[A-Za-z0-9]{36}\b)"
    R"(|\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"
    R"(|\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b)"
    R"(|\bhv[sb]\.[A-Za-z0-9_-]{90,})"
    R"(|\bdckr_pat_[A-Za-z0-9_-]{27}\b)"
    R"(|\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b)";

// Keys of connection-string parameters that carry a password or token (SEC-011).
bool IsPasswordParam(std::string_view key) {
  static constexpr std::string_view kNames[] = {
      "password",      "pwd",          "passwd",     "sfpassword",           "secret",
      "client_secret", "clientsecret", "token",      "access_token",         "api_key",
      "apikey",        "api-key",      "auth_token", "private_key_file_pwd", "private_key_passphrase",
      "user password"};
  for (std::string_view name : kNames) {
    if (EqualsIgnoreCase(key, name)) return true;  // most names differ in length: no byte is compared
  }
  return false;
}

bool HasTwoParams(std::string_view value, unsigned grammar) {
  int count = 0;
  ForEachParamIn(value, grammar, [&](std::string_view, std::string_view) { return ++count < 2; });
  return count >= 2;
}

// Oracle thin `jdbc:oracle:thin:user/password@host...` (also without the `jdbc:` prefix, as sqlplus-style
// strings are written): a literal password between the first `/` and the last `@` of the credential part.
bool OracleThinHasLiteralPassword(std::string_view v) {
  for (std::size_t pos = FindIgnoreCase(v, "oracle:thin:"); pos != std::string_view::npos;
       pos = FindIgnoreCase(v, "oracle:thin:", pos + 1)) {
    std::size_t begin = pos + 12;
    std::size_t end = begin;
    while (end < v.size() && !IsAsciiSpace(v[end]) && v[end] != '"' && v[end] != '\'') ++end;
    const std::string_view credential_part = v.substr(begin, end - begin);
    const std::size_t at = credential_part.rfind('@');
    if (at == std::string_view::npos || at == 0) continue;
    const std::string_view userpass = credential_part.substr(0, at);
    const std::size_t slash = userpass.find('/');
    if (slash == std::string_view::npos) continue;
    if (IsLiteralUriPassword(userpass.substr(slash + 1))) return true;
  }
  return false;
}

}  // namespace

ValueRules::ValueRules()
    : pem_header_(std::make_unique<RE2>(R"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)", Latin1Options())),
      aws_key_id_(std::make_unique<RE2>(R"(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b)", Latin1Options())),
      vendor_token_(std::make_unique<RE2>("(" + std::string(kVendorPattern) + ")", Latin1Options())) {
  // The patterns are constants covered by the case tables; failing to compile one is a build defect, not input.
  if (!pem_header_->ok() || !aws_key_id_->ok() || !vendor_token_->ok()) std::abort();
}

ValueRules::~ValueRules() = default;

bool ValueRules::ScanPrivateKeys(std::string_view value, const Location& where, FindingSink& sink) const {
  re2::StringPiece input(value.data(), value.size());
  while (RE2::FindAndConsume(&input, *pem_header_)) {
    // Count base64 body characters up to the END marker (Trivy requires at least 32).
    std::size_t body = 0;
    const std::string_view rest(input.data(), input.size());
    std::size_t i = 0;
    for (; i < rest.size() && !(rest[i] == '-' && HasAt(rest, i, "-----END")); ++i) {
      const char c = rest[i];
      if (IsAsciiAlnum(c) || c == '+' || c == '/' || c == '=') ++body;
    }
    if (body >= 32) {
      sink.Add(where, DetectorId::kPrivateKey, Severity::kCritical);
      return true;
    }
    input.remove_prefix(i);
  }
  return false;
}

bool ValueRules::ScanAwsKeyIds(std::string_view value, const Location& where, FindingSink& sink) const {
  re2::StringPiece input(value.data(), value.size());
  re2::StringPiece id;
  while (RE2::FindAndConsume(&input, *aws_key_id_, &id)) {
    const std::string_view key(id.data(), id.size());
    if (key.substr(key.size() - 7) == "EXAMPLE" || ShannonEntropy(key) < 3.0) continue;
    sink.Add(where, DetectorId::kAwsAccessKeyId, Severity::kHigh);
    return true;
  }
  return false;
}

bool ValueRules::ScanVendorTokens(std::string_view value, const Location& where, FindingSink& sink) const {
  re2::StringPiece input(value.data(), value.size());
  re2::StringPiece token;
  while (RE2::FindAndConsume(&input, *vendor_token_, &token)) {
    const std::string_view t(token.data(), token.size());
    if (LooksLikeTokenPlaceholder(t)) continue;
    sink.Add(where, DetectorId::kVendorToken, Severity::kHigh, VendorName(t));
    return true;
  }
  return false;
}

bool ValueRules::Scan(std::string_view value, const Location& where, FindingSink& sink) const {
  const std::uint32_t triggers = ScanTriggers(value);
  bool secret = false;

  if ((triggers & kTrigServiceAccount) && ContainsIgnoreCase(value, "\"private_key\"") &&
      value.find("-----BEGIN") != std::string_view::npos) {
    sink.Add(where, DetectorId::kCloudCredentialBlob, Severity::kCritical, "GCP service-account key");
    secret = true;
  }
  if ((triggers & kTrigPem) && ScanPrivateKeys(value, where, sink)) secret = true;
  if ((triggers & kTrigAws) && ScanAwsKeyIds(value, where, sink)) secret = true;
  if ((triggers & kTrigVendor) && ScanVendorTokens(value, where, sink)) secret = true;
  if ((triggers & kTrigJwt) && ContainsJwt(value)) {
    sink.Add(where, DetectorId::kJwt, Severity::kHigh);
    secret = true;
  }
  if (IsAuthorizationHeaderValue(value)) {
    sink.Add(where, DetectorId::kAuthorizationHeader, Severity::kHigh);
    secret = true;
  }

  std::string_view first_host;
  if (triggers & kTrigUri) {
    ForEachUri(value, [&](const UriParts& uri) {
      if (first_host.empty()) first_host = uri.host;
      TransportHit hit;
      if (KafkaPlaintextScheme(uri.scheme, hit)) sink.Add(where, hit.id, hit.severity, hit.detail);
      if (!uri.has_password) return true;
      const TransportScheme transport_scheme(uri.scheme);
      const std::string_view scheme = transport_scheme.view();
      // Only the credential decides whether it is a placeholder (`password`, `<password>`, `${PASSWORD}`): a
      // documentation host (`@db.example.com`, `@<your-host>`) never waives a literal password, since anyone can
      // write one in front of a real secret.
      const bool literal = IsLiteralUriPassword(uri.password);
      if (literal) {
        const Severity sev = IsLoopbackHost(uri.host) ? Severity::kMedium : Severity::kHigh;
        sink.Add(where, DetectorId::kUriCredentials, sev, "scheme " + std::string(scheme));
        secret = true;
      }
      // Credentials cross the wire in cleartext whether they are literal or injected through $(VAR).
      const bool credential = literal || (!uri.password.empty() && IsReference(uri.password));
      if (credential && IsPlaintextCredentialScheme(scheme) && !QueryRequestsTls(uri.query)) {
        sink.Add(where, DetectorId::kPlaintextSchemeCredentials, Severity::kHigh, "scheme " + std::string(scheme));
      }
      return true;
    });
  }

  // Parameter lists: JDBC/ODBC `;k=v`, URI queries, libpq `k=v k=v`, comma lists, TNS descriptors. A value is a
  // list when it has a connection-string marker or at least two parameters; a lone `k=v` is a pair that the
  // caller judges by its key (a `password=x` argument is reported once, under `password`).
  const unsigned grammar = (triggers & kTrigParams) ? DetectParamGrammar(value) : kParamDefault;
  std::string_view keyword_host;
  bool host_known = false;
  if ((triggers & kTrigParams) && ((triggers & kTrigConnString) || HasTwoParams(value, grammar))) {
    // The generic names `verify` and `secure` are TLS switches only in something that connects (a URI or a
    // connection string); in a bare `a=b c=d` list they may be anything (`secure=false` on a cookie).
    const ParamContext context = (triggers & (kTrigUri | kTrigConnString)) || (grammar & kParamCommas)
                                     ? ParamContext::kConnectionString
                                     : ParamContext::kConfKey;
    ForEachParamIn(value, grammar, [&](std::string_view k, std::string_view v) {
      TransportHit hit;
      if (CheckTlsParam(k, v, hit, context)) {
        sink.Add(where, hit.id, hit.severity, hit.detail);
        return true;
      }
      if (IsPasswordParam(k)) {
        const std::string_view pw = TrimAscii(v);
        if (pw.size() >= 3 && !IsReference(pw) && !IsPlaceholder(pw)) {
          // The host is looked up once per value: a value with many password parameters stays linear.
          if (!host_known) {
            keyword_host = first_host.empty() ? KeywordHost(value) : first_host;
            host_known = true;
          }
          const Severity sev = IsLoopbackHost(keyword_host) ? Severity::kMedium : Severity::kHigh;
          sink.Add(where, DetectorId::kConnectionStringPassword, sev);
          secret = true;
        }
        return true;
      }
      if (EqualsIgnoreCase(k, "AccountKey") || EqualsIgnoreCase(k, "SharedAccessKey") ||
          (EqualsIgnoreCase(k, "sig") && v.size() >= 20)) {
        if (v.size() >= 20 && !IsReference(v) && !IsPlaceholder(v)) {
          sink.Add(where, DetectorId::kCloudCredentialBlob, Severity::kCritical, "Azure storage key or SAS");
          secret = true;
        }
      }
      return true;
    });
  }
  if ((triggers & kTrigOracleThin) && OracleThinHasLiteralPassword(value)) {
    sink.Add(where, DetectorId::kConnectionStringPassword, Severity::kHigh, "Oracle user/password@");
    secret = true;
  }
  // A JSON document (settings in an env var, a request body, a CLI argument): sensitive keys and TLS switches.
  const std::string_view trimmed = TrimAscii(value);
  if (!trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[')) {
    const JsonScanResult json = ScanJsonForSecrets(trimmed);
    if (json.secret) {
      sink.Add(where, DetectorId::kJsonSecret, Severity::kHigh);
      secret = true;
    }
    if (json.has_transport) sink.Add(where, json.transport.id, json.transport.severity, json.transport.detail);
  }
  return secret;
}

bool ContainsJwt(std::string_view v) {
  std::size_t pos = 0;
  while (pos < v.size()) {
    const std::size_t start = v.find("eyJ", pos);
    if (start == std::string_view::npos) return false;
    const std::size_t header_end = RunEnd(v, start);
    if (start > 0 && IsB64UrlChar(v[start - 1])) {  // inside a longer run: not a token start
      pos = header_end;
      continue;
    }
    if (header_end + 3 >= v.size() || v[header_end] != '.' || v[header_end + 1] != 'e' || v[header_end + 2] != 'y') {
      pos = header_end;
      continue;
    }
    const std::size_t payload_end = RunEnd(v, header_end + 1);
    if (DecodesToJson(v.substr(start, header_end - start), /*require_object=*/true) &&
        DecodesToJson(v.substr(header_end + 1, payload_end - header_end - 1), /*require_object=*/false)) {
      return true;
    }
    pos = payload_end;
  }
  return false;
}

bool IsLiteralAuthorization(std::string_view credential) {
  std::string_view c = TrimAscii(credential);
  bool basic = false;
  const std::size_t space = c.find_first_of(" \t");
  if (space != std::string_view::npos) {
    const std::string_view scheme = c.substr(0, space);
    if (!(EqualsIgnoreCase(scheme, "bearer") || EqualsIgnoreCase(scheme, "basic") ||
          EqualsIgnoreCase(scheme, "token") || EqualsIgnoreCase(scheme, "api-token") ||
          EqualsIgnoreCase(scheme, "apikey") || EqualsIgnoreCase(scheme, "key") ||
          EqualsIgnoreCase(scheme, "sso-key"))) {
      return false;
    }
    basic = EqualsIgnoreCase(scheme, "basic");
    c = TrimAscii(c.substr(space + 1));
  }
  if (c.size() < 8 || IsReference(c) || IsPlaceholder(c)) return false;
  for (char ch : c) {
    if (IsAsciiSpace(ch)) return false;
    if (basic && !(IsAsciiAlnum(ch) || ch == '+' || ch == '/' || ch == '=')) return false;
  }
  return ShannonEntropy(c) >= 2.75;
}

bool IsAuthorizationHeaderValue(std::string_view value) {
  std::string_view v = TrimAscii(value);
  if (v.empty()) return false;
  const char first = ToLowerAscii(v[0]);
  if (first != 'a' && first != 'b' && first != 't') return false;
  if (StartsWithIgnoreCase(v, "authorization:")) return IsLiteralAuthorization(v.substr(14));
  if (StartsWithIgnoreCase(v, "bearer ") || StartsWithIgnoreCase(v, "basic ") || StartsWithIgnoreCase(v, "token ")) {
    return IsLiteralAuthorization(v);
  }
  return false;
}

bool IsLiteralUriPassword(std::string_view raw_password) {
  if (raw_password.empty() || IsReference(raw_password)) return false;
  const std::string decoded = PercentDecode(raw_password);
  return decoded.size() >= 3 && !IsReference(decoded) && !IsPlaceholder(decoded);
}

bool IsHighEntropyToken(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.size() < 20 || v.size() > 4096 || v[0] == '/' || v[0] == '.' || v[0] == '~') return false;
  static constexpr ByteTable kBase64 = ByteTableOf(IsBase64Char);
  static constexpr ByteTable kHex = ByteTableOf(IsHexDigit);
  bool hex = true;
  for (char c : v) {
    if (!InTable(kBase64, c)) return false;
    hex = hex && InTable(kHex, c);
  }
  if (hex && v.size() < 32) return false;
  const double h = ShannonEntropy(v);
  if (hex ? h <= 3.0 : h <= 4.5) return false;
  return !(IsUuid(v) || IsSequential(v) || IsDigestLike(v) || IsPathLike(v) || IsReference(v) || IsPlaceholder(v));
}

}  // namespace pipeguard::policy::detect
