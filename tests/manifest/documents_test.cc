#include "pipeguard/manifest/documents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace pipeguard::manifest {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kData = std::string(PIPEGUARD_TEST_DATA) + "/manifest/data";

std::vector<Document> MustParse(std::string_view text, const std::string& file = "in.yaml") {
  auto documents = ParseDocuments(text, file);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  return documents.ok() ? *documents : std::vector<Document>{};
}

std::string ParseError(std::string_view text, const std::string& file = "in.yaml", const LoadLimits& limits = {}) {
  auto documents = ParseDocuments(text, file, limits);
  EXPECT_FALSE(documents.ok()) << "expected an error for: " << text.substr(0, 200);
  return documents.ok() ? std::string() : documents.status().message();
}

// A fresh directory under the build's temp area, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("pipeguard-manifest-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& relative, std::string_view content) const {
    const auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ParseDocuments, MultiDocumentYamlKeepsStartLines) {
  auto documents = LoadPath(kData + "/multi.yaml");
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 3u);
  EXPECT_EQ((*documents)[0].object["kind"], "Namespace");
  EXPECT_EQ((*documents)[0].line, 2);
  EXPECT_EQ((*documents)[1].object["kind"], "ServiceAccount");
  EXPECT_EQ((*documents)[1].line, 9);
  EXPECT_EQ((*documents)[2].object["kind"], "ConfigMap");
  EXPECT_EQ((*documents)[2].line, 15);
  for (const auto& d : *documents) EXPECT_EQ(d.file, kData + "/multi.yaml");
}

TEST(ParseDocuments, PlainScalarsResolveLikeKubernetesQuotedOnesStayStrings) {
  auto documents = LoadPath(kData + "/multi.yaml");
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  const json& data = (*documents)[2].object["data"];
  EXPECT_EQ(data["quoted_true"], json("True"));  // the KPO label form
  EXPECT_EQ(data["plain_true"], json(true));
  EXPECT_EQ(data["yes_word"], json(true));  // YAML 1.1, as sigs.k8s.io/yaml reads it
  EXPECT_EQ(data["file_mode"], json(420));  // 0644 octal
  EXPECT_EQ(data["quoted_mode"], json("0644"));
  EXPECT_TRUE(data["version"].is_number_float());
  EXPECT_DOUBLE_EQ(data["version"].get<double>(), 1.1);
  EXPECT_TRUE(data["nothing"].is_null());
  EXPECT_EQ(data["when"], json("2024-05-01"));  // timestamps stay strings
  EXPECT_EQ(data["infinity"], json(".inf"));    // JSON has no infinity
  EXPECT_EQ(data["literal"], json("line one\nline two\n"));
}

struct ScalarCase {
  std::string yaml;
  json expected;
};

class ScalarResolution : public ::testing::TestWithParam<ScalarCase> {};

TEST_P(ScalarResolution, MatchesYaml11) {
  const auto documents = MustParse("v: " + GetParam().yaml + "\n");
  ASSERT_EQ(documents.size(), 1u);
  const json& v = documents[0].object["v"];
  EXPECT_EQ(v, GetParam().expected) << GetParam().yaml << " became " << v.dump();
  EXPECT_EQ(v.type(), GetParam().expected.type()) << GetParam().yaml;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScalarResolution,
    ::testing::Values(ScalarCase{"true", true}, ScalarCase{"TRUE", true}, ScalarCase{"on", true},
                      ScalarCase{"Off", false}, ScalarCase{"n", false}, ScalarCase{"\"true\"", "true"},
                      ScalarCase{"'no'", "no"}, ScalarCase{"!!str yes", "yes"}, ScalarCase{"tRUE", "tRUE"},
                      ScalarCase{"42", 42}, ScalarCase{"-17", -17}, ScalarCase{"+5", 5}, ScalarCase{"0x1F", 31},
                      ScalarCase{"0o17", 15}, ScalarCase{"0b101", 5}, ScalarCase{"1_000", 1000},
                      ScalarCase{"18446744073709551615", json(18446744073709551615ull)}, ScalarCase{"1e3", 1000.0},
                      ScalarCase{".5", 0.5}, ScalarCase{"-2.5e-1", -0.25}, ScalarCase{"08", 8.0},
                      ScalarCase{"\"42\"", "42"}, ScalarCase{"'3.14'", "3.14"}, ScalarCase{"~", nullptr},
                      ScalarCase{"null", nullptr}, ScalarCase{"\"null\"", "null"}, ScalarCase{"", nullptr},
                      ScalarCase{"!!int \"7\"", 7}, ScalarCase{"1.2.3", "1.2.3"}, ScalarCase{"12:30", "12:30"},
                      ScalarCase{"0x", "0x"}, ScalarCase{".nan", ".nan"}, ScalarCase{"1e999", "1e999"},
                      ScalarCase{"-9223372036854775808", json(INT64_MIN)},
                      ScalarCase{"postgres://etl@db:5432/x", "postgres://etl@db:5432/x"}));

