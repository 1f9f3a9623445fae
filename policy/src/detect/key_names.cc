#include "detect/key_names.h"

#include <algorithm>

#include "detect/text.h"

namespace pipeguard::policy::detect {
namespace {

bool IsSeparator(char c) { return c == '_' || c == '.' || c == '-' || c == '/' || c == ':' || c == ' ' || c == '\t'; }

bool OneOf(std::string_view t, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), t) != words.end();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsStrongToken(std::string_view t) {
  if (OneOf(t, {"password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "apikey", "jaas", "fernet",
                "secretkey", "privatekey", "accesstoken", "authtoken", "clientsecret"})) {
    return true;
  }
  // Compounds such as `sfpassword`, `dbpasswd`, `apitoken`, `refreshtoken`, `appsecret`.
  return EndsWith(t, "password") || EndsWith(t, "passwd") || EndsWith(t, "secret") || EndsWith(t, "token");
}

bool IsStrongPair(std::string_view a, std::string_view b) {
  if (b == "key") {
    return OneOf(a, {"private", "api", "access", "secret", "account", "signing", "encryption", "master"});
  }
  if (b == "secret") return a == "client";
  if (b == "token") return a == "auth" || a == "session";
  return false;
}

bool IsWeakToken(std::string_view t) {
  return OneOf(t, {"key", "auth", "credential", "cred", "creds", "private", "signature"});
}

bool ExcludesAnywhere(std::string_view t) {
  return OneOf(t,
               {"length",  "size",      "type",  "version", "enabled", "enable",   "expiry",   "expiration", "ttl",
                "timeout", "algorithm", "count", "policy",  "public",  "csrf",     "hash",     "regex",      "pattern",
                "format",  "mode",      "max",   "min",     "limit",   "rotation", "required", "publishable"});
}

bool ExcludesAfter(std::string_view t) {
  return OneOf(t, {"id",         "ids",    "name",   "file",    "path",     "dir",    "location", "url",    "uri",
                   "endpoint",   "host",   "port",   "user",    "username", "login",  "provider", "class",  "ref",
                   "arn",        "region", "prefix", "suffix",  "backend",  "header", "store",    "keytab", "keystore",
                   "truststore", "stdin",  "prompt", "cmd",     "command",  "env",    "field",    "param",  "var",
                   "mount",      "volume", "server", "servers", "bootstrap"});
}

}  // namespace

KeyTokens::KeyTokens(std::string_view key) {
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    if (end > start) Push(key.substr(start, end - start));
  };
  for (std::size_t i = 0; i < key.size() && count_ < kMaxTokens; ++i) {
    const char c = key[i];
    if (IsSeparator(c)) {
      flush(i);
      start = i + 1;
      continue;
    }
    if (i > start && IsAsciiUpper(c)) {
      const char prev = key[i - 1];
      const bool lower_to_upper = IsAsciiLower(prev) || IsAsciiDigit(prev);
      // End of an acronym: `APIKey` splits before `K` because `e` follows.
      const bool acronym_end = IsAsciiUpper(prev) && i + 1 < key.size() && IsAsciiLower(key[i + 1]);
      if (lower_to_upper || acronym_end) {
        flush(i);
        start = i;
      }
    }
  }
  if (count_ < kMaxTokens) flush(key.size());
}

void KeyTokens::Push(std::string_view raw) {
  std::size_t n = std::min(raw.size(), kMaxTokenChars);
  auto& dst = chars_[count_];
  for (std::size_t i = 0; i < n; ++i) dst[i] = ToLowerAscii(raw[i]);
  // Singularise: `secrets` -> `secret`, but keep `pass`, `creds`, `keys` handled below.
  if (n > 4 && dst[n - 1] == 's' && dst[n - 2] != 's') --n;
  if (n == 4 && std::string_view(dst.data(), 4) == "keys") n = 3;
  lengths_[count_] = n;
  ++count_;
}

bool KeyTokens::Contains(std::string_view token) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if ((*this)[i] == token) return true;
  }
  return false;
}

