#include "detect/structured_values.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "detect/filters.h"
#include "detect/key_names.h"
#include "detect/text.h"
#include "detect/uri.h"
#include "detect/value_rules.h"
#include "pipeguard/base/json.h"

namespace pipeguard::policy::detect {
namespace {

using Json = nlohmann::json;

// False when the text cannot be a JSON object or array: it does not open with `{` or `[`, or its `{` is not followed
// by a member name or `}`. Templates such as dbt's `{{ env_var('DBT_PASSWORD') }}` are refused here, because
// running the parser only to have it fail costs more than every other check of the value.
bool MayBeJsonContainer(std::string_view v) {
  if (v.empty() || (v.front() != '{' && v.front() != '[')) return false;
  if (v.front() == '[') return true;
  const std::string_view rest = TrimAscii(v.substr(1));
  return !rest.empty() && (rest.front() == '"' || rest.front() == '}');
}

bool ParseBounded(std::string_view value, Json& out) {
  const std::string_view v = TrimAscii(value);
  if (!MayBeJsonContainer(v) || v.size() > kMaxJsonBytes) return false;
  if (base::MeasureJson(v, kMaxJsonDepth).max_depth > kMaxJsonDepth) return false;
  out = Json::parse(v.begin(), v.end(), nullptr, /*allow_exceptions=*/false);
  return !out.is_discarded() && (out.is_object() || out.is_array());
}

bool IsSensitiveJsonKey(std::string_view key) {
  const LowerCopy lower(key);
  const std::string_view k = lower.view();
  if (k.find("keyfile_dict") != std::string_view::npos || k.find("keyfile_json") != std::string_view::npos ||
      k == "service_account" || k == "authorization" || k == "private_key" || k == "passphrase") {
    return true;
  }
  return MayBeSensitiveName(k) && ClassifyName(KeyTokens(key)) == NameStrength::kStrong;
}

bool IsLiteralSecretString(std::string_view s) {
  const std::string_view v = TrimAscii(s);
  return v.size() >= 3 && !IsNonSecretLiteral(v) && !IsBoolOrShortNumber(v);
}

void Walk(const Json& j, int depth, bool sensitive, JsonScanResult& result) {
  if (depth > kMaxJsonDepth || result.secret) return;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      const Json& child = it.value();
      const bool child_sensitive = sensitive || IsSensitiveJsonKey(key);
      if (child.is_string()) {
        const std::string& s = child.get_ref<const std::string&>();
        TransportHit hit;
        if (CheckTlsParam(key, s, hit) && (!result.has_transport || hit.severity > result.transport.severity)) {
          result.transport = hit;
          result.has_transport = true;
        }
        if (child_sensitive && IsLiteralSecretString(s)) {
          result.secret = true;
          return;
        }
        // Airflow stores `extra` as a JSON-encoded string in older exports.
        Json nested;
        if (!s.empty() && s.front() == '{' && ParseBounded(s, nested)) Walk(nested, depth + 1, child_sensitive, result);
      } else if (child.is_structured()) {
        Walk(child, depth + 1, child_sensitive, result);
      } else if (child.is_boolean() || child.is_number_integer() || child.is_number_unsigned()) {
        // Airflow extras are typed: `"insecure_mode": true`, `"verify": false`, `"ssl": 0`.
        const std::string scalar = child.is_boolean() ? (child.get<bool>() ? "true" : "false") : child.dump();
        TransportHit hit;
        if (CheckTlsParam(key, scalar, hit) && (!result.has_transport || hit.severity > result.transport.severity)) {
          result.transport = hit;
          result.has_transport = true;
        }
      }
      if (result.secret) return;
    }
  } else if (j.is_array()) {
    for (const Json& item : j) {
      if (item.is_string() && sensitive && IsLiteralSecretString(item.get_ref<const std::string&>())) {
        result.secret = true;
        return;
      }
      if (item.is_structured()) Walk(item, depth + 1, sensitive, result);
      if (result.secret) return;
    }
  }
}

// True when `value` looks like a JSON object/array within the size and depth limits (without parsing it).
bool ParseBoundedShape(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  return MayBeJsonContainer(v) && v.size() <= kMaxJsonBytes &&
         base::MeasureJson(v, kMaxJsonDepth).max_depth <= kMaxJsonDepth;
}

