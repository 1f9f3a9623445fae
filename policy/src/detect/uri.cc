#include "detect/uri.h"

#include <array>

#include "detect/text.h"

namespace pipeguard::policy::detect {
namespace {

constexpr bool IsSchemeChar(char c) { return IsAsciiAlnum(c) || c == '+' || c == '.' || c == '-' || c == '_'; }
// `;` also ends it: JDBC SQL Server URLs continue with `;user=...;password=...` parameters.
constexpr bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || c == ';' || IsAsciiSpace(c) || c == '"' || c == '\'';
}
constexpr bool EndsUri(char c) { return IsAsciiSpace(c) || c == '"' || c == '\'' || c == '#'; }
constexpr bool IsParamSeparator(char c, unsigned grammar) {
  if (c == '?' || c == '&' || c == ';' || IsAsciiSpace(c)) return true;
  if (c == ',') return (grammar & kParamCommas) != 0;
  if (c == '(' || c == ')') return (grammar & kParamParens) != 0;
  return false;
}

// The byte loops below test each byte against tables of the predicates above (ByteTableOf).
constexpr unsigned kGrammarBits = kParamCommas | kParamParens;  // all IsParamSeparator reads of a grammar

constexpr ByteTable kSchemeChars = ByteTableOf(IsSchemeChar);
// The bytes at which the authority loop of ParseAt does anything but step on: its ends and '@'.
constexpr ByteTable kAuthorityStops = ByteTableOf([](char c) { return EndsAuthority(c) || c == '@'; });
// The bytes at which the path/query loop of ParseAt does anything but step on.
constexpr ByteTable kPathStops = ByteTableOf([](char c) { return EndsUri(c) || c == ':' || c == '?'; });
constexpr std::array<ByteTable, kGrammarBits + 1> kParamSeparators = [] {
  std::array<ByteTable, kGrammarBits + 1> tables{};
  for (unsigned g = 0; g <= kGrammarBits; ++g) tables[g] = ByteTableOf([g](char c) { return IsParamSeparator(c, g); });
  return tables;
}();
constexpr std::array<ByteTable, kGrammarBits + 1> kParamKeyEnds = [] {
  std::array<ByteTable, kGrammarBits + 1> tables{};
  for (unsigned g = 0; g <= kGrammarBits; ++g) {
    tables[g] = ByteTableOf([g](char c) { return c == '=' || IsParamSeparator(c, g); });
  }
  return tables;
}();

constexpr std::size_t kMaxSchemeChars = 40;

}  // namespace

