// A strict JSON stream parser with positions: RFC 8259 values, one or more per input, each a Kubernetes object.
//
// Written by hand (rather than nlohmann::json::parse) so that every error carries FILE:LINE:COL, never quotes
// the input (a malformed line may hold a secret), and so that duplicate keys and excessive nesting are refused
// with the exact position.
#include <charconv>
#include <set>
#include <system_error>

#include "parse_internal.h"

namespace pipeguard::manifest::internal {
namespace {

using nlohmann::json;

class JsonStreamParser {
 public:
  JsonStreamParser(std::string_view text, const std::string& file, const LoadLimits& limits)
      : text_(text), file_(file), limits_(limits) {}

  StatusOr<std::vector<Document>> Parse() {
    std::vector<Document> documents;
    TextPosition last_position;
    size_t last_offset = 0;
    for (;;) {
      SkipWhitespace();
      if (AtEnd()) break;
      const size_t start = pos_;
      json value;
      if (!ParseValue(value, 1)) return status_;
      if (!value.is_object()) {
        return ErrorAt(file_, PositionAt(text_, start),
                       "a document must be a JSON object (a Kubernetes object with apiVersion and kind), found " +
                           DescribeType(value),
                       "");
      }
      // Lines are counted incrementally: documents come in order.
      for (; last_offset < start; ++last_offset) last_position.line += text_[last_offset] == '\n' ? 1 : 0;
      documents.push_back(Document{file_, last_position.line, std::move(value)});
    }
    return documents;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  bool Fail(size_t offset, const std::string& what, std::string_view hint = "") {
    status_ = ErrorAt(file_, PositionAt(text_, offset), "invalid JSON: " + what, hint);
    return false;
  }
  bool FailUnexpected(std::string_view expected) {
    if (AtEnd())
      return Fail(pos_, "unexpected end of input, expected " + std::string(expected), "is the file truncated?");
    return Fail(pos_, "unexpected character '" + Printable(Peek()) + "', expected " + std::string(expected));
  }
  static std::string Printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return std::string(1, c);
    return "\\x" + std::string(1, "0123456789abcdef"[u >> 4]) + "0123456789abcdef"[u & 0xF];
  }

  void SkipWhitespace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) ++pos_;
  }

  bool ParseValue(json& out, int depth) {
    SkipWhitespace();
    if (AtEnd()) return FailUnexpected("a value");
    switch (Peek()) {
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case '"': {
        std::string s;
        if (!ParseString(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return ParseLiteral("true", json(true), out);
      case 'f':
        return ParseLiteral("false", json(false), out);
      case 'n':
        return ParseLiteral("null", json(nullptr), out);
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber(out);
        return Fail(pos_, "unexpected character '" + Printable(Peek()) + "'",
                    "strings need double quotes; keys and values are separated by ':' and items by ','");
    }
  }

  bool CheckDepth(int depth) {
    if (depth > limits_.max_depth) {
      return Fail(pos_, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
                  "Kubernetes objects are never this deep; is the file generated correctly?");
    }
    return true;
  }

  bool ParseObject(json& out, int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // '{'
    out = json::object();
    std::set<std::string, std::less<>> keys;
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipWhitespace();
      if (AtEnd() || Peek() != '"') return FailUnexpected("a key in double quotes");
      const size_t key_offset = pos_;
      std::string key;
      if (!ParseString(key)) return false;
      if (!keys.insert(key).second) {
        return Fail(key_offset, "duplicate key \"" + Truncated(key) + "\" in this object",
                    "remove one of them; Kubernetes would silently keep only one");
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return FailUnexpected("':' after the key");
      ++pos_;
      json value;
      if (!ParseValue(value, depth + 1)) return false;
      out[key] = std::move(value);
      SkipWhitespace();
      if (AtEnd()) return FailUnexpected("',' or '}'");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return FailUnexpected("',' or '}'");
    }
  }

  bool ParseArray(json& out, int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // '['
    out = json::array();
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      json value;
      if (!ParseValue(value, depth + 1)) return false;
      out.push_back(std::move(value));
      SkipWhitespace();
      if (AtEnd()) return FailUnexpected("',' or ']'");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return FailUnexpected("',' or ']'");
    }
  }

  static std::string Truncated(const std::string& s) { return s.size() <= 64 ? s : s.substr(0, 61) + "..."; }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads the 4 hex digits after "\u" at pos_; returns -1 on error.
  long ReadHex4() {
    if (pos_ + 4 > text_.size()) return -1;
    long value = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = HexValue(text_[pos_ + i]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    pos_ += 4;
    return value;
  }

  static void AppendUtf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool ParseString(std::string& out) {
    const size_t open = pos_;
    ++pos_;  // '"'
    for (;;) {
      if (AtEnd()) return Fail(open, "string is not closed", "add the closing double quote");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Fail(pos_, "control character inside a string", "escape line breaks and tabs as \\n and \\t");
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const size_t escape = pos_;
      ++pos_;
      if (AtEnd()) return Fail(open, "string is not closed", "add the closing double quote");
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          long cp = ReadHex4();
          if (cp < 0) return Fail(escape, "\\u must be followed by 4 hex digits");
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail(escape, "lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
              return Fail(escape, "high surrogate \\u escape is not followed by a low surrogate");
            }
            pos_ += 2;
            const long low = ReadHex4();
            if (low < 0xDC00 || low > 0xDFFF) {
              return Fail(escape, "high surrogate \\u escape is not followed by a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, static_cast<unsigned long>(cp));
          break;
        }
        default:
          return Fail(escape, "unknown escape sequence", "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
      }
    }
  }

  bool ParseNumber(json& out) {
    const size_t start = pos_;
    const auto digit = [&] { return !AtEnd() && Peek() >= '0' && Peek() <= '9'; };
    if (Peek() == '-') ++pos_;
    if (!digit()) return Fail(start, "malformed number");
    if (Peek() == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    bool integral = true;
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      ++pos_;
      if (!digit()) return Fail(start, "malformed number", "a decimal point must be followed by digits");
      while (digit()) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!digit()) return Fail(start, "malformed number", "an exponent must have digits");
      while (digit()) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      if (auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last) {
        out = i;
        return true;
      }
      std::uint64_t u = 0;
      if (auto r = std::from_chars(first, last, u); r.ec == std::errc() && r.ptr == last) {
        out = u;
        return true;
      }
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      const std::string_view token(first, static_cast<size_t>(last - first));
      if (token.find("e-") == std::string_view::npos && token.find("E-") == std::string_view::npos) {
        return Fail(start, "number out of range",
                    "Kubernetes numbers fit in a 64-bit integer or double: quote the value or correct it");
      }
      d = 0;  // underflow: as close to zero as a double gets
    } else if (r.ec != std::errc() || r.ptr != last) {
      return Fail(start, "malformed number");
    }
    out = d;
    return true;
  }

  bool ParseLiteral(std::string_view word, json value, json& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return Fail(pos_, "invalid literal", "use true, false, null, a number, or a string in double quotes");
    }
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  std::string_view text_;
  const std::string& file_;
  const LoadLimits& limits_;
  size_t pos_ = 0;
  Status status_;
};

}  // namespace

StatusOr<std::vector<Document>> ParseJsonStream(std::string_view text, const std::string& file,
                                                const LoadLimits& limits) {
  return JsonStreamParser(text, file, limits).Parse();
}

}  // namespace pipeguard::manifest::internal