// True when the text contains none of the words a sensitive JSON key or a TLS parameter is made of, so that
// parsing can be skipped (the common `{"connections_prefix": ..., "region_name": ...}` case).
bool CannotHoldSecretsOrTls(std::string_view v) {
  if (v.size() > 4096) return false;  // not worth a pre-scan; parse
  const LowerCopy lower(v);
  const std::string_view l = lower.view();
  if (MayBeSensitiveName(l)) return false;
  for (std::size_t i = 0; i < l.size(); ++i) {
    switch (l[i]) {
      case 's':
        if (HasAt(l, i, "ssl") || HasAt(l, i, "service_account")) return false;
        break;
      case 't':
        if (HasAt(l, i, "tls") || HasAt(l, i, "trust")) return false;
        break;
      case 'e':
        if (HasAt(l, i, "encrypt")) return false;
        break;
      case 'i':
        if (HasAt(l, i, "insecure")) return false;
        break;
      case 'v':
        if (HasAt(l, i, "verif")) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

JsonScanResult ScanJsonForSecrets(std::string_view value) {
  JsonScanResult result;
  Json doc;
  if (CannotHoldSecretsOrTls(value)) {
    result.parsed = ParseBoundedShape(value);
    return result;
  }
  if (!ParseBounded(value, doc)) return result;
  result.parsed = true;
  Walk(doc, 0, false, result);
  return result;
}

bool HasLiteralUriPassword(std::string_view value) {
  bool found = false;
  ForEachUri(value, [&](const UriParts& uri) {
    found = uri.has_password && IsLiteralUriPassword(uri.password);
    return !found;
  });
  return found;
}

bool HasLiteralUriUserinfo(std::string_view value) {
  bool found = false;
  ForEachUri(value, [&](const UriParts& uri) {
    const std::string_view info = TrimAscii(uri.userinfo);
    found = info.size() >= 3 && !IsReference(info) && !IsPlaceholder(info);
    return !found;
  });
  return found;
}

bool AirflowConnectionHasSecret(std::string_view value, JsonScanResult& json) {
  const std::string_view v = TrimAscii(value);
  if (!v.empty() && v.front() == '{') {
    json = ScanJsonForSecrets(v);
    if (json.parsed) return json.secret;
  }
  if (HasLiteralUriPassword(v)) return true;
  // URI-form extras: `?__extra__=<json>` or `?extra__<type>__keyfile_dict=...` / `?private_key=...`.
  bool found = false;
  ForEachUri(v, [&](const UriParts& uri) {
    ForEachParam(uri.query, [&](std::string_view k, std::string_view raw) {
      const std::string decoded = PercentDecode(raw);
      if (k == "__extra__") {
        const JsonScanResult extra = ScanJsonForSecrets(decoded);
        found = extra.secret;
      } else {
        found = IsSensitiveJsonKey(k) && IsLiteralSecretString(decoded);
      }
      return !found;
    });
    return !found;
  });
  return found;
}

bool AirflowJsonConnectionIsCleartext(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.empty() || v.front() != '{' || !ContainsIgnoreCase(v, "conn_type")) return false;
  Json doc;
  if (!ParseBounded(v, doc) || !doc.is_object()) return false;
  const auto type = doc.find("conn_type");
  const auto password = doc.find("password");
  if (type == doc.end() || !type->is_string() || password == doc.end() || !password->is_string()) return false;
  if (TrimAscii(password->get_ref<const std::string&>()).empty()) return false;
  const std::string& t = type->get_ref<const std::string&>();
  if (EqualsIgnoreCase(t, "ftp") || EqualsIgnoreCase(t, "telnet")) return true;
  if (!EqualsIgnoreCase(t, "http")) return false;
  // Airflow's HttpHook: a host with a scheme is the base URL; otherwise `schema` (default http) and the host.
  auto text = [&doc](const char* member) {
    const auto it = doc.find(member);
    return it != doc.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                              : std::string_view();
  };
  std::string_view host = TrimAscii(text("host"));
  std::string_view scheme = TrimAscii(text("schema"));
  if (host.find("://") != std::string_view::npos) {
    ForEachUri(host, [&](const UriParts& uri) {
      scheme = uri.scheme;
      host = uri.host;
      return false;
    });
  }
  if (scheme.empty()) scheme = "http";
  return EqualsIgnoreCase(scheme, "http") && !IsLoopbackHost(host.substr(0, host.find('/')));
}

bool JaasHasLiteralPassword(std::string_view value) {
  constexpr std::string_view kPassword = "password";
  constexpr std::string_view kClientSecret = "clientsecret";
  // Next occurrence of each keyword at or after `pos`; recomputed only when passed, so the scan stays linear.
  std::size_t next_password = FindIgnoreCase(value, kPassword);
  std::size_t next_secret = FindIgnoreCase(value, kClientSecret);
  std::size_t pos = 0;
  while (true) {
    if (next_password != std::string_view::npos && next_password < pos) {
      next_password = FindIgnoreCase(value, kPassword, pos);
    }
    if (next_secret != std::string_view::npos && next_secret < pos)
      next_secret = FindIgnoreCase(value, kClientSecret, pos);
    const std::size_t at = std::min(next_password, next_secret);
    if (at == std::string_view::npos) return false;
    std::size_t i = at + (at == next_password ? kPassword.size() : kClientSecret.size());
    while (i < value.size() && IsAsciiSpace(value[i])) ++i;
    if (i >= value.size() || value[i] != '=') {
      pos = i > at ? i : at + 1;
      continue;
    }
    ++i;
    while (i < value.size() && IsAsciiSpace(value[i])) ++i;
    if (i >= value.size() || value[i] != '"') {
      pos = i;
      continue;
    }
    const std::size_t close = value.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    const std::string_view pw = value.substr(i + 1, close - i - 1);
    if (!pw.empty() && !IsReference(pw) && !IsPlaceholder(pw)) return true;
    pos = close + 1;
  }
}

bool UserPassListHasLiteral(std::string_view value) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view item = TrimAscii(value.substr(pos, comma - pos));
    const std::size_t colon = item.find(':');
    if (colon != std::string_view::npos) {
      const std::string_view pw = item.substr(colon + 1);
      if (pw.size() >= 3 && !IsReference(pw) && !IsPlaceholder(pw)) return true;
    }
    pos = comma + 1;
  }
  return false;
}

bool IsGoogleCredentialContent(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.empty() || v.front() != '{') return false;
  return ContainsIgnoreCase(v, "service_account") || ContainsIgnoreCase(v, "private_key") ||
         ContainsIgnoreCase(v, "refresh_token") || ContainsIgnoreCase(v, "client_secret");
}

}  // namespace pipeguard::policy::detect
