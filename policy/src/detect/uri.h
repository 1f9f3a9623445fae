// URI and connection-string parsing the way clients parse them (spec D5): the authority ends at the first
// `/ ? #` or whitespace, the userinfo runs to the LAST `@` of the authority, the password is percent-decoded
// before it is tested. Also splits JDBC / ODBC / libpq keyword strings into key=value parameters.
// All functions are linear in the input and never allocate except for percent-decoding a found password.
#pragma once

#include <string>
#include <string_view>

#include "detect/text.h"

namespace pipeguard::policy::detect {

// One `scheme://authority...` occurrence inside a value.
struct UriParts {
  std::string_view scheme;    // as written, e.g. "postgresql", "db+postgresql", "SASL_PLAINTEXT", "jdbc" never
  std::string_view userinfo;  // everything before the last '@' of the authority; empty when there is none
  std::string_view user;      // userinfo up to the first ':'
  std::string_view password;  // raw (still percent-encoded) password; empty when absent
  bool has_password = false;  // userinfo contains ':'
  std::string_view host;      // host[:port] (after the last '@')
  std::string_view query;     // text after '?' up to '#' or whitespace; empty when absent
};

// Calls `fn(const UriParts&)` for every `scheme://` occurrence in `value`, left to right; stops early when
// `fn` returns false. Schemes are 1..40 characters of [A-Za-z0-9+.-_] starting with a letter (`_` admits Kafka
// listener names such as SASL_PLAINTEXT).
template <typename Fn>
void ForEachUri(std::string_view value, Fn&& fn);

// Calls `fn(key, value)` for every `key=value` parameter of a JDBC/ODBC/libpq/URL-query string: parameters are
// separated by `? & ;` or whitespace; values may be double- or single-quoted or ODBC-braced (`{...}`), in which
// case separators inside are kept. Keys and values are trimmed; quotes and braces removed. Stops early when
// `fn` returns false.
template <typename Fn>
void ForEachParam(std::string_view value, Fn&& fn);

// Extra parameter separators for the grammars ForEachParam does not assume by default.
enum ParamGrammar : unsigned {
  kParamDefault = 0,
  kParamCommas = 1u << 0,  // `host:port,password=...,ssl=False` (StackExchange.Redis, cloud Redis consoles)
  kParamParens = 1u << 1,  // Oracle TNS descriptors `(SECURITY=(SSL_SERVER_DN_MATCH=FALSE))`
};

// The grammar of a value's parameter list: commas separate parameters when the value has no `; & ?` separators
// of its own, parentheses when it is an Oracle TNS descriptor.
unsigned DetectParamGrammar(std::string_view value);

// ForEachParam with the separators of `grammar` added.
template <typename Fn>
void ForEachParamIn(std::string_view value, unsigned grammar, Fn&& fn);

// True for localhost, 127.0.0.0/8, ::1 (with or without brackets and port).
bool IsLoopbackHost(std::string_view host_port);

// The host named by a keyword connection string (`host=`, `server=`, `data source=`, `hostname=`), or empty.
std::string_view KeywordHost(std::string_view value);

// The scheme used for transport decisions: lower-cased, without a `db+` / `jdbc:` style prefix
// (`db+postgresql` -> `postgresql`), keeping `mongodb+srv`. Held in a LowerCopy: judging a URI does not allocate.
class TransportScheme {
 public:
  explicit TransportScheme(std::string_view scheme);
  TransportScheme(const TransportScheme&) = delete;
  TransportScheme& operator=(const TransportScheme&) = delete;
  std::string_view view() const { return view_; }

 private:
  LowerCopy lower_;
  std::string_view view_;
};

// ---- implementation details of the templates ------------------------------------------------------------

namespace uri_internal {
// Parses the URI whose "://" starts at `sep`; returns the index just after the parsed part (always > sep).
std::size_t ParseAt(std::string_view value, std::size_t sep, UriParts& out, bool& valid);
// Remembers, per closing character (`"`, `'`, `}`), the position from which none follows, so that unmatched
// opening quotes cost one scan in total instead of one per parameter.
struct ParamScanState {
  std::size_t none_after[3] = {std::string_view::npos, std::string_view::npos, std::string_view::npos};
};
// Parses the parameter starting at `pos`; returns the index after it.
std::size_t NextParam(std::string_view value, std::size_t pos, ParamScanState& state, std::string_view& key,
                      std::string_view& val, unsigned grammar);
}  // namespace uri_internal

template <typename Fn>
void ForEachUri(std::string_view value, Fn&& fn) {
  std::size_t from = 0;
  while (from < value.size()) {
    const std::size_t sep = value.find("://", from);
    if (sep == std::string_view::npos) return;
    UriParts parts;
    bool valid = false;
    const std::size_t next = uri_internal::ParseAt(value, sep, parts, valid);
    if (valid && !fn(static_cast<const UriParts&>(parts))) return;
    from = next;
  }
}

template <typename Fn>
void ForEachParamIn(std::string_view value, unsigned grammar, Fn&& fn) {
  std::size_t pos = 0;
  uri_internal::ParamScanState state;
  while (pos < value.size()) {
    std::string_view key;
    std::string_view val;
    pos = uri_internal::NextParam(value, pos, state, key, val, grammar);
    if (!key.empty() && !fn(key, val)) return;
  }
}

template <typename Fn>
void ForEachParam(std::string_view value, Fn&& fn) {
  ForEachParamIn(value, kParamDefault, fn);
}

}  // namespace pipeguard::policy::detect
