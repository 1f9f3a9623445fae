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
  return v.empty() || IsReference(v) || IsPlaceholder(v) || IsPathLike(v);
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
