// JsonRef (policy/json_ref.h): the same reading of a JSON text through nlohmann's DOM and through simdjson's, and
// the same verdict from the engine for every object of the engine case tables and the benchmarks read either way.
#include "pipeguard/policy/json_ref.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/policy/engine.h"
#include "representative_pod.h"
#include "test_util.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

// One JSON text read both ways: nlohmann's parse and simdjson's DOM (which the parser owns).
struct BothWays {
  explicit BothWays(std::string text) : text(std::move(text)), nlohmann_dom(json::parse(this->text)) {
    simdjson::dom::element root;
    const auto error = parser.parse(this->text).get(root);
    EXPECT_EQ(error, simdjson::SUCCESS) << this->text;
    simd = JsonRef::FromSimdjson(root);
  }
  std::string text;
  json nlohmann_dom;
  simdjson::dom::parser parser;
  JsonRef simd;
  JsonRef nlohmann() const { return nlohmann_dom; }
};

// Everything JsonRef says about `value`, recursively, as one text.
std::string Describe(JsonRef value) {
  switch (value.type()) {
    case JsonRef::Type::kAbsent:
      return "absent";
    case JsonRef::Type::kNull:
      return "null";
    case JsonRef::Type::kBoolean:
      return value.boolean() ? "true" : "false";
    case JsonRef::Type::kNumber:
      return "number";
    case JsonRef::Type::kString:
      return "\"" + std::string(value.string()) + "\"";
    case JsonRef::Type::kArray: {
      std::string out = "[" + std::to_string(value.size()) + (value.empty() ? " empty:" : ":");
      value.ForEachElement([&](size_t i, JsonRef e) { out += std::to_string(i) + "=" + Describe(e) + ","; });
      return out + "]";
    }
    case JsonRef::Type::kObject: {
      std::string out = value.empty() ? "{empty:" : "{";
      value.ForEachMember([&](std::string_view k, JsonRef v) {
        out += std::string(k) + "=" + Describe(v) + "|find=" + Describe(value.Find(k)) + ",";
      });
      return out + "}";
    }
    case JsonRef::Type::kOther:
      return "other";
  }
  return "?";
}

TEST(JsonRef, AbsentIsNothing) {
  const JsonRef absent;
  EXPECT_FALSE(absent.present());
  EXPECT_FALSE(absent.is_null());
  EXPECT_FALSE(absent.is_object());
  EXPECT_TRUE(absent.string().empty());
  EXPECT_FALSE(absent.Find("a").present());
  EXPECT_EQ(absent.size(), 0u);
  EXPECT_TRUE(absent.ToJson().is_null());
  EXPECT_FALSE(JsonRef::Of(nullptr).present());
}

TEST(JsonRef, ReadsTypesValuesAndMembersAlikeThroughBothDoms) {
  const char* texts[] = {
      "null",
      "true",
      "false",
      "0",
      "-3",
      "1.5e3",
      "18446744073709551615",
      R"("a\"b\u00e9")",
      "[]",
      "{}",
      R"([1, "x", null, [true], {"k": "v"}])",
      R"({"b": 1, "a": {"y": [], "x": {}}, "c": null, "": "empty key"})",
      R"({"z": "1", "y": "2", "x": "3"})",
      R"({"name": "A", "value": "x", "value": "postgresql://u:Secr3tPw@h/db"})",
      R"({"a": 1, "b": 2, "a": 3, "b": {"c": 4}, "a": "last"})",
      R"({"\u00e9": 1, "e": 2, "E": 3, "ab": 4, "a": 5})",
  };
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    BothWays both(text);
    EXPECT_EQ(Describe(both.simd), Describe(both.nlohmann()));
    EXPECT_EQ(both.simd.ToJson().dump(), both.nlohmann_dom.dump());
    EXPECT_EQ(both.nlohmann().ToJson(), both.nlohmann_dom);
    EXPECT_EQ(both.nlohmann().nlohmann(), &both.nlohmann_dom);
    EXPECT_EQ(both.simd.nlohmann(), nullptr);
  }
}

