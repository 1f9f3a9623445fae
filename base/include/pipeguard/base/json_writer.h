// JSON text written straight into a string, for output the hot path produces on every request (the AdmissionReview
// reply, the audit line): building an nlohmann DOM only to dump it cost more than the reply's whole TLS write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::base {

// Appends compact JSON (no spaces) to `out`. The caller nests Begin/End calls correctly and gives every object
// member a Key before its value; the writer places the commas. Strings are escaped as RFC 8259 requires ('"', '\',
// control characters; \b \f \n \r \t short), non-ASCII UTF-8 is written as is, and each byte that does not belong
// to a well-formed UTF-8 sequence (overlong forms, surrogates, above U+10FFFF, truncated) becomes U+FFFD, so the
// output is always valid UTF-8 whatever the input. Non-finite doubles are written as null, as nlohmann does.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Bool(bool value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Null();

  // Key(key) followed by the value, for the common object member.
  JsonWriter& Member(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Member(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Member(std::string_view key, bool value) { return Key(key).Bool(value); }
  JsonWriter& Member(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Member(std::string_view key, double value) { return Key(key).Double(value); }
  // An array of strings from any range of string-like elements.
  template <typename Strings>
  JsonWriter& StringArray(const Strings& values) {
    BeginArray();
    for (const auto& value : values) String(value);
    return EndArray();
  }

 private:
  void BeforeValue();
  void AppendEscaped(std::string_view text);

  std::string& out_;
  std::vector<bool> has_member_;  // per open container: whether a value was written in it yet
  bool after_key_ = false;
};

}  // namespace pipeguard::base