TEST(ParseDocuments, HelmTemplateOutputLoadsAsIs) {
  auto documents = LoadPath(kData + "/helm-template.yaml");
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 3u);  // the comment-only document is skipped
  EXPECT_EQ((*documents)[0].object["kind"], "ServiceAccount");
  EXPECT_EQ((*documents)[0].line, 3);
  EXPECT_EQ((*documents)[0].object["automountServiceAccountToken"], json(false));
  EXPECT_EQ((*documents)[1].object["kind"], "ConfigMap");
  EXPECT_EQ((*documents)[1].line, 17);
  EXPECT_EQ((*documents)[2].object["kind"], "Deployment");
  EXPECT_EQ((*documents)[2].line, 27);
  EXPECT_EQ((*documents)[2].object["spec"]["template"]["spec"]["containers"][0]["image"],
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ledger/stream-consumer:2.7.1");
}

TEST(ParseDocuments, KubectlGetListIsOneDocumentWithItems) {
  auto documents = LoadPath(kData + "/kubectl-list.yaml");
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 1u);
  const json& list = (*documents)[0].object;
  EXPECT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["metadata"]["labels"]["kubernetes_pod_operator"], json("True"));
  EXPECT_EQ(list["items"][0]["metadata"]["labels"]["try_number"], json("1"));
  EXPECT_EQ(list["metadata"]["resourceVersion"], json(""));
}

TEST(ParseDocuments, JsonStreamWithLinesAndUnicodeEscapes) {
  auto documents = LoadPath(kData + "/stream.json");
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 3u);
  EXPECT_EQ((*documents)[0].line, 1);
  EXPECT_EQ((*documents)[1].line, 6);
  EXPECT_EQ((*documents)[2].line, 8);
  EXPECT_EQ((*documents)[2].object["kind"], "List");
  EXPECT_EQ((*documents)[2].object["items"][0]["data"]["k"], "v\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_TRUE((*documents)[2].object["items"][1]["binaryData"].is_object());
}

TEST(ParseDocuments, JsonNumbers) {
  EXPECT_THAT(ParseError(R"({"big": 1e400})", "x.json"), HasSubstr("x.json:1:9: invalid JSON: number out of range"));
  const auto ok = MustParse(R"({"i": -3, "u": 18446744073709551615, "f": 2.5e3, "tiny": 1e-400, "z": 0})", "x.json");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].object["i"], -3);
  EXPECT_EQ(ok[0].object["u"], json(18446744073709551615ull));
  EXPECT_DOUBLE_EQ(ok[0].object["f"].get<double>(), 2500.0);
  EXPECT_DOUBLE_EQ(ok[0].object["tiny"].get<double>(), 0.0);
  EXPECT_TRUE(ok[0].object["z"].is_number_integer());
}

TEST(ParseDocuments, YamlFlowMappingStartingWithBraceIsYaml) {
  const auto documents = MustParse("{apiVersion: v1, kind: Namespace, metadata: {name: x}}\n");
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].object["metadata"]["name"], "x");
}

TEST(ParseDocuments, MergeKeysFillInMissingKeys) {
  const auto documents = MustParse(
      "defaults: &d {image: a, pull: Always}\n"
      "other: &o {image: b, extra: 1}\n"
      "c:\n  <<: [*d, *o]\n  pull: Never\n");
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].object["c"], json({{"image", "a"}, {"pull", "Never"}, {"extra", 1}}));
}

TEST(ParseDocuments, EmptyInputsHaveNoDocuments) {
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("\n\n# only a comment\n---\n---\n").empty());
  EXPECT_TRUE(MustParse("   \n", "x.json").empty());
}