// Keys are compared by length and then by bytes, short ones with word loads: a key that differs from a member's
// name in any one byte (first, last, or any other; every length up to past the word sizes) is not that member.
TEST(JsonRef, FindMatchesKeysExactlyWhateverTheirLength) {
  for (size_t length = 0; length <= 40; ++length) {
    std::string name;
    for (size_t i = 0; i < length; ++i) name += static_cast<char>('a' + i % 26);
    json object = {{name, "hit"}, {name + "x", "longer"}};
    if (!name.empty()) object[name.substr(0, length - 1) + "_"] = "same length, last byte differs";
    BothWays both(object.dump());
    for (const JsonRef ref : {both.simd, both.nlohmann()}) {
      SCOPED_TRACE("length " + std::to_string(length) + (ref.nlohmann() ? " nlohmann" : " simdjson"));
      EXPECT_EQ(ref.Find(name).string(), "hit");
      EXPECT_EQ(ref.Members<2>({name + "x", name})[1].string(), "hit");
      for (size_t at = 0; at < length; ++at) {
        for (const char other : {'A', '\0', '\xff'}) {
          std::string near = name;
          near[at] = other;
          EXPECT_FALSE(ref.Find(near).present()) << "byte " << at;
          EXPECT_FALSE(ref.Members<1>({near})[0].present()) << "byte " << at;
        }
      }
      if (length > 0) {
        EXPECT_FALSE(ref.Find(std::string_view(name).substr(0, length - 1)).present());
      }
    }
  }
}

