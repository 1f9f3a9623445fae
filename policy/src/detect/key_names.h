// Name tokenisation and the generic sensitive-name heuristic (spec "name-strong" / "name-weak").
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace pipeguard::policy::detect {

// The lower-cased word tokens of a key: split on `_ . - / :` and spaces and at camelCase boundaries
// (`keyStorePassword` -> key, store, password; `APIKey` -> api, key). Plural `s` is dropped from tokens longer
// than four letters (`secrets` -> secret, `backends` -> backend) but not from `...ss` (`pass`). At most
// kMaxTokens tokens of kMaxTokenChars each are kept; longer keys are truncated, longer words cut. No allocation.
class KeyTokens {
 public:
  static constexpr std::size_t kMaxTokens = 24;
  static constexpr std::size_t kMaxTokenChars = 32;

  explicit KeyTokens(std::string_view key);

  std::size_t size() const { return count_; }
  std::string_view operator[](std::size_t i) const { return {chars_[i].data(), lengths_[i]}; }
  bool Contains(std::string_view token) const;

 private:
  void Push(std::string_view raw);

  std::array<std::array<char, kMaxTokenChars>, kMaxTokens> chars_;
  std::array<std::size_t, kMaxTokens> lengths_{};
  std::size_t count_ = 0;
};

enum class NameStrength : unsigned char { kNone, kWeak, kStrong };

// Spec §3 "name-strong": a token among password, passwd, pwd, pass, passphrase, secret, token, apikey, jaas,
// fernet (or a compound ending in password/passwd/secret/token, e.g. `sfpassword`), or a pair such as
// `private key`, `api key`, `access key`, `secret key`, `client secret`, `account key`, `auth token`,
// `session token`. "name-weak": key, auth, credential, cred, private, signature.
//
// Exclusions: descriptive tokens (length, size, type, version, enabled, expiry, ttl, timeout, algorithm, count,
// policy, public, publishable, csrf, hash, regex, pattern, format, mode, max, min, limit) exclude the name wherever
// they appear; location/identity tokens (id, name, file, path, dir, location, url, uri, endpoint, host, port, user,
// username, login, provider, class, ref, arn, region, prefix, suffix, backend, header, store, keytab, keystore,
// truststore, stdin, prompt, cmd, command) exclude it only when they come AFTER the last sensitive token. This
// deviates from the spec's "no token from the set is present" on purpose: `KEYSTORE_PASSWORD` and
// `spark.ssl.keyStorePassword` are passwords, while `PASSWORD_FILE` and `SECRET_NAME` are not.
NameStrength ClassifyName(const KeyTokens& tokens);

// Cheap pre-check on a lower-cased key: false when the key cannot be sensitive under ClassifyName (contains none
// of pass, pwd, secret, token, key, auth, cred, jaas, fernet, private, signature). Lets the hot path skip
// tokenisation for most keys.
bool MayBeSensitiveName(std::string_view lower_key);

// Both pre-checks of a lower-cased key in one pass: MayBeSensitiveName and "names TLS verification" (contains
// verif, valid or insecure; see CheckVerificationName).
struct KeyWordHints {
  bool sensitive = false;
  bool verification = false;
};
KeyWordHints ScanKeyWords(std::string_view lower_key);

// F-04 and entropy exclusions: true when the tokens name an identifier, location or digest (`*_ID`, `*_NAME`,
// `*_URL`, `*_SHA`, `*_DIGEST`, `*_VERSION`, ...), so unkeyed entropy must not fire on the value.
bool NamesIdentifierOrDigest(const KeyTokens& tokens);

}  // namespace pipeguard::policy::detect