TEST(ParseDocuments, ByteOrderMarkAndCrlfAreAccepted) {
  const auto documents = MustParse("\xEF\xBB\xBFkind: A\r\n---\r\nkind: B\r\n");
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].object["kind"], "A");
  EXPECT_EQ(documents[1].object["kind"], "B");
  EXPECT_EQ(documents[1].line, 3);
}

TEST(ParseDocuments, MalformedYamlNamesFileLineAndColumn) {
  auto documents = LoadPath(kData + "/malformed.yaml");
  ASSERT_FALSE(documents.ok());
  EXPECT_EQ(documents.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(documents.status().message(), StartsWith(kData + "/malformed.yaml:8:"));
  EXPECT_THAT(documents.status().message(), HasSubstr("invalid YAML"));
  EXPECT_THAT(documents.status().message(), HasSubstr("("));  // carries a hint
}

TEST(ParseDocuments, MalformedJsonNamesLineAndNeverQuotesTheInput) {
  const std::string secret = "Sup3r-S3cret-Passw0rd!";
  const std::string message = ParseError("{\n  \"password\": \"" + secret + "\" oops\n}\n", "db.json");
  EXPECT_THAT(message, StartsWith("db.json:2:"));
  EXPECT_THAT(message, HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(message, Not(HasSubstr(secret)));

  EXPECT_THAT(ParseError("{\"a\": \"unterminated\n", "x.json"), StartsWith("x.json:1:"));
  EXPECT_THAT(ParseError("{\"a\": tru}", "x.json"), HasSubstr("invalid literal"));
  EXPECT_THAT(ParseError("{\"a\": 01}", "x.json"), HasSubstr("x.json:1:"));
  EXPECT_THAT(ParseError("{\"a\": \"\\q\"}", "x.json"), HasSubstr("unknown escape"));
  EXPECT_THAT(ParseError("{\"a\": \"\\ud800\"}", "x.json"), HasSubstr("surrogate"));
}

TEST(ParseDocuments, DuplicateKeysAreRefusedWithTheirPosition) {
  EXPECT_THAT(ParseError("kind: Pod\nspec:\n  a: 1\n  a: 2\n"), StartsWith("in.yaml:4:3: duplicate key \"a\""));
  EXPECT_THAT(ParseError("{\"a\": 1,\n \"\\u0061\": 2}", "x.json"),
              StartsWith("x.json:2:2: invalid JSON: duplicate key"));
}

TEST(ParseDocuments, DocumentsMustBeMappings) {
  EXPECT_THAT(ParseError("kind: Pod\n---\n- a\n- b\n"), StartsWith("in.yaml:3:1: a document must be a mapping"));
  EXPECT_THAT(ParseError("just some text\n"), HasSubstr("found a string"));
  EXPECT_THAT(ParseError("[1, 2]", "x.json"), HasSubstr("found a list"));
  EXPECT_THAT(ParseError("{\"kind\": \"A\"} 7", "x.json"), HasSubstr("x.json:1:15"));
}

TEST(ParseDocuments, NestingDeeperThanTheLimitIsAnError) {
  LoadLimits limits;
  limits.max_depth = 8;
  std::string yaml = "a:";
  for (int i = 0; i < 8; ++i) yaml += " [";
  EXPECT_THAT(ParseError(yaml + std::string(8, ']') + "\n", "in.yaml", limits), HasSubstr("nesting deeper than 8"));

  std::string json_text = "{\"a\":";
  for (int i = 0; i < 8; ++i) json_text += "[";
  EXPECT_THAT(ParseError(json_text + std::string(8, ']') + "}", "x.json", limits), HasSubstr("nesting deeper than 8"));

  // Right at the limit is fine.
  std::string ok = "{\"a\":";
  for (int i = 0; i < 7; ++i) ok += "[";
  EXPECT_EQ(MustParse(ok + std::string(7, ']') + "}", "x.json").size(), 1u);
}

TEST(ParseDocuments, PathologicalNestingNeverOverflowsTheStack) {
  for (const std::string& open : {std::string("["), std::string("{a: "), std::string("- ")}) {
    std::string text = "a: ";
    for (int i = 0; i < 100000; ++i) text += open;
    auto documents = ParseDocuments(text, "deep.yaml");
    EXPECT_FALSE(documents.ok()) << open;
  }
  auto documents = ParseDocuments(std::string(200000, '['), "deep.json");
  ASSERT_FALSE(documents.ok());
  EXPECT_THAT(documents.status().message(), HasSubstr("nesting deeper than 64"));
}

TEST(ParseDocuments, SelfReferencingAliasIsAnErrorNotARecursion) {
  EXPECT_THAT(ParseError("a: &x [1, *x]\n"),
              StartsWith("in.yaml:1:11: this alias refers to the collection that contains it"));
}

TEST(ParseDocuments, AliasExpansionBombIsRefused) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", " : "") + prev;
    bomb += "]\n";
  }
  EXPECT_THAT(ParseError(bomb), HasSubstr("aliases expand"));
}