NameStrength ClassifyName(const KeyTokens& tokens) {
  // Position just after the last strong and last weak indicator.
  std::size_t strong_end = 0;
  std::size_t weak_end = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (ExcludesAnywhere(t)) return NameStrength::kNone;
    if (IsStrongToken(t)) strong_end = i + 1;
    if (i + 1 < tokens.size() && IsStrongPair(t, tokens[i + 1])) strong_end = std::max(strong_end, i + 2);
    if (IsWeakToken(t)) weak_end = i + 1;
  }
  auto excluded_after = [&](std::size_t from) {
    for (std::size_t i = from; i < tokens.size(); ++i) {
      if (ExcludesAfter(tokens[i])) return true;
    }
    return false;
  };
  if (strong_end > 0) return excluded_after(strong_end) ? NameStrength::kNone : NameStrength::kStrong;
  if (weak_end > 0) return excluded_after(weak_end) ? NameStrength::kNone : NameStrength::kWeak;
  return NameStrength::kNone;
}

namespace {

// The first two bytes of the words ScanKeyWords looks for.
constexpr BigramSet kKeyWordStarts({"pa", "pw", "pr", "se", "si", "to", "ke", "au", "cr", "ja", "fe", "ve", "va",
                                    "in"});

// Every word is at least three bytes long, so an occurrence at an even index starts with a pair of kKeyWordStarts
// there, and one at an odd index has its second and third bytes at the next (even) index. ScanKeyWords probes the
// pairs at even indexes against both.
constexpr BigramSet kKeyWordProbe = [] {
  BigramSet probe = kKeyWordStarts;
  probe.AddAll(BigramSet({"as", "wd", "ri", "ec", "ig", "ok", "ey", "ut", "re", "aa", "er", "al", "ns"}));
  return probe;
}();

static_assert([] {
  for (std::string_view w : {"pass", "pwd", "private", "secret", "signature", "token", "key", "auth", "cred", "jaas",
                             "fernet", "verif", "valid", "insecure"}) {
    if (w.size() < 3 || !kKeyWordStarts.Contains(w[0], w[1]) || !kKeyWordProbe.Contains(w[1], w[2])) return false;
  }
  return true;
}());

// The words of ScanKeyWords that start at k[i].
void KeyWordsAt(std::string_view k, std::size_t i, KeyWordHints& hints) {
  if (i + 1 >= k.size() || !kKeyWordStarts.Contains(k[i], k[i + 1])) return;
  switch (k[i]) {
    case 'p':
      hints.sensitive |= HasAt(k, i, "pass") || HasAt(k, i, "pwd") || HasAt(k, i, "private");
      break;
    case 's':
      hints.sensitive |= HasAt(k, i, "secret") || HasAt(k, i, "signature");
      break;
    case 't':
      hints.sensitive |= HasAt(k, i, "token");
      break;
    case 'k':
      hints.sensitive |= HasAt(k, i, "key");
      break;
    case 'a':
      hints.sensitive |= HasAt(k, i, "auth");
      break;
    case 'c':
      hints.sensitive |= HasAt(k, i, "cred");
      break;
    case 'j':
      hints.sensitive |= HasAt(k, i, "jaas");
      break;
    case 'f':
      hints.sensitive |= HasAt(k, i, "fernet");
      break;
    case 'v':
      hints.verification |= HasAt(k, i, "verif") || HasAt(k, i, "valid");
      break;
    case 'i':
      hints.verification |= HasAt(k, i, "insecure");
      break;
    default:
      break;
  }
}

}  // namespace

bool MayBeSensitiveName(std::string_view k) { return ScanKeyWords(k).sensitive; }

KeyWordHints ScanKeyWords(std::string_view k) {
  KeyWordHints hints;
  for (std::size_t j = 0; j + 1 < k.size(); j += 2) {
    if (!kKeyWordProbe.Contains(k[j], k[j + 1])) continue;  // no word starts at j - 1 or j
    if (j > 0) KeyWordsAt(k, j - 1, hints);
    KeyWordsAt(k, j, hints);
  }
  return hints;
}

bool NamesIdentifierOrDigest(const KeyTokens& tokens) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (OneOf(t, {"id",          "ids",      "name",     "uuid",   "guid",     "sha",         "sha1",    "sha256",
                  "digest",      "hash",     "checksum", "commit", "revision", "rev",         "version", "url",
                  "uri",         "endpoint", "host",     "path",   "file",     "dir",         "image",   "tag",
                  "fingerprint", "etag",     "trace",    "span",   "request",  "correlation", "run",     "build"})) {
      return true;
    }
  }
  return false;
}

}  // namespace pipeguard::policy::detect
