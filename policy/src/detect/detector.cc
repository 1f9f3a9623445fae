// Detector: orchestrates the detectors over a ScanInput (spec D3):
//   (a) value-shape detectors on every literal value and every raw argv element,
//   (b) exact key tables on every key/value pair (env entries, conf entries, `--conf k=v`, `-Dk=v`, shell
//       assignments, `--flag value`, here-doc `key: value` lines),
//   (c) the generic name heuristic when (a) and (b) found nothing,
//   (d) audit-only entropy on env values when nothing else fired,
// then de-duplicates per (value, rule, key) in FindingSink. Cross-entry rule TLS-040 runs after the entries.
//
// Size policy: values and argv elements up to kMaxScanBytes (1 MiB) are scanned in full, in linear time.
// Anything larger is not scanned and yields SEC-099 at MEDIUM (fail-closed: it blocks in strict namespaces and
// warns elsewhere).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/filters.h"
#include "detect/findings.h"
#include "detect/key_names.h"
#include "detect/key_rules.h"
#include "detect/text.h"
#include "detect/tokenizer.h"
#include "detect/uri.h"
#include "detect/value_rules.h"
#include "pipeguard/policy/detect.h"

namespace pipeguard::policy {
namespace {

using detect::DetectorId;
using detect::FindingSink;
using detect::Location;

constexpr std::size_t kMaxScanBytes = std::size_t{1} << 20;
constexpr int kMaxScriptNesting = 3;

std::string_view SurfaceWord(Surface s) {
  switch (s) {
    case Surface::kEnv:
      return "env";
    case Surface::kSparkConf:
      return "Spark conf";
    case Surface::kHadoopConf:
      return "Hadoop conf";
    case Surface::kProperties:
      return "property";
    case Surface::kArgument:
      return "argument";
  }
  return "value";
}

// Env vars whose value is a JVM / spark-submit option string (`-Dk=v`, `--conf k=v`).
bool CarriesJvmOptions(std::string_view key) {
  if (key.empty() || (detect::ToLowerAscii(key.back()) != 's' && detect::ToLowerAscii(key[0]) != 's' &&
                      detect::ToLowerAscii(key[0]) != 'p')) {
    return false;
  }
  return detect::EndsWithIgnoreCase(key, "_opts") || detect::EndsWithIgnoreCase(key, "_options") ||
         detect::StartsWithIgnoreCase(key, "spark_java_opt_") || detect::EqualsIgnoreCase(key, "pyspark_submit_args");
}

// `NAME=value` with a shell identifier as NAME.
bool SplitAssignment(std::string_view word, std::string_view& name, std::string_view& value) {
  const std::size_t eq = word.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  if (!(detect::IsAsciiAlpha(word[0]) || word[0] == '_')) return false;
  for (std::size_t i = 1; i < eq; ++i) {
    if (!(detect::IsAsciiAlnum(word[i]) || word[i] == '_')) return false;
  }
  name = word.substr(0, eq);
  value = word.substr(eq + 1);
  return true;
}

// `key=value` with a conf-style key (letters, digits, `. _ -`).
bool SplitConf(std::string_view word, std::string_view& key, std::string_view& value) {
  const std::size_t eq = word.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (std::size_t i = 0; i < eq; ++i) {
    const char c = word[i];
    if (!(detect::IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  key = word.substr(0, eq);
  value = word.substr(eq + 1);
  return true;
}

// A conf-style key without a value (`-Dname`): letters, digits, `. _ -`, at least one `.` so that a JVM flag such as
// `-Dfoo` written by mistake for something else does not become a key.
bool IsConfKey(std::string_view word) {
  if (word.empty() || word.size() > 128 || word.find('.') == std::string_view::npos) return false;
  for (char c : word) {
    if (!(detect::IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return detect::IsAsciiAlpha(word[0]);
}

// The key shown for a finding on a raw argv element: the option it belongs to, never its value.
std::string ElementKey(const std::vector<std::string_view>& argv, std::size_t i, bool script) {
  const std::string_view e = argv[i];
  if (script) return "shell script";
  if (e.substr(0, 2) == "--" || e.substr(0, 2) == "-D") return std::string(e.substr(0, e.find('=')));
  if (!e.empty() && e[0] == '-') return std::string(e.substr(0, 2));
  // The previous element names this one only when it is a bare option (`--conn-uri`, `-H`); `-pSECRET` or
  // `--password=x` carry a value and must never become a key.
  if (i > 0) {
    const std::string_view prev = argv[i - 1];
    const bool long_option =
        prev.size() > 2 && prev.size() <= 64 && prev.substr(0, 2) == "--" && prev.find('=') == std::string_view::npos;
    const bool short_option = prev.size() == 2 && prev[0] == '-' && prev[1] != '-';
    if (long_option || short_option) return std::string(prev);
  }
  return "argv[" + std::to_string(i) + "]";
}

bool IsCurlLike(std::string_view cmd) { return cmd == "curl" || cmd == "wget" || cmd == "http" || cmd == "https"; }
bool IsMysqlLike(std::string_view cmd) {
  return cmd == "mysql" || cmd == "mysqldump" || cmd == "mysqladmin" || cmd == "mariadb" || cmd == "mysqlimport";
}

// curl `-u user:password`: a literal password (or an API key as the user with an empty password), not one of
// gitleaks' curl placeholders (`pass`, `pwd`, `test`, `token`, `x+`, `*+`, `<...>`, `[...]`, `$VAR`, `$(...)`,
// `{{...}}`).
bool IsLiteralUserPassword(std::string_view userpass) {
  const std::string_view up = detect::TrimAscii(userpass);
  const std::size_t colon = up.find(':');
  if (colon == std::string_view::npos || detect::IsReference(up) || detect::IsPlaceholder(up)) return false;
  const std::string_view user = up.substr(0, colon);
  const std::string_view pass = up.substr(colon + 1);
  auto placeholder = [](std::string_view s) {
    return detect::IsReference(s) || detect::IsPlaceholder(s) || detect::EqualsIgnoreCase(s, "pass") ||
           detect::EqualsIgnoreCase(s, "pwd");
  };
  if (detect::ShannonEntropy(up) < 2.0) return false;
  if (pass.empty()) {
    // `-u sk_live_xxx:` passes an API key as the user name.
    return user.size() >= 8 && !placeholder(user);
  }
  return pass.size() >= 3 && !placeholder(pass);
}

// How a client takes a password on its command line (the option word, then the next word).
enum class PasswordForm : std::uint8_t {
  kNone,
  kPlain,        // the next word is the password (sshpass -p, redis-cli -a, ldapsearch -w, mongosh -p)
  kOpensslPass,  // openssl -passin pass:SECRET (env:, file:, fd:, stdin are references)
  kUserPercent,  // smbclient -U user%password
  kUserComma,    // lftp -u user,password
};

bool IsLdapClient(std::string_view cmd) {
  return cmd.size() > 4 && cmd.substr(0, 4) == "ldap" &&
         (cmd == "ldapsearch" || cmd == "ldapmodify" || cmd == "ldapadd" || cmd == "ldapdelete" ||
          cmd == "ldapwhoami" || cmd == "ldappasswd" || cmd == "ldapcompare" || cmd == "ldapmodrdn" ||
          cmd == "ldapexop");
}
bool IsMongoClient(std::string_view cmd) {
  return cmd.substr(0, 5) == "mongo" &&
         (cmd == "mongo" || cmd == "mongosh" || cmd == "mongodump" || cmd == "mongorestore" || cmd == "mongoexport" ||
          cmd == "mongoimport" || cmd == "mongostat" || cmd == "mongotop" || cmd == "mongofiles");
}
bool IsOracleClient(std::string_view cmd) {
  return cmd == "sqlplus" || cmd == "sqlldr" || cmd == "expdp" || cmd == "impdp" || cmd == "rman" || cmd == "sql";
}

PasswordForm ClientPasswordOption(std::string_view cmd, std::string_view option) {
  if (option.size() < 2 || option[0] != '-') return PasswordForm::kNone;
  if (cmd == "sshpass") return option == "-p" ? PasswordForm::kPlain : PasswordForm::kNone;
  if (cmd == "redis-cli") return option == "-a" ? PasswordForm::kPlain : PasswordForm::kNone;
  if (IsLdapClient(cmd)) return option == "-w" ? PasswordForm::kPlain : PasswordForm::kNone;
  if (IsMongoClient(cmd)) return option == "-p" ? PasswordForm::kPlain : PasswordForm::kNone;
  if (cmd == "keytool") {
    const bool pass = option == "-storepass" || option == "-keypass" || option == "-srcstorepass" ||
                      option == "-deststorepass" || option == "-srckeypass" || option == "-destkeypass" ||
                      option == "-new";
    return pass ? PasswordForm::kPlain : PasswordForm::kNone;
  }
  if (cmd == "openssl") {
    const bool pass = option == "-passin" || option == "-passout" || option == "-pass" || option == "-password";
    return pass ? PasswordForm::kOpensslPass : PasswordForm::kNone;
  }
  if (cmd == "smbclient" || cmd == "smbget" || cmd == "rpcclient" || cmd == "smbcacls") {
    return option == "-U" || option == "--user" ? PasswordForm::kUserPercent : PasswordForm::kNone;
  }
  if (cmd == "lftp") return option == "-u" ? PasswordForm::kUserComma : PasswordForm::kNone;
  return PasswordForm::kNone;
}

// The password part of a client option's value; empty when the form carries none.
std::string_view PasswordPart(PasswordForm form, std::string_view v) {
  switch (form) {
    case PasswordForm::kPlain:
      return v;
    case PasswordForm::kOpensslPass:
      return v.substr(0, 5) == "pass:" ? v.substr(5) : std::string_view();
    case PasswordForm::kUserPercent: {
      const std::size_t sep = v.find('%');
      return sep == std::string_view::npos ? std::string_view() : v.substr(sep + 1);
    }
    case PasswordForm::kUserComma: {
      const std::size_t sep = v.find(',');
      return sep == std::string_view::npos ? std::string_view() : v.substr(sep + 1);
    }
    case PasswordForm::kNone:
      break;
  }
  return {};
}

// A password given to a client: long enough, not a reference, placeholder, path or flag.
bool IsLiteralClientPassword(std::string_view pw) {
  const std::string_view p = detect::TrimAscii(pw);
  return p.size() >= 3 && p[0] != '-' && !detect::IsNonSecretLiteral(p);
}

// sqlplus-style `user/password[@connect]`: the password, or empty (`/nolog`, `/ as sysdba`, `user@db`).
std::string_view OracleLogonPassword(std::string_view word) {
  const std::size_t slash = word.find('/');
  if (slash == 0 || slash == std::string_view::npos || word.substr(0, slash).find(':') != std::string_view::npos) {
    return {};
  }
  const std::size_t at = word.rfind('@');
  const std::size_t end = at != std::string_view::npos && at > slash ? at : word.size();
  return word.substr(slash + 1, end - slash - 1);
}

bool IsCurlDataOption(std::string_view t) {
  return t == "-d" || t == "--data" || t == "--data-raw" || t == "--data-binary" || t == "--data-ascii" ||
         t == "--data-urlencode" || t == "--json";
}

// The password part of `user:password` (or a client option's password) names a credential that will be sent:
// a literal that is not one of the documented placeholders, or a reference the kubelet or shell fills in.
bool IsCredentialPart(std::string_view pw) {
  const std::string_view p = detect::TrimAscii(pw);
  if (p.empty()) return false;
  if (detect::IsReference(p)) return true;
  return !(detect::IsPlaceholder(p) || detect::EqualsIgnoreCase(p, "pass") || detect::EqualsIgnoreCase(p, "pwd"));
}

// The host of a URL word (between `://`, the last userinfo `@` and the next `/ ? #` or `:`).
bool UrlHostIsLoopback(std::string_view word) {
  bool loopback = false;
  detect::ForEachUri(word, [&](const detect::UriParts& uri) {
    loopback = detect::IsLoopbackHost(uri.host);
    return false;
  });
  return loopback;
}

// The scheme of a URL word, lower-cased, or empty.
std::string UrlScheme(std::string_view word) {
  const std::size_t sep = word.find("://");
  if (sep == 0 || sep == std::string_view::npos || sep > 16) return {};
  for (std::size_t i = 0; i < sep; ++i) {
    if (!(detect::IsAsciiAlnum(word[i]) || word[i] == '+' || word[i] == '-' || word[i] == '.')) return {};
  }
  return std::string(detect::TransportScheme(word.substr(0, sep)).view());
}

// Credentials handed to a transfer or directory client outside the URL, and where the client connects: TLS-020
// when they go over a plaintext protocol. One per simple command.
struct ClientTransport {
  std::size_t credential_arg = kNoArg;  // argv index of the credential (literal or reference)
  std::size_t url_arg = kNoArg;         // argv index of the first URL
  std::string scheme;                   // its scheme
  bool tls_required = false;            // curl --ssl-reqd, ldap* -ZZ, redis-cli --tls

  static constexpr std::size_t kNoArg = static_cast<std::size_t>(-1);

  void NoteUrl(std::string_view word, std::size_t arg) {
    if (url_arg != kNoArg) return;
    std::string sc = UrlScheme(word);
    if (sc.empty() || UrlHostIsLoopback(word)) return;  // loopback traffic does not leave the pod
    scheme = std::move(sc);
    url_arg = arg;
  }
  // The argv index to report TLS-020 at, or kNoArg.
  std::size_t Cleartext(std::string_view cmd) const {
    if (credential_arg == kNoArg) return kNoArg;
    if (cmd == "redis-cli") {
      return tls_required || scheme == "rediss" ? kNoArg : credential_arg;
    }
    if (url_arg == kNoArg) return kNoArg;
    if (IsLdapClient(cmd)) return scheme == "ldap" && !tls_required ? url_arg : kNoArg;
    // curl --ssl-reqd upgrades ftp/smtp/pop3/imap/ldap to TLS; http and telnet have no upgrade.
    const bool upgradable =
        scheme == "ftp" || scheme == "smtp" || scheme == "pop3" || scheme == "imap" || scheme == "ldap";
    const bool never_tls = scheme == "http" || scheme == "telnet" || scheme == "ws";
    if (never_tls || (upgradable && !tls_required)) return url_arg;
    return kNoArg;
  }
};

// Airflow SMTP settings seen across env entries, for TLS-040.
struct SmtpState {
  const ConfigEntry* starttls_off = nullptr;
  std::size_t starttls_order = 0;
  bool ssl_on = false;
  bool credentials = false;

  void Observe(const ConfigEntry& e, std::size_t order) {
    const std::string_view k = e.key;
    if (k.size() < 23 || !detect::StartsWithIgnoreCase(k, "airflow")) return;
    const bool literal = e.source == ValueSource::kLiteral;
    if (detect::EqualsIgnoreCase(k, "airflow__smtp__smtp_starttls") && literal && detect::IsFalsy(e.value)) {
      starttls_off = &e;
      starttls_order = order;
    } else if (detect::EqualsIgnoreCase(k, "airflow__smtp__smtp_ssl") && literal && detect::IsTruthy(e.value)) {
      ssl_on = true;
    } else if (detect::StartsWithIgnoreCase(k, "airflow__smtp__smtp_password") ||
               detect::EqualsIgnoreCase(k, "airflow_conn_smtp_default")) {
      credentials = credentials || e.source != ValueSource::kLiteral || !detect::TrimAscii(e.value).empty();
    }
  }
};

}  // namespace

struct Detector::Impl {
  detect::ValueRules values;
  detect::KeyRules keys;

  // One key/value pair and how to judge it.
  struct Pair {
    std::string_view key;
    std::string_view value;
    bool env_style = false;  // env var or shell assignment
    bool from_flag = false;  // a command-line `--flag`: generic hits are SEC-081
    bool entropy = false;    // SEC-090 allowed (env entries)
    bool spark_executor = false;
    Location where;
  };

  void ScanPair(const Pair& p, FindingSink& sink) const;
  void ScanEntry(const ConfigEntry& e, std::size_t order, bool spark_executor, FindingSink& sink) const;
  void ScanCommandLine(const CommandLine& cl, std::size_t order_base, FindingSink& sink) const;
  // Judges the words of a command stream (and the pairs embedded in its here-docs and comments).
  void WalkWords(const detect::ShellWords& stream, const CommandLine& cl, std::size_t order_base, int depth,
                 FindingSink& sink) const;
  void ScanOptionString(std::string_view options, std::string_view container, const LazyPointer* path,
                        std::size_t order, FindingSink& sink) const;
};

void Detector::Impl::ScanPair(const Pair& p, FindingSink& sink) const {
  if (p.value.size() > kMaxScanBytes) {
    sink.Add(p.where, DetectorId::kValueTooLarge, Severity::kMedium);
    return;
  }
  const detect::NormalizedKey key(p.key, p.env_style);
  const detect::KeyOutcome keyed = keys.Scan(key, p.value, p.spark_executor, p.where, sink);
  if (keyed.stop) return;
  const std::string_view value = detect::TrimAscii(p.value);
  if (value.empty()) return;
  bool secret = keyed.secret;
  // Pairs inside a larger value (Location::part) run the value shapes again on their own value, so that the finding
  // names the pair's key; FindingSink drops the container's repeat of it.
  if (values.Scan(p.value, p.where, sink)) secret = true;
  if (secret || keyed.matched) return;

  // (c) generic name heuristic. For AIRFLOW__SECTION__KEY only the KEY part names the option.
  std::string_view name = key.original();
  std::string_view lower_name = key.lower();
  if (key.env_style() && lower_name.substr(0, 9) == "airflow__") {
    const std::size_t second = name.find("__", 9);
    if (second != std::string_view::npos) {
      name = name.substr(second + 2);
      lower_name = lower_name.substr(second + 2);
    }
  }
  // hints().sensitive is MayBeSensitiveName(key.lower()): the test is repeated only on a shortened name.
  if (key.hints().sensitive && (lower_name.size() == key.lower().size() || detect::MayBeSensitiveName(lower_name))) {
    const detect::KeyTokens tokens(name);
    const detect::NameStrength strength = detect::ClassifyName(tokens);
    const DetectorId generic = p.from_flag ? DetectorId::kCliSecretFlag : DetectorId::kGenericSensitiveName;
    if (strength == detect::NameStrength::kStrong) {
      if (value.size() >= 4 && !detect::IsNonSecretLiteral(value) && !detect::IsBoolOrShortNumber(value) &&
          value.find("://") == std::string_view::npos) {
        sink.Add(p.where, generic, Severity::kHigh, "sensitive name");
        return;
      }
    } else if (strength == detect::NameStrength::kWeak && !p.from_flag) {
      // D4 gate for weak names, plus mixed character classes so `user-profile-v2` style keys stay quiet.
      bool digit = false, upper = false, lower_case = false, blank = false;
      for (char c : value) {
        digit |= detect::IsAsciiDigit(c);
        upper |= detect::IsAsciiUpper(c);
        lower_case |= detect::IsAsciiLower(c);
        blank |= detect::IsAsciiSpace(c);
      }
      if (value.size() >= 12 && digit && !blank && (upper || value.size() >= 20) && (upper || lower_case) &&
          detect::ShannonEntropy(value) >= 3.0 && !detect::IsNonSecretLiteral(value) &&
          value.find("://") == std::string_view::npos) {
        sink.Add(p.where, DetectorId::kGenericSensitiveName, Severity::kMedium, "weak sensitive name");
        return;
      }
    }
  }

  // (d) audit-only entropy on env values whose name is not an identifier, digest or location.
  if (p.entropy && detect::IsHighEntropyToken(value) && !detect::NamesIdentifierOrDigest(detect::KeyTokens(name))) {
    sink.Add(p.where, DetectorId::kHighEntropyValue, Severity::kLow);
  }
}

void Detector::Impl::ScanEntry(const ConfigEntry& e, std::size_t order, bool spark_executor, FindingSink& sink) const {
  const bool env = e.surface == Surface::kEnv;
  Location where{&e.path, e.label.empty() ? e.key : e.label, SurfaceWord(e.surface), {}, order};
  switch (e.source) {
    case ValueSource::kSecretRef:  // the remediation itself; SEC-110 is deliberately not reported (D10)
    case ValueSource::kOtherRef:
      return;
    case ValueSource::kConfigMapRef: {
      if (!env) return;
      const detect::NormalizedKey key(e.key, true);
      if (key.pass_through() || !detect::MayBeSensitiveName(key.lower())) return;
      if (detect::ClassifyName(detect::KeyTokens(key.original())) == detect::NameStrength::kStrong) {
        sink.Add(where, DetectorId::kSensitiveNameFromConfigMap, Severity::kMedium);
      }
      return;
    }
    case ValueSource::kLiteral:
      break;
  }
  Pair p;
  p.key = e.key;
  p.value = e.value;
  p.env_style = env;
  p.entropy = env;
  p.spark_executor = spark_executor;
  if (e.surface == Surface::kArgument && !e.key.empty() && e.key[0] == '-') {
    p.from_flag = true;
    std::size_t dashes = 0;
    while (dashes < e.key.size() && e.key[dashes] == '-') ++dashes;
    p.key = e.key.substr(dashes);
  }
  p.where = where;
  ScanPair(p, sink);
  if (env && e.value.size() <= kMaxScanBytes && CarriesJvmOptions(e.key)) {
    ScanOptionString(e.value, where.key, &e.path, order, sink);
  }
}

void Detector::Impl::ScanOptionString(std::string_view options, std::string_view container, const LazyPointer* path,
                                      std::size_t order, FindingSink& sink) const {
  if (options.find('=') == std::string_view::npos && options.find("-D") == std::string_view::npos) return;
  // Judges one option word; `next` is the following word (for `--conf k=v`). Returns true when it used `next`.
  auto option = [&](std::string_view word, std::string_view next) {
    std::string_view kv = word;
    std::string_view surface = "option";
    bool used_next = false;
    if (kv.substr(0, 2) == "-D") {
      kv.remove_prefix(2);
    } else if (kv == "--conf") {
      kv = next;
      surface = "Spark conf";
      used_next = true;
    } else if (kv.substr(0, 7) == "--conf=") {
      kv.remove_prefix(7);
      surface = "Spark conf";
    } else {
      return false;
    }
    std::string_view k;
    std::string_view v;
    if (SplitConf(kv, k, v) || (surface == "option" && IsConfKey(kv) && (k = kv, true))) {
      Pair p;
      p.key = k;
      p.value = v;  // empty for a bare `-Dname`, which sets the property to ""
      p.where = Location{path, k, surface, container, order, /*part=*/true};
      ScanPair(p, sink);
    }
    return used_next;
  };
  static constexpr detect::ByteTable kQuoting =
      detect::ByteTableOf([](char c) { return c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`'; });
  if (detect::FindFirstIn(options, 0, kQuoting) == options.size()) {
    // Nothing to unquote: split on blanks without copying.
    auto next_word = [&](std::size_t& pos) {
      while (pos < options.size() && detect::IsAsciiSpace(options[pos])) ++pos;
      const std::size_t begin = pos;
      while (pos < options.size() && !detect::IsAsciiSpace(options[pos])) ++pos;
      return options.substr(begin, pos - begin);
    };
    std::size_t pos = 0;
    std::string_view word = next_word(pos);
    while (!word.empty()) {
      std::size_t after = pos;
      const std::string_view next = next_word(after);
      if (option(word, next)) {
        pos = after;
        word = next_word(pos);
      } else {
        word = next;
        pos = after;
      }
    }
    return;
  }
  detect::ShellWords words;
  words.AddScript(options, 0);
  const auto& w = words.words();
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (option(w[i].text, i + 1 < w.size() ? w[i + 1].text : std::string_view())) ++i;
  }
}

void Detector::Impl::ScanCommandLine(const CommandLine& cl, std::size_t order_base, FindingSink& sink) const {
  const auto& argv = cl.argv;
  auto path_of = [&](std::size_t i) { return i < cl.paths.size() ? &cl.paths[i] : nullptr; };
  detect::ShellWords words;
  words.Reserve(argv.size() + 2);
  bool shell = false;
  bool next_is_script = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view e = argv[i];
    const bool script = next_is_script;
    next_is_script = false;
    const std::string key = ElementKey(argv, i, script);
    const Location where{path_of(i), key, script ? "command" : "argument", {}, order_base + i};
    if (e.size() > kMaxScanBytes) {
      sink.Add(where, DetectorId::kValueTooLarge, Severity::kMedium);
      words.AddWord({}, i);
      continue;
    }
    values.Scan(e, where, sink);
    if (script) {
      words.AddSeparator(i);
      words.AddScript(e, i);
      words.AddSeparator(i);
      continue;
    }
    if (i <= 1 && detect::IsShell(detect::CommandBasename(e))) shell = true;
    if (shell && detect::IsShellCommandOption(e)) {
      next_is_script = true;  // `-c` itself is not a word: the script starts a fresh command stream
      continue;
    }
    static constexpr detect::ByteTable kWordBreaks =
        detect::ByteTableOf([](char c) { return c == ' ' || c == '\t' || c == '\n'; });
    const bool multi_option = !e.empty() && e[0] == '-' && detect::FindFirstIn(e, 0, kWordBreaks) != e.size();
    if (multi_option) {
      words.AddScript(e, i);
    } else {
      words.AddWord(e, i);
    }
  }
  WalkWords(words, cl, order_base, 0, sink);
}

void Detector::Impl::WalkWords(const detect::ShellWords& stream, const CommandLine& cl, std::size_t order_base,
                               int depth, FindingSink& sink) const {
  const std::vector<detect::ShellWord>& words = stream.words();
  auto path_of = [&](std::size_t i) { return i < cl.paths.size() ? &cl.paths[i] : nullptr; };
  auto where_at = [&](std::size_t arg, std::string_view key, std::string_view surface) {
    return Location{path_of(arg), key, surface, {}, order_base + arg, /*part=*/true};
  };
  auto pair = [&](std::string_view key, std::string_view value, std::size_t arg, bool env_style, bool from_flag,
                  std::string_view shown_key, std::string_view surface) {
    Pair p;
    p.key = key;
    p.value = value;
    p.env_style = env_style;
    p.from_flag = from_flag;
    p.where = where_at(arg, shown_key, surface);
    ScanPair(p, sink);
  };
  auto tls30 = [&](std::size_t arg, std::string_view flag, std::string_view detail) {
    sink.Add(where_at(arg, flag, "argument"), DetectorId::kTlsVerificationDisabled, Severity::kMedium, detail);
  };

  bool command_position = true;
  bool assignments_allowed = false;  // after export/declare/local/readonly/env
  std::string_view cmd;
  ClientTransport client;
  auto end_command = [&]() {
    const std::size_t at = client.Cleartext(cmd);
    if (at != ClientTransport::kNoArg) {
      sink.Add(where_at(at, cmd, "argument"), DetectorId::kPlaintextSchemeCredentials, Severity::kHigh,
               "credentials passed beside a plaintext URL");
    }
    client = ClientTransport{};
  };
  // A password given to a client by option: SEC-081 when literal; either way the command has credentials.
  auto client_password = [&](std::string_view option, const detect::ShellWord& value_word, PasswordForm form) {
    const std::string_view pw = PasswordPart(form, value_word.text);
    if (!IsCredentialPart(pw)) return;
    client.credential_arg = value_word.arg_index;
    if (IsLiteralClientPassword(pw)) {
      sink.Add(where_at(value_word.arg_index, option, "argument"), DetectorId::kCliSecretFlag, Severity::kHigh);
    }
  };
  for (std::size_t k = 0; k < words.size(); ++k) {
    const detect::ShellWord& w = words[k];
    if (w.separator) {
      end_command();
      command_position = true;
      assignments_allowed = false;
      cmd = {};
      continue;
    }
    const detect::ShellWord* next = (k + 1 < words.size() && !words[k + 1].separator) ? &words[k + 1] : nullptr;
    const std::string_view t = w.text;
    std::string_view name;
    std::string_view value;

    if (command_position || assignments_allowed) {
      if (SplitAssignment(t, name, value)) {
        pair(name, value, w.arg_index, /*env_style=*/true, false, name, "shell variable");
        continue;
      }
      if (command_position) {
        const std::string_view b = detect::CommandBasename(t);
        if (b == "export" || b == "declare" || b == "local" || b == "readonly" || b == "typeset" || b == "env") {
          assignments_allowed = true;
          command_position = b == "env";
          continue;
        }
        if (b == "sudo" || b == "exec" || b == "nohup" || b == "time" || b == "command") continue;
        cmd = b;
        command_position = false;
        assignments_allowed = false;
        continue;
      }
    }

    // A nested `sh -c "<script>"` inside a script.
    if (detect::IsShell(cmd) && detect::IsShellCommandOption(t) && next != nullptr) {
      if (depth < kMaxScriptNesting) {
        detect::ShellWords nested;
        nested.AddScript(next->text, next->arg_index);
        WalkWords(nested, cl, order_base, depth + 1, sink);
      }
      ++k;
      continue;
    }
    // Spark / Hive configuration: `--conf k=v`, `--conf=k=v`, `--hiveconf k=v`, `-Dk=v`, `-D k=v`.
    if ((t == "--conf" || t == "--hiveconf") && next != nullptr) {
      if (SplitConf(next->text, name, value)) pair(name, value, next->arg_index, false, false, name, "Spark conf");
      ++k;
      continue;
    }
    if (t.substr(0, 7) == "--conf=" && SplitConf(t.substr(7), name, value)) {
      pair(name, value, w.arg_index, false, false, name, "Spark conf");
      continue;
    }
    if (t.substr(0, 2) == "-D") {
      const bool separate = t.size() == 2 && next != nullptr;
      const detect::ShellWord& src = separate ? *next : w;
      if (SplitConf(separate ? next->text : t.substr(2), name, value)) {
        pair(name, value, src.arg_index, false, false, name, "property");
      } else if (!separate && IsConfKey(t.substr(2))) {
        pair(t.substr(2), {}, w.arg_index, false, false, t.substr(2), "property");  // bare `-Dname` sets ""
      }
      if (separate) ++k;
      continue;
    }
    // curl/wget specifics.
    if (IsCurlLike(cmd)) {
      if (IsCurlDataOption(t) && next != nullptr) {
        // A request body: JSON documents and form-encoded `a=b&password=c` lists, judged as values.
        values.Scan(next->text, where_at(next->arg_index, t, "argument"), sink);
        ++k;
        continue;
      }
      if (t == "--ssl-reqd" || t == "--ftp-ssl-reqd") client.tls_required = true;
      if (t == "-n" || t == "--netrc" || t == "--netrc-optional" || t.substr(0, 12) == "--netrc-file") {
        client.credential_arg = w.arg_index;
      }
      if (cmd == "wget" && (t.substr(0, 11) == "--password=" || t.substr(0, 15) == "--ftp-password=" ||
                            t.substr(0, 16) == "--http-password=")) {
        client.credential_arg = w.arg_index;
      }
      if ((t == "-u" || t == "--user") && next != nullptr) {
        const std::size_t colon = next->text.find(':');
        if (colon != std::string_view::npos && IsCredentialPart(next->text.substr(colon + 1))) {
          client.credential_arg = next->arg_index;
        }
        if (IsLiteralUserPassword(next->text)) {
          sink.Add(where_at(next->arg_index, t, "argument"), DetectorId::kCliSecretFlag, Severity::kHigh,
                   "user:password");
        }
        ++k;
        continue;
      }
      if ((t.substr(0, 2) == "-u" && t.size() > 2 && t[2] != '-') || t.substr(0, 7) == "--user=") {
        const std::string_view up = t[1] == 'u' ? t.substr(2) : t.substr(7);
        const std::size_t colon = up.find(':');
        if (colon != std::string_view::npos && IsCredentialPart(up.substr(colon + 1)))
          client.credential_arg = w.arg_index;
        if (IsLiteralUserPassword(up)) {
          sink.Add(where_at(w.arg_index, t.substr(0, 2) == "-u" ? "-u" : "--user", "argument"),
                   DetectorId::kCliSecretFlag, Severity::kHigh, "user:password");
        }
        continue;
      }
      if ((t == "-H" || t == "--header") && next != nullptr) {
        const std::string_view header = next->text;
        const std::size_t colon = header.find(':');
        if (colon != std::string_view::npos) {
          const std::string_view header_name = detect::TrimAscii(header.substr(0, colon));
          const detect::LowerCopy lower(header_name.size() <= 64 ? header_name : std::string_view());
          const bool auth = lower.view() == "authorization" || lower.view() == "proxy-authorization";
          const bool keyed = !auth && detect::MayBeSensitiveName(lower.view()) &&
                             detect::ClassifyName(detect::KeyTokens(header_name)) == detect::NameStrength::kStrong;
          const std::string_view credential = header.substr(colon + 1);
          if ((auth && detect::IsLiteralAuthorization(credential)) ||
              (keyed && detect::IsLiteralAuthorization(detect::TrimAscii(credential)))) {
            sink.Add(where_at(next->arg_index, t, "argument"), DetectorId::kAuthorizationHeader, Severity::kHigh);
          }
        }
        ++k;
        continue;
      }
      if (cmd == "curl" && t.size() >= 2 && t[0] == '-' && t[1] != '-' && t.find('k') != std::string_view::npos) {
        bool cluster = true;
        for (char c : t.substr(1)) cluster = cluster && detect::IsAsciiAlpha(c);
        if (cluster) {
          tls30(w.arg_index, "-k", "curl -k");
          continue;
        }
      }
    }
    // Passwords given to database, directory and transfer clients by option.
    if (const PasswordForm form = ClientPasswordOption(cmd, t); form != PasswordForm::kNone) {
      // `mongosh -p --tls` prompts for the password: an option is never the value.
      if (next != nullptr && (next->text.empty() || next->text[0] != '-')) {
        client_password(t, *next, form);
        ++k;
      }
      continue;
    }
    if (IsLdapClient(cmd)) {
      if (t == "-y" && next != nullptr) client.credential_arg = next->arg_index;
      if (t.size() >= 3 && t[0] == '-' && t[1] != '-' && t.find("ZZ") != std::string_view::npos) {
        client.tls_required = true;
      }
    }
    if (cmd == "redis-cli" && (t == "--tls" || (t == "--pass" && next != nullptr))) {
      if (t == "--tls") {
        client.tls_required = true;
      } else {
        client_password(t, *next, PasswordForm::kPlain);
        ++k;
        continue;
      }
    }
    if (IsOracleClient(cmd) && !t.empty() && t[0] != '-' && t[0] != '@') {
      const std::string_view pw = OracleLogonPassword(t);
      if (IsLiteralClientPassword(pw)) {
        sink.Add(where_at(w.arg_index, cmd, "argument"), DetectorId::kCliSecretFlag, Severity::kHigh, "user/password@");
      }
      continue;
    }
    if (t.find("://") != std::string_view::npos) client.NoteUrl(t, w.arg_index);
    // A JSON document as an argument (`--conn-json '{...}'`, `--secret-string '{...}'` in a script).
    if (!t.empty() && (t[0] == '{' || t[0] == '[') && t.size() > 2) {
      const bool after_option = k > 0 && !words[k - 1].separator && words[k - 1].text.substr(0, 1) == "-";
      values.Scan(t, where_at(w.arg_index, after_option ? words[k - 1].text : "argument", "argument"), sink);
      continue;
    }
    if (t == "--insecure" || t == "--no-verify-ssl" || t == "--no-check-certificate" ||
        t == "--insecure-skip-tls-verify" || t == "--insecure-skip-tls-verify=true" || t == "--tls-verify=false" ||
        t == "--skip-tls-verify") {
      tls30(w.arg_index, t.substr(0, t.find('=')), "certificate verification off");
      continue;
    }
    // Database clients: `mysql -pSECRET`, `sqlcmd -P SECRET`.
    if (IsMysqlLike(cmd) && t.size() > 2 && t[0] == '-' && t[1] == 'p') {
      const std::string_view pw = t.substr(2);
      if (pw.size() >= 3 && !detect::IsNonSecretLiteral(pw)) {
        sink.Add(where_at(w.arg_index, "-p", "argument"), DetectorId::kCliSecretFlag, Severity::kHigh);
      }
      continue;
    }
    if ((cmd == "sqlcmd" || cmd == "bcp") && t == "-P" && next != nullptr) {
      if (next->text.size() >= 3 && !detect::IsNonSecretLiteral(next->text)) {
        sink.Add(where_at(next->arg_index, "-P", "argument"), DetectorId::kCliSecretFlag, Severity::kHigh);
      }
      ++k;
      continue;
    }
    // Long options: `--name=value`, or `--name value` for sensitive names and sslmode.
    if (t.size() > 2 && t[0] == '-' && t[1] == '-') {
      const std::size_t eq = t.find('=');
      const std::string_view flag = t.substr(0, eq);
      const std::string_view flag_name = flag.substr(2);
      if (eq != std::string_view::npos) {
        pair(flag_name, t.substr(eq + 1), w.arg_index, false, true, flag, "argument");
        continue;
      }
      if (next != nullptr && !next->text.empty() && next->text[0] != '-') {
        const detect::LowerCopy lower(flag_name.size() <= 64 ? flag_name : std::string_view());
        const bool strong = detect::MayBeSensitiveName(lower.view()) &&
                            detect::ClassifyName(detect::KeyTokens(flag_name)) == detect::NameStrength::kStrong;
        if (strong || lower.view() == "sslmode") {
          pair(flag_name, next->text, next->arg_index, false, true, flag, "argument");
          ++k;
        }
      }
      continue;
    }
    // Positional `key=value` words (`dbt run --vars`, job parameters).
    if (!t.empty() && t[0] != '-' && SplitConf(t, name, value))
      pair(name, value, w.arg_index, false, false, name, "argument");
  }
  end_command();
  for (const detect::EmbeddedPair& h : stream.embedded_pairs()) {
    pair(h.key, h.value, h.arg_index, h.env_style, false, h.key, "script line");
  }
  // `ftp -n host <<EOF` / `user NAME PASSWORD`: a plain FTP client sends the login in cleartext (TLS-020), and a
  // literal password is plaintext in the spec (SEC-081).
  for (const detect::FtpLogin& login : stream.ftp_logins()) {
    if (!IsCredentialPart(login.password)) continue;
    if (IsLiteralClientPassword(login.password)) {
      sink.Add(where_at(login.arg_index, "ftp user", "script line"), DetectorId::kCliSecretFlag, Severity::kHigh);
    }
    sink.Add(where_at(login.arg_index, login.command, "script line"), DetectorId::kPlaintextSchemeCredentials,
             Severity::kHigh, "the FTP login of a here-doc `user` line");
  }
}

Detector::Detector() : impl_(std::make_unique<Impl>()) {}
Detector::~Detector() = default;

std::vector<Finding> Detector::Scan(const ScanInput& input, const std::function<bool()>& exhausted,
                                    bool* stopped) const {
  FindingSink sink;
  SmtpState smtp;
  std::size_t work = 0;
  auto out_of_budget = [&] {
    if (!exhausted || ++work % kBudgetCheckInterval != 0 || !exhausted()) return false;
    if (stopped != nullptr) *stopped = true;
    return true;
  };
  for (std::size_t i = 0; i < input.entries.size(); ++i) {
    if (out_of_budget()) return sink.Take();
    const ConfigEntry& e = input.entries[i];
    if (e.surface == Surface::kEnv) smtp.Observe(e, i);
    impl_->ScanEntry(e, i, input.spark_executor, sink);
  }
  if (smtp.starttls_off != nullptr && !smtp.ssl_on && smtp.credentials) {
    sink.Add(Location{&smtp.starttls_off->path, smtp.starttls_off->key, "env", {}, smtp.starttls_order},
             DetectorId::kAirflowSmtpCleartext, Severity::kLow);
  }
  std::size_t order = input.entries.size();
  for (const CommandLine& cl : input.command_lines) {
    if (out_of_budget()) return sink.Take();
    impl_->ScanCommandLine(cl, order, sink);
    order += cl.argv.size();
  }
  return sink.Take();
}

const Detector& DefaultDetector() {
  static const Detector* const detector = new Detector();
  return *detector;
}

}  // namespace pipeguard::policy