TEST(ParseDocuments, InputOverTheSizeLimitIsRefused) {
  LoadLimits limits;
  limits.max_file_bytes = 64;
  const std::string text = "kind: ConfigMap\ndata:\n  k: " + std::string(100, 'v') + "\n";
  EXPECT_THAT(ParseError(text, "big.yaml", limits), HasSubstr("big.yaml: larger than the limit of 64 bytes"));

  TempDir dir;
  const std::string file = dir.Write("big.yaml", text);
  auto loaded = LoadPath(file, limits);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr(file + ": larger than the limit"));
}

TEST(ParseDocuments, BinaryInputIsAnErrorNamingTheByte) {
  EXPECT_THAT(ParseError(std::string("kind: Pod\nx: a\0b\n", 17)), StartsWith("in.yaml:2:5: binary data"));
  EXPECT_THAT(ParseError("kind: \xC3\x28\n"), StartsWith("in.yaml:1:7: invalid UTF-8 byte 0xC3"));
  EXPECT_THAT(ParseError("\xFF\xFEk\0i\0n\0d\0"), HasSubstr("invalid UTF-8"));  // UTF-16
  EXPECT_THAT(ParseError("\xED\xA0\x80"), HasSubstr("invalid UTF-8"));          // an encoded surrogate
  EXPECT_THAT(ParseError("\xC0\xAF"), HasSubstr("invalid UTF-8"));              // overlong
}

TEST(ParseDocuments, RandomBytesNeverCrash) {
  std::mt19937 random(20240501);  // fixed seed: the same inputs every run
  std::uniform_int_distribution<int> byte(0, 255);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text(1 + round % 300, '\0');
    for (auto& c : text) c = static_cast<char>(byte(random));
    auto documents = ParseDocuments(text, "garbage.bin");
    if (!documents.ok()) {
      ++errors;
      EXPECT_THAT(documents.status().message(), StartsWith("garbage.bin"));
    }
  }
  EXPECT_GT(errors, 1900);  // random bytes are almost never valid UTF-8 text
}

TEST(ParseDocuments, RandomYamlishTextNeverCrashes) {
  // Text drawn from YAML and JSON syntax characters reaches deep into both parsers.
  static constexpr std::string_view kAlphabet = "{}[]:,-?&*!|>'\"#%@` \n\t\\aZ0.~<=";
  std::mt19937 random(7);
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  for (int round = 0; round < 3000; ++round) {
    std::string text(1 + round % 120, ' ');
    for (auto& c : text) c = kAlphabet[pick(random)];
    auto documents = ParseDocuments(text, "fuzz.yaml");
    if (documents.ok()) {
      for (const auto& d : *documents) EXPECT_TRUE(d.object.is_object());
    } else {
      EXPECT_THAT(documents.status().message(), StartsWith("fuzz.yaml"));
    }
  }
}

TEST(LoadPath, DirectoryIsReadRecursivelyInSortedOrderAndOnlyManifestExtensions) {
  TempDir dir;
  dir.Write("b.yaml", "kind: B\n");
  dir.Write("a/z.yml", "kind: AZ\n");
  dir.Write("a/c.json", "{\"kind\": \"AC\"}");
  dir.Write("a.yaml", "kind: A\n---\nkind: A2\n");
  dir.Write("notes.txt", "kind: ignored\n");
  dir.Write("chart/values.yaml.bak", "kind: ignored\n");
  dir.Write("c/d/e.yaml", "kind: CDE\n");
  auto documents = LoadPath(dir.path());
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  std::vector<std::string> kinds, files;
  for (const auto& d : *documents) {
    kinds.push_back(d.object["kind"]);
    files.push_back(d.file.substr(dir.path().size()));
  }
  EXPECT_THAT(kinds, ::testing::ElementsAre("AC", "AZ", "A", "A2", "B", "CDE"));
  EXPECT_THAT(files, ::testing::ElementsAre("/a/c.json", "/a/z.yml", "/a.yaml", "/a.yaml", "/b.yaml", "/c/d/e.yaml"));
  EXPECT_EQ((*documents)[3].line, 3);
}

