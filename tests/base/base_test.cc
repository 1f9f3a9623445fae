// The ground floor: the JSON depth guard and bounded parse, base64, and PIPEGUARD_RETURN_IF_ERROR.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pipeguard/base/base64.h"
#include "pipeguard/base/json.h"
#include "pipeguard/base/json_writer.h"
#include "pipeguard/base/status.h"
#include "pipeguard/base/thread_cpu.h"
#include "pipeguard/base/time.h"

namespace pipeguard::base {
namespace {

TEST(MeasureJson, CountsNestingOutsideStringsOnly) {
  EXPECT_EQ(MeasureJson(R"({"a":[1,{"b":[]}]})", 64).max_depth, 4);
  EXPECT_EQ(MeasureJson(R"({"a":"[[[[\"[[["})", 64).max_depth, 1);
  EXPECT_EQ(MeasureJson("", 64).max_depth, 0);
  // Stops as soon as the limit is passed: the depth reported is limit + 1.
  EXPECT_EQ(MeasureJson(std::string(10000, '['), 64).max_depth, 65);
}

TEST(MeasureJson, EstimatesValuesFromContainersAndSeparators) {
  EXPECT_EQ(MeasureJson("[1,2,3]", 64).values, 4u);  // one container, two commas, plus one
  EXPECT_EQ(MeasureJson(R"(["a,b,c"])", 64).values, 2u);
}

// The byte-at-a-time state machine MeasureJson had before it jumped between quotes: the reference it must agree
// with on every input, valid JSON or not.
JsonShape MeasureJsonByteByByte(std::string_view text, int depth_limit) {
  int depth = 0, max_depth = 0;
  size_t values = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') {
      ++values;
      if (++depth > max_depth && (max_depth = depth) > depth_limit) return {max_depth, values};
    }
    if (c == '}' || c == ']') --depth;
    if (c == ',') ++values;
  }
  return {max_depth, values};
}

TEST(MeasureJson, AgreesWithTheByteByByteScanOnRandomText) {
  // Quotes, runs of backslashes and structure in every order, including unterminated strings.
  const std::string alphabet = "\"\\\\[]{},a ";
  uint64_t state = 0x9e3779b97f4a7c15u;
  auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string text(next() % 48, ' ');
    for (char& c : text) c = alphabet[next() % alphabet.size()];
    for (int limit : {2, 64}) {
      const JsonShape want = MeasureJsonByteByByte(text, limit), got = MeasureJson(text, limit);
      ASSERT_EQ(got.max_depth, want.max_depth) << text;
      ASSERT_EQ(got.values, want.values) << text;
    }
  }
  EXPECT_EQ(MeasureJson(R"(["\\",[[]]])", 64).max_depth, 3);    // an escaped backslash, then the quote closes
  EXPECT_EQ(MeasureJson(R"(["\\\"[[",[]])", 64).max_depth, 2);  // an odd run: the quote is escaped
}

std::string Written(const std::function<void(JsonWriter&)>& write) {
  std::string text;
  JsonWriter writer(text);
  write(writer);
  return text;
}

TEST(JsonWriter, PlacesCommasAndNestsLikeADump) {
  const std::string text = Written([](JsonWriter& out) {
    out.BeginObject().Member("a", 1).Key("b").BeginArray().BeginArray().EndArray();
    out.BeginObject().EndObject().Null().Bool(false).EndArray();
    out.Member("c", "x").Key("d").StringArray(std::vector<std::string>{"p", "q"});
    out.Member("e", int64_t{-9223372036854775807 - 1}).Member("f", uint64_t{18446744073709551615u}).EndObject();
  });
  EXPECT_EQ(text, R"({"a":1,"b":[[],{},null,false],"c":"x","d":["p","q"],"e":-9223372036854775808,)"
                  R"("f":18446744073709551615})");
}

TEST(JsonWriter, DoublesReadBackAndNonFiniteIsNull) {
  for (double value : {0.0, 0.001, 1.5, 123.456, 1e300, -2.5e-10}) {
    const auto parsed = nlohmann::json::parse(Written([&](JsonWriter& out) { out.Double(value); }));
    EXPECT_EQ(parsed.get<double>(), value);
  }
  EXPECT_EQ(Written([](JsonWriter& out) { out.BeginArray().Double(std::nan("")).Double(HUGE_VAL).EndArray(); }),
            "[null,null]");
}

TEST(JsonWriter, EscapesStringsExactlyAsNlohmannDumpsValidUtf8) {
  // Every ASCII byte, quotes and backslashes in runs, multi-byte characters of each length, and plain text with
  // and without an escape after it (the writer copies a plain string in one piece).
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  for (const std::string& value :
       {every_ascii, std::string(R"(a"b\\c\"d)"), std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91"),
        std::string("\xEF\xBF\xBF\xF4\x8F\xBF\xBF"), std::string("all plain ~ printable ASCII 0-9"),
        std::string("a plain run, then the one byte to escape\n"), std::string()}) {
    EXPECT_EQ(Written([&](JsonWriter& out) { out.String(value); }), nlohmann::json(value).dump()) << value;
    EXPECT_EQ(Written([&](JsonWriter& out) { out.BeginObject().Member(value, value).EndObject(); }),
              (nlohmann::json{{value, value}}).dump());
  }
}

TEST(JsonWriter, FindsTheByteToEscapeAtEveryOffsetOfAWord) {
  // The writer tests 8 bytes at a time: each byte class at each offset of two words, next to its neighbours.
  for (const std::string& special :
       {std::string(1, '\0'), std::string("\x1f"), std::string(" "), std::string("!"), std::string("\""),
        std::string("#"), std::string("\\"), std::string("]"), std::string("\x7f"), std::string("\xC3\xA9")}) {
    for (size_t at = 0; at < 17; ++at) {
      std::string value(18, 'p');
      value.replace(at, 1, special);
      EXPECT_EQ(Written([&](JsonWriter& out) { out.String(value); }), nlohmann::json(value).dump()) << at;
    }
  }
}

TEST(JsonWriter, ReplacesEachByteOutsideWellFormedUtf8) {
  const std::string fffd = "\xEF\xBF\xBD";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\xC3(b", "a" + fffd + "(b"},                   // a lead byte without its continuation
      {"\xC0\xAF", fffd + fffd},                        // overlong '/'
      {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"ok\xE2\x82", "ok" + fffd + fffd},               // truncated at the end
      {"\x80\xBF\xFF", fffd + fffd + fffd},             // stray continuations and a byte never used
  };
  for (const auto& [input, want] : cases) {
    const std::string text = Written([&](JsonWriter& out) { out.String(input); });
    EXPECT_EQ(text, "\"" + want + "\"");
    EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), want);  // valid UTF-8 and valid JSON
  }
}

TEST(ParseJson, RefusesDeepNestingBeforeParsingAndNamesTheInput) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  auto parsed = ParseJson(deep, "registry response", 64);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "registry response nests deeper than 64 levels");
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']'), "x", 64).ok());
}

