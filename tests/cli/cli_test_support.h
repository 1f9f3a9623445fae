// Helpers for the CLI tests: running the command table in-process and the real binary as a subprocess, reading
// the bundled examples, and a small XML well-formedness checker for the JUnit output.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pipeguard::cli::testing {

inline const std::string kSourceDir = PIPEGUARD_SOURCE_DIR;
inline const std::string kExamples = kSourceDir + "/examples";
inline const std::string kConfig = kExamples + "/config.yaml";
inline const std::string kContext = kExamples + "/context";
inline const std::string kCliData = std::string(PIPEGUARD_TEST_DATA) + "/cli/data";

// Unix time the in-process runs use (2024-05-02T12:00:00Z).
inline constexpr long long kNow = 1714651200;

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `pipeguard ARGS...` through cli::Main with `input` as standard input.
CommandOutput RunInProcess(const std::vector<std::string>& args, const std::string& input = "",
                           bool out_is_terminal = false);

// Runs the built `pipeguard` binary (PIPEGUARD_CLI_BINARY) with `input` on standard input, from the source dir.
CommandOutput RunBinary(const std::vector<std::string>& args, const std::string& input = "");

// Sorted paths of the *.yaml files directly in a directory.
std::vector<std::string> YamlFilesIn(const std::string& dir);

std::string ReadText(const std::string& path);

// The rule named by a bad example's "# expect: denied by RULE" comment, or empty.
std::string ExpectedRule(const std::string& path);

// Secret values planted in examples/bad (each must appear in its file and in no output).
const std::vector<std::string>& PlantedSecrets();

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // values unescaped
  std::vector<XmlElement> children;
  std::string text;  // character data directly inside, unescaped

  std::vector<const XmlElement*> Children(const std::string& child_name) const;
};

// Parses an XML 1.0 document strictly enough to catch what a renderer can get wrong: nesting, quoting, entity
// and character references, characters XML forbids, duplicate attributes. Returns nullopt and sets `error`.
std::optional<XmlElement> ParseXml(const std::string& text, std::string* error);

}  // namespace pipeguard::cli::testing
