// The request-body parse (webhook/src/json_text.h): simdjson's fast path must give exactly nlohmann's DOM and
// errors, case by case, including the texts simdjson 3.0.1 refuses and nlohmann accepts.
#include "json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "representative_pod.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;

// The parse outcome in a comparable form: the DOM (with its number types) or the exception id.
struct Outcome {
  std::optional<json> dom;
  int error_id = 0;
  std::string error_kind;
};

Outcome Run(json (*parse)(std::string_view), std::string_view text) {
  Outcome outcome;
  try {
    outcome.dom = parse(text);
  } catch (const json::parse_error& e) {
    outcome.error_id = e.id;
    outcome.error_kind = "parse_error";
  } catch (const json::out_of_range& e) {
    outcome.error_id = e.id;
    outcome.error_kind = "out_of_range";
  }
  return outcome;
}

// Equal values of equal JSON types all the way down (json's operator== calls 1 and 1.0 equal).
bool SameTyped(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !SameTyped(*it, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameTyped(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

void ExpectSameAsNlohmann(std::string_view text) {
  const Outcome fast = Run(ParseJsonText, text);
  const Outcome slow = Run(ParseJsonTextSlowPath, text);
  ASSERT_EQ(fast.dom.has_value(), slow.dom.has_value()) << text.substr(0, 80);
  if (fast.dom) {
    EXPECT_TRUE(SameTyped(*fast.dom, *slow.dom))
        << text.substr(0, 80) << "\nfast: " << fast.dom->dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    EXPECT_EQ(fast.error_kind, slow.error_kind) << text.substr(0, 80);
    EXPECT_EQ(fast.error_id, slow.error_id) << text.substr(0, 80);
  }
}

TEST(JsonTextTest, MatchesNlohmannOnEdgeCases) {
  const char* cases[] = {
      "{}", "[]", "null", "true", " 1 ", "-0", "[-0.0]", "0.1", "1E2", "1.5e308", "[1.0]", "1e-400",
      "9223372036854775807", "9223372036854775808", "18446744073709551615",
      // simdjson 3.0.1 refuses these numbers; nlohmann reads them as doubles.
      "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",
      // Errors: overflow, syntax, trailing bytes, invalid UTF-8, lone surrogates, control characters.
      "1e400", "[1,]", "1 2", "{}  x", "\"\xff\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\x01\"", "", "{\"a\"}",
      // Strings and escapes, duplicate keys (the last wins), empty and odd keys.
      "\"\\u0000\"", "\"\\ud83d\\ude00\"", "\"\\/\\b\\f\\n\\r\\t\"", "{\"a\":1,\"a\":2}", "{\"\":{\"~/\":[]}}",
      "{\"env\":[{\"name\":\"A\",\"value\":\"x\"},{\"name\":\"A\",\"value\":\"y\"}]}",
      // A duplicate replaces a nested value, a null, or is itself nested.
      "{\"a\":{\"b\":[1,{\"c\":2}]},\"a\":\"x\"}", "{\"a\":null,\"a\":1}", "{\"a\":1,\"a\":[{\"b\":{}}]}"};
  for (const char* text : cases) ExpectSameAsNlohmann(text);
}

TEST(JsonTextTest, MatchesNlohmannOnTheRepresentativeReview) { ExpectSameAsNlohmann(bench::RepresentativeReview()); }

TEST(JsonTextTest, TextsAboveTheFastPathLimitParseTheSame) {
  json big = json::array();
  std::string filler(100, 'x');
  while (big.dump().size() <= kFastParseMaxBytes) big.push_back({{"name", "A"}, {"value", filler}, {"n", 1.5}});
  const std::string text = big.dump();
  ASSERT_GT(text.size(), kFastParseMaxBytes);
  ExpectSameAsNlohmann(text);
  // Right at the limit the fast path still runs and agrees.
  std::string at_limit = "[\"" + std::string(kFastParseMaxBytes - 4, 'y') + "\"]";
  ASSERT_EQ(at_limit.size(), kFastParseMaxBytes);
  ExpectSameAsNlohmann(at_limit);
}

TEST(JsonTextTest, AParserReusedAfterAnErrorStillParses) {
  EXPECT_THROW(ParseJsonText("{\"a\":"), json::parse_error);
  EXPECT_EQ(ParseJsonText("{\"a\":[1,2]}"), json::parse("{\"a\":[1,2]}"));
}

TEST(JsonTextTest, ReleaseJsonDomLeavesNullAndTouchesNothingElse) {
  const json original = ParseJsonText(bench::RepresentativeReview());
  json dom = original;
  ReleaseJsonDom(dom);
  EXPECT_TRUE(dom.is_null());
  EXPECT_TRUE(SameTyped(original, ParseJsonTextSlowPath(bench::RepresentativeReview())));
  // Nesting at the admission depth limit (64), scalars and empty containers.
  std::string deep;
  for (int i = 0; i < 32; ++i) deep += "[{\"k\":";
  deep += "\"leaf\"";
  for (int i = 0; i < 32; ++i) deep += "}]";
  for (std::string_view text : {std::string_view(deep), std::string_view("[]"), std::string_view("{}"),
                                std::string_view("\"s\""), std::string_view("1")}) {
    json value = ParseJsonText(text);
    ReleaseJsonDom(value);
    EXPECT_TRUE(value.is_null()) << text.substr(0, 20);
  }
}

}  // namespace
}  // namespace pipeguard::webhook