TEST(ParseJson, ErrorsGiveTheOffsetAndNeverQuoteTheText) {
  auto bad = ParseJson(R"({"password":"hunter2" oops})", "bundle", 32);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bundle is not valid JSON (byte "), std::string::npos);
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos);
  auto huge = ParseJson("[1e400]", "bundle", 32);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("too large"), std::string::npos);
  EXPECT_EQ((*ParseJson(R"({"a":[1,2]})", "x", 32))["a"][1], 2);
}

TEST(Base64, RoundTripsAndIsStrict) {
  for (std::string bytes :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("\x00\xff\x10", 3)}) {
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(Base64Decode(encoded), bytes);
  }
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zm8"), "fo");                // padding optional
  EXPECT_EQ(Base64Decode("-_8="), "\xfb\xff");         // URL-safe alphabet
  EXPECT_EQ(Base64Decode("Zm9v YmFy"), std::nullopt);  // whitespace
  EXPECT_EQ(Base64Decode("Zg="), std::nullopt);        // padding that does not complete a quantum
  EXPECT_EQ(Base64Decode("Z"), std::nullopt);          // a length no encoder writes
  EXPECT_EQ(Base64Decode("Zh=="), std::nullopt);       // non-zero trailing bits
  EXPECT_EQ(Base64Decode("+-=="), std::nullopt);       // mixed alphabets
}

Status FailsWhen(bool fail, int& reached) {
  PIPEGUARD_RETURN_IF_ERROR(fail ? Status::InvalidArgument("first") : Status::Ok());
  ++reached;
  return Status::Ok();
}

TEST(CpuBudgetExhausted, CountsTheThreadsCpuNotTheWallClockAndHonoursTheDeadline) {
  using namespace std::chrono_literals;
  const auto sleeping = CpuBudgetExhausted(20ms);
  std::this_thread::sleep_for(60ms);  // wall time passes, CPU time hardly
  EXPECT_FALSE(sleeping());

  const auto spinning = CpuBudgetExhausted(20ms);
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  volatile uint64_t work = 0;
  while (!spinning() && std::chrono::steady_clock::now() < give_up) work = work + 1;
  EXPECT_TRUE(spinning());
  EXPECT_GE(ThreadCpuTime(), 20ms);

  EXPECT_TRUE(CpuBudgetExhausted(1h, std::chrono::steady_clock::now() - 1ms)());
  EXPECT_FALSE(CpuBudgetExhausted(1h, std::chrono::steady_clock::now() + 1h)());
}

TEST(ReturnIfError, ReturnsTheFirstErrorAndContinuesOnOk) {
  int reached = 0;
  EXPECT_EQ(FailsWhen(true, reached).message(), "first");
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(FailsWhen(false, reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(ParseTimestamp, ReadsRfc3339WithZonesAndFractions) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_EQ(ParseTimestamp("2026-12-01T10:00:00.123456z"), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01T12:00:00+02:00"), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01T05:30:00-04:30"), 1796119200);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -1);
}

TEST(ParseTimestamp, RefusesOutOfRangeFieldsTrailingTextAndMissingZones) {
  for (const char* text :
       {"2026-13-01T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T10:00:00Zjunk", "2026-12-01T10:00:00",
        "2026-12-01 10:00:00Z", "2026-12-01T10:00:00+0200", "yesterday", ""}) {
    EXPECT_EQ(ParseTimestamp(text), std::nullopt) << text;
  }
}

TEST(ParseTimestamp, TheLenientFormAlsoReadsLogLinesAsUtc) {
  constexpr auto kLenient = TimestampForm::kRfc3339OrUtcWithoutZone;
  EXPECT_EQ(ParseTimestamp("2026-12-01 10:00:00", kLenient), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01 10:00:00.123", kLenient), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01T12:00:00+02:00", kLenient), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01 10:00:00 junk", kLenient), std::nullopt);
}

TEST(FormatTimestamp, WritesUtcSecondsThatParseTimestampReadsBack) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1709164800), "2024-02-29T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1796119200), "2026-12-01T10:00:00Z");
  for (const std::int64_t t : {std::int64_t{-86400}, std::int64_t{951782399}, std::int64_t{4102444799}}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(t)), t) << FormatTimestamp(t);
  }
}

}  // namespace
}  // namespace pipeguard::base