namespace uri_internal {

std::size_t ParseAt(std::string_view value, std::size_t sep, UriParts& out, bool& valid) {
  valid = false;
  // Scheme: the run of scheme characters right before "://", starting with a letter.
  std::size_t begin = sep;
  while (begin > 0 && InTable(kSchemeChars, value[begin - 1]) && sep - begin < kMaxSchemeChars) --begin;
  while (begin < sep && !IsAsciiAlpha(value[begin])) ++begin;
  const std::size_t auth_begin = sep + 3;
  if (begin == sep) return auth_begin;
  out.scheme = value.substr(begin, sep - begin);

  std::size_t auth_end = auth_begin;
  std::size_t last_at = std::string_view::npos;
  while (true) {
    auth_end = FindFirstIn(value, auth_end, kAuthorityStops);
    if (auth_end >= value.size() || value[auth_end] != '@') break;
    last_at = auth_end++;
  }
  const std::string_view authority = value.substr(auth_begin, auth_end - auth_begin);
  if (last_at != std::string_view::npos) {
    out.userinfo = value.substr(auth_begin, last_at - auth_begin);
    out.host = value.substr(last_at + 1, auth_end - last_at - 1);
    const std::size_t colon = out.userinfo.find(':');
    out.user = out.userinfo.substr(0, colon);
    if (colon != std::string_view::npos) {
      out.has_password = true;
      out.password = out.userinfo.substr(colon + 1);
    }
  } else {
    out.host = authority;
  }
  // Path and query run to whitespace, a quote or '#'. Stop at the next "://" so the scan stays linear.
  std::size_t end = auth_end;
  std::size_t query_begin = std::string_view::npos;
  while (true) {
    end = FindFirstIn(value, end, kPathStops);
    if (end >= value.size() || EndsUri(value[end])) break;
    if (value[end] == ':' && value.substr(end, 3) == "://") break;
    if (value[end] == '?' && query_begin == std::string_view::npos) query_begin = end + 1;
    ++end;
  }
  if (query_begin != std::string_view::npos) out.query = value.substr(query_begin, end - query_begin);
  valid = true;
  return auth_end > auth_begin ? auth_end : auth_begin;
}

std::size_t NextParam(std::string_view value, std::size_t pos, ParamScanState& state, std::string_view& key,
                      std::string_view& val, unsigned grammar) {
  key = {};
  val = {};
  const ByteTable& separators = kParamSeparators[grammar & kGrammarBits];
  while (pos < value.size() && InTable(separators, value[pos])) ++pos;
  const std::size_t key_begin = pos;
  const ByteTable& key_ends = kParamKeyEnds[grammar & kGrammarBits];
  pos = FindFirstIn(value, pos, key_ends);
  if (pos >= value.size() || value[pos] != '=') return pos;  // a bare word, not a parameter
  key = value.substr(key_begin, pos - key_begin);
  ++pos;  // '='
  if (pos < value.size() && (value[pos] == '"' || value[pos] == '\'' || value[pos] == '{')) {
    const char close = value[pos] == '{' ? '}' : value[pos];
    const int slot = close == '"' ? 0 : close == '\'' ? 1 : 2;
    std::size_t close_pos = std::string_view::npos;
    if (state.none_after[slot] == std::string_view::npos || pos + 1 < state.none_after[slot]) {
      close_pos = value.find(close, pos + 1);
      if (close_pos == std::string_view::npos) state.none_after[slot] = pos + 1;
    }
    if (close_pos != std::string_view::npos) {
      val = value.substr(pos + 1, close_pos - pos - 1);
      return close_pos + 1;
    }
  }
  const std::size_t val_begin = pos;
  pos = FindFirstIn(value, pos, separators);
  val = value.substr(val_begin, pos - val_begin);
  return pos;
}

}  // namespace uri_internal

unsigned DetectParamGrammar(std::string_view value) {
  unsigned grammar = kParamDefault;
  static constexpr ByteTable kOwnSeparators = ByteTableOf([](char c) { return c == ';' || c == '&' || c == '?'; });
  if (value.find(',') != std::string_view::npos && FindFirstIn(value, 0, kOwnSeparators) == value.size()) {
    grammar |= kParamCommas;
  }
  // ContainsIgnoreCase(value, "(description"), jumping from '(' to '(' (it has no other case): values with a
  // $(VAR) reference hold a '(' but rarely a descriptor.
  for (std::size_t at = value.find('('); at != std::string_view::npos; at = value.find('(', at + 1)) {
    if (HasAtIgnoreCase(value, at, "(description")) {
      grammar |= kParamParens;
      break;
    }
  }
  return grammar;
}

bool IsLoopbackHost(std::string_view host_port) {
  std::string_view h = host_port;
  if (h.substr(0, 4) == "tcp(" || h.substr(0, 4) == "udp(") {  // Go MySQL DSN: user:pw@tcp(host:port)/db
    h.remove_prefix(4);
    if (!h.empty() && h.back() == ')') h.remove_suffix(1);
  }
  if (!h.empty() && h.front() == '[') {
    const std::size_t close = h.find(']');
    h = h.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    return h == "::1";
  }
  if (h == "::1") return true;
  const std::size_t colon = h.find(':');
  if (colon != std::string_view::npos) h = h.substr(0, colon);
  return EqualsIgnoreCase(h, "localhost") || EqualsIgnoreCase(h, "localhost.localdomain") || h.substr(0, 4) == "127.";
}

std::string_view KeywordHost(std::string_view value) {
  std::string_view host;
  ForEachParam(value, [&](std::string_view k, std::string_view v) {
    if (EqualsIgnoreCase(k, "host") || EqualsIgnoreCase(k, "server") || EqualsIgnoreCase(k, "hostname") ||
        EqualsIgnoreCase(k, "data source")) {
      host = v;
      return false;
    }
    return true;
  });
  return host;
}

TransportScheme::TransportScheme(std::string_view scheme) : lower_(scheme), view_(lower_.view()) {
  const std::size_t plus = view_.find('+');
  if (plus != std::string_view::npos && view_.substr(plus + 1) != "srv") view_.remove_prefix(plus + 1);
}

}  // namespace pipeguard::policy::detect