TEST(LoadPath, MountedConfigMapDirectoryIsReadOnce) {
  // The kubelet's atomic writer: files live in ..<timestamp>/, ..data links to it, and each key is a top-level
  // link into ..data. Only the top-level links count; hidden entries (.git, editor files) are skipped too.
  TempDir dir;
  dir.Write("..2026_11_26_12_00_00.123/profiles.yaml", "kind: Profile\n");
  std::filesystem::create_directory_symlink("..2026_11_26_12_00_00.123", dir.path() + "/..data");
  std::filesystem::create_symlink("..data/profiles.yaml", dir.path() + "/profiles.yaml");
  dir.Write(".git/config.yaml", "kind: Ignored\n");
  dir.Write(".profiles.yaml.swp.yaml", "kind: Ignored\n");
  auto documents = LoadPath(dir.path());
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 1u);
  EXPECT_EQ((*documents)[0].object["kind"], "Profile");
  EXPECT_EQ((*documents)[0].file, dir.path() + "/profiles.yaml");
}

// Symbolic links below a directory: followed to files and directories; broken ones and loops are errors naming the
// link (LoadPath serves pipeguard scan and the webhook's file context, which must not read less than asked).
TEST(LoadPath, DirectoryWalkFollowsLinksAndRejectsBrokenOnesAndLoops) {
  TempDir dir;
  dir.Write("real/a.yaml", "kind: A\n");
  std::filesystem::create_directory_symlink("real", dir.path() + "/linked");
  auto documents = LoadPath(dir.path());
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 1u);  // real/ is reached twice and read once
  EXPECT_EQ((*documents)[0].file, dir.path() + "/linked/a.yaml");

  std::filesystem::create_symlink("gone.yaml", dir.path() + "/real/b.yaml");
  documents = LoadPath(dir.path());
  ASSERT_FALSE(documents.ok());
  EXPECT_EQ(documents.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(documents.status().message(), StartsWith(dir.path() + "/linked/b.yaml: broken symbolic link"));
  std::filesystem::remove(dir.path() + "/real/b.yaml");

  std::filesystem::create_directory_symlink("..", dir.path() + "/real/parent");
  documents = LoadPath(dir.path());
  ASSERT_FALSE(documents.ok());
  EXPECT_THAT(documents.status().message(), HasSubstr("/parent: symbolic link loop"));
}

TEST(LoadPath, ErrorInsideADirectoryNamesTheFile) {
  TempDir dir;
  dir.Write("ok.yaml", "kind: A\n");
  const std::string bad = dir.Write("sub/bad.yaml", "kind: A\nmetadata:\n  name: [unclosed\n");
  auto documents = LoadPath(dir.path());
  ASSERT_FALSE(documents.ok());
  EXPECT_THAT(documents.status().message(), StartsWith(bad + ":"));
}

TEST(LoadPath, MissingPathIsNotFound) {
  auto documents = LoadPath("/nonexistent/pipeguard/manifests.yaml");
  ASSERT_FALSE(documents.ok());
  EXPECT_EQ(documents.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(documents.status().message(), HasSubstr("/nonexistent/pipeguard/manifests.yaml: no such file"));
}

TEST(LoadPath, StandardInput) {
  std::istringstream input("kind: A\n---\nkind: B\n");
  auto* saved = std::cin.rdbuf(input.rdbuf());
  auto documents = LoadPath("-");
  std::cin.rdbuf(saved);
  std::cin.clear();
  ASSERT_TRUE(documents.ok()) << documents.status().message();
  ASSERT_EQ(documents->size(), 2u);
  EXPECT_EQ((*documents)[1].file, "-");
  EXPECT_EQ((*documents)[1].line, 3);
}

TEST(ReadFile, DirectoryAndMissingFileAreClearErrors) {
  TempDir dir;
  auto read = ReadFile(dir.path());
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("is a directory"));
  auto missing = ReadFile(dir.path() + "/nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto small = ReadFile(dir.Write("x.yaml", "0123456789"), 5);
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.status().message(), HasSubstr("larger than the limit of 5 bytes"));
  auto exact = ReadFile(dir.Write("y.yaml", "01234"), 5);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, "01234");
}

}  // namespace
}  // namespace pipeguard::manifest
