#include "detect/filters.h"

#include <array>

#include "detect/text.h"

namespace pipeguard::policy::detect {
namespace {

bool IsIdentStart(char c) { return IsAsciiAlpha(c) || c == '_'; }
bool IsIdentChar(char c) { return IsAsciiAlnum(c) || c == '_'; }

// `$(NAME)` at position i (not preceded by another `$`, which would make it the `$$(X)` escape).
bool KubernetesRefAt(std::string_view v, std::size_t i) {
  if (i + 3 >= v.size() || v[i] != '$' || v[i + 1] != '(') return false;
  if (i > 0 && v[i - 1] == '$') return false;
  std::size_t j = i + 2;
  if (!IsIdentStart(v[j])) return false;
  while (j < v.size() && IsIdentChar(v[j])) ++j;
  return j < v.size() && v[j] == ')';
}

// A `%NAME%` or `@NAME@` whole-value template.
bool IsDelimitedName(std::string_view v, char delim) {
  if (v.size() < 3 || v.front() != delim || v.back() != delim) return false;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (!IsIdentChar(v[i]) && v[i] != '.' && v[i] != '-') return false;
  }
  return true;
}

bool AllOf(std::string_view v, bool (*pred)(char)) {
  for (char c : v) {
    if (!pred(c)) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 14> kWholePlaceholders = {
    "changeme", "changeit", "password", "passwd", "secret", "token", "example",
    "sample",   "dummy",    "fake",     "test",   "none",   "null",  "redacted"};

// `(my|your)[-_]?(password|passwd|secret|token|key|api[-_]?key)([-_]?here)?`
bool IsPossessivePlaceholder(std::string_view lower) {
  std::string_view rest;
  if (lower.substr(0, 2) == "my") {
    rest = lower.substr(2);
  } else if (lower.substr(0, 4) == "your") {
    rest = lower.substr(4);
  } else {
    return false;
  }
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '_')) rest.remove_prefix(1);
  for (std::string_view word : {"password", "passwd", "secret", "token", "api-key", "api_key", "apikey", "key"}) {
    if (rest.substr(0, word.size()) == word) {
      std::string_view tail = rest.substr(word.size());
      if (tail.empty()) return true;
      if (tail[0] == '-' || tail[0] == '_') tail.remove_prefix(1);
      return tail == "here";
    }
  }
  return false;
}

}  // namespace