// simdjson's DOM keeps every duplicate key and its own lookup finds the first; nlohmann keeps the last. A secret
// in a later duplicate must be seen exactly as nlohmann sees it (the API server decodes the same way).
TEST(JsonRef, DuplicateKeysTheLastWinsAsInNlohmann) {
  struct Case {
    const char* text;
    const char* pointer;  // of the value to compare, read member by member
  };
  const Case cases[] = {
      {R"({"env":[{"name":"A","value":"x","value":"postgresql://u:Secr3tPw@h/db"}]})", "/env/0/value"},
      {R"({"env":[{"name":"A","value":"postgresql://u:Secr3tPw@h/db","value":"x"}]})", "/env/0/value"},
      {R"({"spec":{"containers":[]},"spec":{"containers":[{"name":"c","image":"i"}]}})", "/spec/containers/0/image"},
      {R"({"kind":"ConfigMap","kind":"Pod"})", "/kind"},
      {R"({"metadata":{"labels":{"a":"1"},"labels":"not a map"}})", "/metadata/labels"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    BothWays both(c.text);
    JsonRef simd = both.simd;
    JsonRef nl = both.nlohmann();
    const std::string pointer = c.pointer;
    size_t at = 1;
    while (at <= pointer.size()) {
      const size_t end = std::min(pointer.find('/', at), pointer.size());
      const std::string token = pointer.substr(at, end - at);
      if (simd.is_array()) {
        const size_t index = std::stoul(token);
        JsonRef s, n;
        simd.ForEachElement([&](size_t i, JsonRef e) { s = i == index ? e : s; });
        nl.ForEachElement([&](size_t i, JsonRef e) { n = i == index ? e : n; });
        simd = s;
        nl = n;
      } else {
        simd = simd.Find(token);
        nl = nl.Find(token);
      }
      at = end + 1;
    }
    EXPECT_EQ(Describe(simd), Describe(nl));
    EXPECT_EQ(simd.ToJson(), both.nlohmann_dom.at(json::json_pointer(pointer)));
    // Members<N> agrees with Find, and member iteration visits each key once (the last).
    const JsonRef root = both.simd;
    root.ForEachMember([&](std::string_view key, JsonRef value) {
      EXPECT_EQ(Describe(value), Describe(both.nlohmann().Find(key)));
      EXPECT_EQ(Describe(root.Members<1>({key})[0]), Describe(value));
    });
  }
}

// --- The engine through both DOMs -------------------------------------------------------------------------------

// `value` as JSON text with every object's members in reverse order (nlohmann writes them sorted): the same value
// for json::parse, but simdjson's DOM then holds them unsorted, which JsonRef must iterate as nlohmann does.
std::string DumpReversed(const json& value) {
  if (value.is_object()) {
    std::string out = "{";
    const auto& members = value.get_ref<const json::object_t&>();
    for (auto it = members.rbegin(); it != members.rend(); ++it) {
      if (out.size() > 1) out += ",";
      out += json(it->first).dump() + ":" + DumpReversed(it->second);
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (const auto& item : value) {
      if (out.size() > 1) out += ",";
      out += DumpReversed(item);
    }
    return out + "]";
  }
  return value.dump();
}

// Everything of a review and its verdict that a caller sees, in order.
std::string DescribeVerdict(const Review& review, const Verdict& verdict) {
  std::string out = "governed=" + std::to_string(review.governed()) + "/" + std::to_string(verdict.governed) +
                    " allowed=" + std::to_string(verdict.allowed) + " mode=" + std::string(ToString(verdict.mode)) +
                    " (" + verdict.mode_source + ")\n";
  for (const auto& check : review.image_checks()) out += "check " + check.path + " " + check.image + "\n";
  for (const auto& name : review.unresolved_config_maps()) out += "unresolved " + name + "\n";
  for (const auto& p : verdict.profiles) out += "profile " + p + "\n";
  if (verdict.break_glass_ticket) out += "ticket " + *verdict.break_glass_ticket + "\n";
  for (const auto& v : verdict.violations) {
    out += v.rule + " " + v.path + " " + std::string(ToString(v.severity)) + " blocking=" + std::to_string(v.blocking) +
           " waived=" + std::to_string(v.waived) + ": " + v.message + "\n";
  }
  out += "unlisted " + std::to_string(verdict.unlisted.count) + "\n";
  return out;
}

struct Judged {
  std::string nlohmann, simd, simd_reversed;
};

Judged JudgeBothWays(const json& object, const RequestInfo& request, const ContextSnapshot& snapshot,
                     const ConfigMapReaders& readers = {}) {
  const Engine engine;
  Judged out;
  {
    const Review review = PrepareReview(object, request, snapshot, {}, readers);
    out.nlohmann = DescribeVerdict(review, engine.Evaluate(review, nullptr));
  }
  for (const bool reversed : {false, true}) {
    const std::string text = reversed ? DumpReversed(object) : object.dump();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS);
    const Review review = PrepareReview(JsonRef::FromSimdjson(root), request, snapshot, {}, readers);
    (reversed ? out.simd_reversed : out.simd) = DescribeVerdict(review, engine.Evaluate(review, nullptr));
  }
  return out;
}

TEST(JsonRefEngine, EveryEngineCaseTableObjectGetsTheSameVerdictFromEitherDom) {
  const json fixtures = testing::LoadYamlFile(testing::DataPath("policy/data/engine/fixtures.yaml"));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(testing::DataPath("policy/data/engine"))) {
    if (entry.path().filename() != "fixtures.yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  size_t cases = 0;
  for (const auto& file : files) {
    const json doc = testing::LoadYamlFile(file.string());
    for (const json& body : doc.at("cases")) {
      SCOPED_TRACE(file.filename().string() + ": " + body.at("name").get<std::string>());
      auto config = ParseConfig(
          body.contains("config") ? body["config"].get<std::string>() : fixtures["base_config"].get<std::string>(),
          "case");
      ASSERT_TRUE(config.ok()) << config.status().message();
      ContextSnapshotBuilder builder(std::move(config).value());
      for (const auto& name : body.value("context", json::array())) {
        ASSERT_TRUE(builder.Add(fixtures["fixtures"][name.get<std::string>()]).ok());
      }
      for (const auto& config_map : body.value("configMaps", json::array())) {
        ASSERT_TRUE(builder.AddConfigMap(config_map));
      }
      const auto snapshot = std::move(builder).Build();
      const RequestInfo request = testing::CaseRequest(body, 1795694400);
      std::vector<ConfigMapRead> reads;
      for (const auto& reader : body.value("configMapReaders", json::array())) {
        for (auto& read : ConfigMapReadsOf(reader)) reads.push_back(std::move(read));
      }
      ConfigMapReaders readers;
      if (!reads.empty()) {
        readers = [reads](const std::string&, const std::string& name) {
          std::vector<ConfigMapReader> out;
          for (const auto& read : reads) {
            if (read.config_map == name) out.push_back(read.reader);
          }
          return out;
        };
      }
      const Judged judged = JudgeBothWays(body.at("object"), request, *snapshot, readers);
      EXPECT_EQ(judged.simd, judged.nlohmann);
      EXPECT_EQ(judged.simd_reversed, judged.nlohmann);
      ++cases;
    }
  }
  EXPECT_GT(cases, 100u);  // the tables were found and read
}

TEST(JsonRefEngine, BenchmarkAndMalformedObjectsGetTheSameVerdictFromEitherDom) {
  const auto snapshot = bench::RepresentativeSnapshot();
  RequestInfo request;
  request.namespace_ = "etl";
  request.operation = "CREATE";
  std::vector<std::pair<std::string, json>> objects = {
      {"representative pod", bench::RepresentativeKpoPod()},
      {"representative pod with mounts", bench::RepresentativeKpoPodWithMounts()},
      {"credentialed env", bench::GovernedPodWithEnv(bench::CredentialedUriEnv(50))},
  };
  const json pod = bench::RepresentativeKpoPod();
  auto variant = [&](const std::string& name, const std::function<void(json&)>& edit) {
    json copy = pod;
    edit(copy);
    objects.emplace_back(name, std::move(copy));
  };
  variant("containers as an object", [](json& p) { p["spec"]["containers"] = json::object({{"c", 1}}); });
  variant("env as an object", [](json& p) { p["spec"]["containers"][0]["env"] = json::object({{"A", "b"}}); });
  variant("spec as a string", [](json& p) { p["spec"] = "spec"; });
  variant("metadata as a list", [](json& p) { p["metadata"] = json::array({1, 2}); });
  variant("kind missing", [](json& p) { p.erase("kind"); });
  variant("labels with a number", [](json& p) { p["metadata"]["labels"]["n"] = 3; });
  variant("env value a number", [](json& p) { p["spec"]["containers"][0]["env"][0]["value"] = 7; });
  variant("null fields", [](json& p) {
    p["spec"]["initContainers"] = nullptr;
    p["metadata"]["annotations"] = nullptr;
  });
  for (const char* kind : {"Deployment", "Job", "StatefulSet"}) {
    variant(std::string(kind) + " template", [&](json& p) {
      json tmpl = {{"metadata", p["metadata"]}, {"spec", p["spec"]}};
      p = {{"apiVersion", "apps/v1"},
           {"kind", kind},
           {"metadata", {{"name", "w"}, {"namespace", "etl"}}},
           {"spec", {{"template", tmpl}}}};
    });
  }
  variant("CronJob template", [&](json& p) {
    json tmpl = {{"metadata", p["metadata"]}, {"spec", p["spec"]}};
    p = {{"apiVersion", "batch/v1"},
         {"kind", "CronJob"},
         {"metadata", {{"name", "w"}, {"namespace", "etl"}}},
         {"spec", {{"jobTemplate", {{"spec", {{"template", tmpl}}}}}}}};
  });
  variant("SparkApplication", [&](json& p) {
    p = {{"apiVersion", "sparkoperator.k8s.io/v1beta2"},
         {"kind", "SparkApplication"},
         {"metadata", {{"name", "s"}, {"namespace", "etl"}, {"labels", p["metadata"]["labels"]}}},
         {"spec",
          {{"image", "registry.example.com/spark:3"},
           {"sparkConf", {{"spark.hadoop.fs.s3a.secret.key", "AKIAxxSecr3tKeyValue0123"}, {"spark.a", 1}}},
           {"arguments", {"--password", "hunter2hunter2", 3}},
           {"driver", {{"env", p["spec"]["containers"][0]["env"]}, {"envVars", {{"DB_PASSWORD", "Secr3tPw!x"}}}}},
           {"executor", "not an object"}}}};
  });
  for (const auto& [name, object] : objects) {
    SCOPED_TRACE(name);
    const Judged judged = JudgeBothWays(object, request, *snapshot);
    EXPECT_EQ(judged.simd, judged.nlohmann);
    EXPECT_EQ(judged.simd_reversed, judged.nlohmann);
  }
}

// A secret in a later duplicate key is judged as nlohmann (and the API server) reads it; one in an earlier
// duplicate is not there at all.
TEST(JsonRefEngine, DuplicateKeysAreJudgedAsTheLastOne) {
  const auto snapshot = bench::RepresentativeSnapshot();
  RequestInfo request;
  request.namespace_ = "etl";
  request.operation = "CREATE";
  json pod = bench::RepresentativeKpoPod();
  pod["spec"]["containers"][0]["env"] = json::array({{{"name", "A"}, {"value", "MARKER"}}});
  const std::string text = pod.dump();
  const std::string marker = R"("value":"MARKER")";
  ASSERT_NE(text.find(marker), std::string::npos);
  for (const std::string& replacement : {std::string(R"("value":"x","value":"postgresql://u:Secr3tPw@h/db")"),
                                         std::string(R"("value":"postgresql://u:Secr3tPw@h/db","value":"x")")}) {
    SCOPED_TRACE(replacement);
    std::string duplicated = text;
    duplicated.replace(duplicated.find(marker), marker.size(), replacement);
    const json parsed = json::parse(duplicated);
    const Engine engine;
    const Review by_nlohmann = PrepareReview(parsed, request, *snapshot);
    const std::string expected = DescribeVerdict(by_nlohmann, engine.Evaluate(by_nlohmann, nullptr));
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(duplicated).get(root), simdjson::SUCCESS);
    const Review by_simdjson = PrepareReview(JsonRef::FromSimdjson(root), request, *snapshot);
    EXPECT_EQ(DescribeVerdict(by_simdjson, engine.Evaluate(by_simdjson, nullptr)), expected);
    const bool secret_last = replacement.rfind("Secr3tPw") > replacement.find("\"x\"");
    EXPECT_EQ(expected.find("/spec/containers/0/env/0/value") != std::string::npos, secret_last) << expected;
  }
}

}  // namespace
}  // namespace pipeguard::policy
