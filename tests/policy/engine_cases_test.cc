// Runs the engine case tables in tests/policy/data/engine/*.yaml (see governance.yaml for the format).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "pipeguard/policy/engine.h"
#include "test_util.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1795694400;  // 2026-11-26T12:00:00Z

struct EngineCase {
  std::string file;
  std::string name;
  json body;
};

void PrintTo(const EngineCase& c, std::ostream* os) { *os << c.file << ": " << c.name; }

std::vector<EngineCase> LoadCases() {
  std::vector<EngineCase> out;
  const auto dir = testing::DataPath("policy/data/engine");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() != "fixtures.yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const json doc = testing::LoadYamlFile(f.string());
    for (const auto& c : doc.at("cases")) out.push_back({f.filename().string(), c.at("name").get<std::string>(), c});
  }
  return out;
}

const json& Fixtures() {
  static const json fixtures = testing::LoadYamlFile(testing::DataPath("policy/data/engine/fixtures.yaml"));
  return fixtures;
}

std::set<std::string> Keys(const std::vector<Violation>& violations, bool (*keep)(const Violation&)) {
  std::set<std::string> out;
  for (const auto& v : violations) {
    if (keep(v)) out.insert(v.rule + " " + v.path);
  }
  return out;
}

std::set<std::string> StringSet(const json& body, const char* key) {
  std::set<std::string> out;
  if (body.contains(key)) {
    for (const auto& s : body[key]) out.insert(s.get<std::string>());
  }
  return out;
}

class EngineCaseTest : public ::testing::TestWithParam<EngineCase> {};

TEST_P(EngineCaseTest, MatchesExpectedVerdict) {
  const EngineCase& c = GetParam();
  const json& body = c.body;
  const std::string config_text =
      body.contains("config") ? body["config"].get<std::string>() : Fixtures()["base_config"].get<std::string>();
  auto config = ParseConfig(config_text, c.file);
  ASSERT_TRUE(config.ok()) << config.status().message();

  ContextSnapshotBuilder builder(std::move(config).value());
  if (body.contains("context")) {
    for (const auto& name : body["context"]) {
      ASSERT_TRUE(Fixtures()["fixtures"].contains(name.get<std::string>())) << "unknown fixture " << name;
      auto added = builder.Add(Fixtures()["fixtures"][name.get<std::string>()]);
      ASSERT_TRUE(added.ok()) << added.status().message();
    }
  }
  // ConfigMaps the cluster holds besides the object (mounted by governed pods).
  if (body.contains("configMaps")) {
    for (const auto& config_map : body["configMaps"]) ASSERT_TRUE(builder.AddConfigMap(config_map));
  }
  auto snapshot = std::move(builder).Build();

  const RequestInfo request = testing::CaseRequest(body, kNow);
  ImageVerdictLookup images;
  if (body.contains("imageVerdicts") || body.contains("scopedImageVerdicts")) {
    const json verdicts = body.value("imageVerdicts", json::object());
    const json scoped = body.value("scopedImageVerdicts", json::object());
    images = [verdicts, scoped](const std::string& image, const KeyScope& scope) -> std::optional<ImageVerdict> {
      const json* table = &verdicts;
      if (scope.restricted()) {
        std::string names;
        for (const auto& key : *scope.keys) names += (names.empty() ? "" : ",") + key;
        if (!scoped.contains(names)) return std::nullopt;
        table = &scoped[names];
      }
      if (!table->contains(image)) return std::nullopt;
      const json& v = (*table)[image];
      return ImageVerdict{v.value("verified", false), v.value("digest", ""), v.value("reason", ""),
                          v.value("signatureVerified", false)};
    };
  }

  // Objects that read ConfigMaps (created before the object under review), offered through a ConfigMapReaders
  // lookup that ignores the namespace asked for: the engine itself must disregard readers in other namespaces.
  ConfigMapReaders readers;
  if (body.contains("configMapReaders")) {
    std::vector<ConfigMapRead> reads;
    for (const auto& reader : body["configMapReaders"]) {
      for (auto& read : ConfigMapReadsOf(reader)) reads.push_back(std::move(read));
    }
    ASSERT_FALSE(reads.empty()) << "configMapReaders read no ConfigMap";
    readers = [reads](const std::string&, const std::string& name) {
      std::vector<ConfigMapReader> out;
      for (const auto& read : reads) {
        if (read.config_map == name) out.push_back(read.reader);
      }
      return out;
    };
  }

  const Engine engine;
  const Review review = PrepareReview(body.at("object"), request, *snapshot, {}, readers);
  const Verdict verdict = engine.Evaluate(review, images);
  const json& expect = body.at("expect");

  EXPECT_EQ(verdict.governed, expect.at("governed").get<bool>());
  EXPECT_EQ(verdict.allowed, expect.at("allowed").get<bool>());
  EXPECT_EQ(review.governed(), verdict.governed);
  if (!body.contains("configMapReaders")) {
    EXPECT_EQ(engine.Evaluate(body.at("object"), request, *snapshot, images).allowed, verdict.allowed);
  }
  if (expect.contains("unresolvedConfigMaps")) {
    EXPECT_EQ(PrepareReview(body.at("object"), request, *snapshot).unresolved_config_maps(),
              expect["unresolvedConfigMaps"].get<std::vector<std::string>>());
  }
  if (expect.contains("mode")) {
    EXPECT_EQ(ToString(verdict.mode), expect["mode"].get<std::string>());
  }
  if (expect.contains("modeSource")) {
    EXPECT_EQ(verdict.mode_source, expect["modeSource"].get<std::string>());
  }
  if (expect.contains("profiles")) {
    EXPECT_EQ(verdict.profiles, expect["profiles"].get<std::vector<std::string>>());
  }
  if (expect.contains("breakGlassTicket")) {
    EXPECT_EQ(verdict.break_glass_ticket.value_or(""), expect["breakGlassTicket"].get<std::string>());
  } else {
    EXPECT_FALSE(verdict.break_glass_ticket.has_value());
  }

  std::string all_messages;
  for (const auto& v : verdict.violations) {
    all_messages += v.rule + " " + v.path + ": " + v.message + "\n";
    EXPECT_FALSE(v.message.empty()) << v.rule << " " << v.path;
    EXPECT_EQ(v.path.front(), '/') << "not a JSON pointer: " << v.path;
  }
  EXPECT_EQ(Keys(verdict.violations, [](const Violation&) { return true; }), StringSet(expect, "violations"))
      << all_messages;
  EXPECT_EQ(Keys(verdict.violations, [](const Violation& v) { return v.waived; }), StringSet(expect, "waived"))
      << all_messages;
  if (expect.contains("nonBlocking")) {
    EXPECT_EQ(Keys(verdict.violations, [](const Violation& v) { return !v.blocking; }),
              StringSet(expect, "nonBlocking"))
        << all_messages;
  }
  for (const auto& needle : StringSet(expect, "messageContains")) {
    EXPECT_THAT(all_messages, ::testing::HasSubstr(needle));
  }
  for (const auto& secret : StringSet(expect, "secretsAbsent")) {
    EXPECT_THAT(all_messages, ::testing::Not(::testing::HasSubstr(secret)));
  }
}

std::string CaseName(const ::testing::TestParamInfo<EngineCase>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_" + std::to_string(info.index);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Tables, EngineCaseTest, ::testing::ValuesIn(LoadCases()), CaseName);

}  // namespace
}  // namespace pipeguard::policy