bool IsReference(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.empty()) return false;
  if (v[0] == '`') return true;
  if (v.size() >= 2) {
    const char a = v[0];
    const char b = v[1];
    if (a == '$' && (b == '(' || b == '{' || IsIdentStart(b) || IsAsciiDigit(b))) return true;
    if ((a == '{' && b == '{') || (a == '#' && b == '{') || (a == '<' && b == '%')) return true;
  }
  if (IsDelimitedName(v, '%') || IsDelimitedName(v, '@')) return true;
  // Composed values: a reference anywhere.
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] == '$') {
      if (KubernetesRefAt(v, i)) return true;
      if (v[i + 1] == '{' && (i == 0 || v[i - 1] != '$') && v.find('}', i + 2) != std::string_view::npos) return true;
    } else if (v[i] == '{' && v[i + 1] == '{' && v.find("}}", i + 2) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

bool IsPlaceholder(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.empty()) return true;
  if (AllOf(v, [](char c) { return c == 'x' || c == 'X'; })) return true;
  if (AllOf(v, [](char c) { return c == '*'; })) return true;
  if ((v.front() == '<' && v.back() == '>') || (v.front() == '[' && v.back() == ']')) return true;
  if (v == "AKIAIOSFODNN7EXAMPLE" || v == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") return true;
  if (v.size() <= 24) {
    const LowerCopy lower(v);
    for (std::string_view p : kWholePlaceholders) {
      if (lower.view() == p) return true;
    }
    if (IsPossessivePlaceholder(lower.view())) return true;
  }
  // The substring list (example, xxxx, ***, changeme, redacted, dummy, placeholder, fake) in one pass, plus
  // `<...>` anywhere, e.g. `postgres://<u>:<p>@host`.
  std::size_t first_lt = std::string_view::npos;
  for (std::size_t i = 0; i < v.size(); ++i) {
    switch (ToLowerAscii(v[i])) {
      case 'e':
        if (HasAtIgnoreCase(v, i, "example")) return true;
        break;
      case 'x':
        if (HasAtIgnoreCase(v, i, "xxxx")) return true;
        break;
      case '*':
        if (HasAt(v, i, "***")) return true;
        break;
      case 'c':
        if (HasAtIgnoreCase(v, i, "changeme")) return true;
        break;
      case 'r':
        if (HasAtIgnoreCase(v, i, "redacted")) return true;
        break;
      case 'd':
        if (HasAtIgnoreCase(v, i, "dummy")) return true;
        break;
      case 'p':
        if (HasAtIgnoreCase(v, i, "placeholder")) return true;
        break;
      case 'f':
        if (HasAtIgnoreCase(v, i, "fake")) return true;
        break;
      case '<':
        if (first_lt == std::string_view::npos) first_lt = i;
        break;
      case '>':
        if (first_lt != std::string_view::npos && i >= first_lt + 2) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

bool IsPathLike(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  const bool prefixed = (!v.empty() && v[0] == '/') || v.substr(0, 2) == "./" || v.substr(0, 3) == "../" ||
                        v.substr(0, 2) == "~/" || StartsWithIgnoreCase(v, "file:") || StartsWithIgnoreCase(v, "local:");
  if (!prefixed) return false;
  for (char c : v) {
    if (IsAsciiSpace(c) || c == '+' || c == '=') return false;
  }
  return true;
}

bool IsTruthy(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  return EqualsIgnoreCase(v, "true") || EqualsIgnoreCase(v, "yes") || EqualsIgnoreCase(v, "on") || v == "1";
}

bool IsFalsy(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  return EqualsIgnoreCase(v, "false") || EqualsIgnoreCase(v, "no") || EqualsIgnoreCase(v, "off") || v == "0";
}

bool IsBoolOrShortNumber(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (IsTruthy(v) || IsFalsy(v)) return true;
  return !v.empty() && v.size() < 8 && AllOf(v, IsAsciiDigit);
}

bool IsNonSecretLiteral(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  return v.empty() || IsReference(v) || IsPlaceholder(v) || IsPathLike(v) || IsIdentifierOrPublicValue(v);
}

namespace {

bool IsLowerAlnumDash(char c) { return IsAsciiLower(c) || IsAsciiDigit(c) || c == '-'; }

// `arn:partition:service:region:account:resource` with an AWS partition, a 12-digit (or empty, or `aws`) account
// and a resource without blanks.
bool IsAwsArn(std::string_view v) {
  if (v.substr(0, 7) != "arn:aws" || v.size() > 2048) return false;
  std::string_view fields[5];
  std::size_t pos = 4;
  for (int i = 0; i < 4; ++i) {
    const std::size_t colon = v.find(':', pos);
    if (colon == std::string_view::npos) return false;
    fields[i] = v.substr(pos, colon - pos);
    pos = colon + 1;
  }
  fields[4] = v.substr(pos);
  const std::string_view partition = fields[0], service = fields[1], region = fields[2], account = fields[3];
  if (!AllOf(partition, IsLowerAlnumDash) || service.empty() || !AllOf(service, IsLowerAlnumDash) ||
      !AllOf(region, IsLowerAlnumDash)) {
    return false;
  }
  if (!(account.empty() || account == "aws" || (account.size() == 12 && AllOf(account, IsAsciiDigit)))) return false;
  if (fields[4].empty()) return false;
  for (char c : fields[4]) {
    if (IsAsciiSpace(c) || static_cast<unsigned char>(c) < 0x21) return false;
  }
  return true;
}

bool IsGcpResourceName(std::string_view v) {
  if (v.substr(0, 9) != "projects/" || v.size() > 1024) return false;
  for (char c : v) {
    if (!(IsAsciiAlnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '@')) return false;
  }
  for (std::string_view collection : {"/secrets/", "/locations/", "/keyRings/", "/serviceAccounts/"}) {
    if (v.find(collection) != std::string_view::npos) return true;
  }
  return false;
}

bool IsOciOcid(std::string_view v) {
  if (v.substr(0, 6) != "ocid1." || v.size() > 256) return false;
  std::size_t dots = 0;
  for (char c : v) {
    if (c == '.') {
      ++dots;
    } else if (!(IsAsciiLower(c) || IsAsciiDigit(c) || c == '-' || c == '_')) {
      return false;
    }
  }
  return dots >= 4;
}

bool IsOpenSshPublicKey(std::string_view v) {
  const std::size_t space = v.find(' ');
  if (space == std::string_view::npos || v.substr(space + 1, 4) != "AAAA") return false;
  const std::string_view type = v.substr(0, space);
  return type == "ssh-rsa" || type == "ssh-ed25519" || type == "ssh-dss" || type == "ecdsa-sha2-nistp256" ||
         type == "ecdsa-sha2-nistp384" || type == "ecdsa-sha2-nistp521" || type == "sk-ssh-ed25519@openssh.com" ||
         type == "sk-ecdsa-sha2-nistp256@openssh.com";
}

bool IsHexRun(std::string_view v) { return !v.empty() && AllOf(v, IsHexDigit); }

}  // namespace

bool IsCloudResourceName(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  return IsAwsArn(v) || IsGcpResourceName(v) || IsOciOcid(v);
}

bool IsPublicKeyMaterial(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (IsOpenSshPublicKey(v)) return true;
  if (v.substr(0, 11) != "-----BEGIN ") return false;
  const std::string_view label =
      v.substr(11, v.find("-----", 11) == std::string_view::npos ? 0 : v.find("-----", 11) - 11);
  const bool public_label = label == "CERTIFICATE" || label == "PUBLIC KEY" || label == "RSA PUBLIC KEY" ||
                            label == "PGP PUBLIC KEY BLOCK" || label == "X509 CRL" || label == "TRUSTED CERTIFICATE" ||
                            label == "CERTIFICATE REQUEST";
  // A bundle that also carries a private key (or anything labelled PRIVATE) is not public.
  return public_label && !ContainsIgnoreCase(v, "private");
}

bool IsPasswordHash(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.size() < 20 || v.size() > 1024) return false;
  for (char c : v) {
    if (IsAsciiSpace(c)) return false;
  }
  // LDAP `{SCHEME}base64`.
  if (v[0] == '{') {
    const std::size_t close = v.find('}');
    if (close == std::string_view::npos || close < 3 || close > 20 || close + 1 >= v.size()) return false;
    return AllOf(v.substr(1, close - 1), [](char c) { return IsAsciiUpper(c) || IsAsciiDigit(c) || c == '-'; });
  }
  auto dollars = [&] {
    std::size_t n = 0;
    for (char c : v) n += c == '$';
    return n;
  };
  // werkzeug `pbkdf2:sha256:N$salt$hash` / `scrypt:N:r:p$salt$hash`; Django `pbkdf2_sha256$N$salt$hash`,
  // `argon2$argon2id$...`, `bcrypt_sha256$$2b$...`, `scrypt$...`; Jupyter `argon2:$argon2id$...`;
  // PostgreSQL `SCRAM-SHA-256$iterations:salt$stored:server`.
  for (std::string_view prefix : {"pbkdf2:sha", "scrypt:", "pbkdf2_sha", "argon2$", "argon2:$", "bcrypt$",
                                  "bcrypt_sha256$", "scrypt$", "SCRAM-SHA-256$"}) {
    if (v.substr(0, prefix.size()) == prefix) return dollars() >= 2;
  }
  // PostgreSQL md5 verifier and Jupyter's legacy `sha1:salt:hex`.
  if (v.size() == 35 && v.substr(0, 3) == "md5" && IsHexRun(v.substr(3))) return true;
  if (v.substr(0, 5) == "sha1:") {
    const std::size_t colon = v.find(':', 5);
    return colon != std::string_view::npos && IsHexRun(v.substr(5, colon - 5)) && v.size() - colon - 1 == 40 &&
           IsHexRun(v.substr(colon + 1));
  }
  return false;
}

bool IsIdentifierOrPublicValue(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (v.size() < 8) return false;
  switch (v[0]) {
    case 'a':
      return IsAwsArn(v) || IsPasswordHash(v);
    case 'p':
      return IsGcpResourceName(v) || IsPasswordHash(v);
    case 'o':
      return IsOciOcid(v);
    case '-':
    case 's':
    case 'e':
      return IsPublicKeyMaterial(v) || IsPasswordHash(v);
    case '{':
    case 'b':
    case 'm':
    case 'S':
      return IsPasswordHash(v);
    default:
      return false;
  }
}

bool IsKmsKeyIdentifier(std::string_view value) {
  const std::string_view v = TrimAscii(value);
  if (IsAwsArn(v)) return v.find(":kms:") != std::string_view::npos;
  if (IsUuid(v)) return true;
  if (v.size() == 36 && v.substr(0, 4) == "mrk-" && IsHexRun(v.substr(4))) return true;
  if (v.substr(0, 6) == "alias/" && v.size() > 6) {
    return AllOf(v.substr(6), [](char c) { return IsAsciiAlnum(c) || c == '/' || c == '_' || c == '-'; });
  }
  return false;
}

bool IsUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !IsHexDigit(v[i])) return false;
  }
  return true;
}

bool IsSequential(std::string_view v) {
  if (v.size() < 8) return false;
  // Successor within digits, lower-case or upper-case letters, or the base64 alphabet (Z->a, z->0, 9->+).
  auto successor = [](char c, char next) {
    if ((IsAsciiDigit(c) && c != '9') || (IsAsciiLower(c) && c != 'z') || (IsAsciiUpper(c) && c != 'Z')) {
      return next == c + 1;
    }
    return (c == 'Z' && next == 'a') || (c == 'z' && next == '0') || (c == '9' && (next == '+' || next == 'a')) ||
           (c == '+' && next == '/');
  };
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    if (!successor(v[i], v[i + 1])) return false;
  }
  return true;
}

bool IsDigestLike(std::string_view v) {
  for (std::string_view prefix : {"sha256:", "sha512:", "sha1:", "md5:", "sha384:"}) {
    if (StartsWithIgnoreCase(v, prefix)) return true;
  }
  return false;
}

}  // namespace pipeguard::policy::detect
