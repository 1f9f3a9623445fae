#include "cli_test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "pipeguard/cli/commands.h"

#ifndef PIPEGUARD_CLI_BINARY
#error "PIPEGUARD_CLI_BINARY is set by cli/CMakeLists.txt for cli_test"
#endif

namespace pipeguard::cli::testing {

CommandOutput RunInProcess(const std::vector<std::string>& args, const std::string& input, bool out_is_terminal) {
  std::istringstream in(input);
  std::ostringstream out, err;
  CommandIo io{in, out, err, out_is_terminal, [] { return static_cast<std::int64_t>(kNow); }};
  CommandOutput result;
  result.exit_code = Main(args, io);
  result.out = out.str();
  result.err = err.str();
  return result;
}

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

CommandOutput RunBinary(const std::vector<std::string>& args, const std::string& input) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pipeguard-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const auto in_path = dir / "stdin", out_path = dir / "stdout", err_path = dir / "stderr";
  std::ofstream(in_path, std::ios::binary) << input;
  std::string command = "cd " + ShellQuote(kSourceDir) + " && " + ShellQuote(PIPEGUARD_CLI_BINARY);
  for (const auto& a : args) command += " " + ShellQuote(a);
  command += " <" + ShellQuote(in_path.string()) + " >" + ShellQuote(out_path.string()) + " 2>" +
             ShellQuote(err_path.string());
  const int status = std::system(command.c_str());
  CommandOutput result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  result.out = ReadText(out_path.string());
  result.err = ReadText(err_path.string());
  std::filesystem::remove_all(dir);
  return result;
}

std::vector<std::string> YamlFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ExpectedRule(const std::string& path) {
  static const std::regex kExpect(R"(^# expect: denied by ([a-z-]+))");
  std::istringstream lines(ReadText(path));
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, kExpect)) return m[1];
  }
  return "";
}

const std::vector<std::string>& PlantedSecrets() {
  static const std::vector<std::string> kSecrets = {
      "Sup3r-S3cret-Passw0rd!",                    // airflow-env-password.yaml
      "Pg-Ledger-2024-Xq7v",                       // airflow-connection-uri.yaml
      "AKIAZ3MXQ7RWN2KXJ3VD",                      // spark-submit-conf-secret.yaml
      "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",  // spark-submit-conf-secret.yaml
      "Jdbc-Ledger-Pa55word",                      // spark-jdbc-password.yaml
      "Backfill-Hotfix-Pa55!",                     // break-glass-misuse.yaml
  };
  return kSecrets;
}

std::vector<const XmlElement*> XmlElement::Children(const std::string& child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

namespace {

class XmlParser {
 public:
  explicit XmlParser(const std::string& text) : s_(text) {}

  std::optional<XmlElement> Document(std::string* error) {
    if (!CheckChars()) return Error(error);
    if (s_.compare(0, 5, "<?xml") == 0) {
      const size_t end = s_.find("?>");
      if (end == std::string::npos) return Fail("unterminated XML declaration", error);
      pos_ = end + 2;
    }
    SkipMisc();
    XmlElement root;
    if (!Element(root)) return Error(error);
    SkipMisc();
    if (pos_ != s_.size()) return Fail("content after the root element", error);
    return root;
  }

 private:
  std::optional<XmlElement> Fail(const std::string& what, std::string* error) {
    error_ = what;
    return Error(error);
  }
  std::optional<XmlElement> Error(std::string* error) {
    if (error) *error = error_ + " at byte " + std::to_string(pos_);
    return std::nullopt;
  }
  bool Bad(const std::string& what) {
    error_ = what;
    return false;
  }

  // XML 1.0 Char: tab, LF, CR, and U+0020 and up (ill-formed UTF-8 rejected).
  bool CheckChars() {
    for (size_t i = 0; i < s_.size();) {
      const auto c = static_cast<unsigned char>(s_[i]);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        pos_ = i;
        return Bad("forbidden control character");
      }
      size_t n = c < 0x80                 ? 1
                 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
      if (n == 0 || i + n > s_.size()) {
        pos_ = i;
        return Bad("ill-formed UTF-8");
      }
      for (size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s_[i + k]) & 0xC0) != 0x80) {
          pos_ = i;
          return Bad("ill-formed UTF-8");
        }
      }
      i += n;
    }
    return true;
  }

  void SkipSpace() {
    while (pos_ < s_.size() && std::string_view(" \t\r\n").find(s_[pos_]) != std::string_view::npos) ++pos_;
  }
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (s_.compare(pos_, 4, "<!--") == 0) {
        const size_t end = s_.find("-->", pos_ + 4);
        if (end == std::string::npos) return;
        pos_ = end + 3;
        continue;
      }
      return;
    }
  }

  bool Name(std::string& out) {
    const size_t start = pos_;
    auto first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
    auto rest = [&](char c) { return first(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'; };
    if (pos_ >= s_.size() || !first(s_[pos_])) return Bad("expected a name");
    ++pos_;
    while (pos_ < s_.size() && rest(s_[pos_])) ++pos_;
    out = s_.substr(start, pos_ - start);
    return true;
  }

  // Decodes a reference at pos_ ('&'), appending the character.
  bool Reference(std::string& out) {
    const size_t end = s_.find(';', pos_);
    if (end == std::string::npos || end - pos_ > 12) return Bad("unterminated reference (raw '&'?)");
    const std::string ref = s_.substr(pos_ + 1, end - pos_ - 1);
    static const std::map<std::string, std::string> kEntities = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
    if (auto it = kEntities.find(ref); it != kEntities.end()) {
      out += it->second;
    } else if (ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string digits = ref.substr(hex ? 2 : 1);
      if (digits.empty() ||
          digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") != std::string::npos) {
        return Bad("bad character reference");
      }
      const unsigned long cp = std::stoul(digits, nullptr, hex ? 16 : 10);
      const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!allowed) return Bad("character reference to a character XML forbids");
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else {
        out += "?";  // the tests never compare non-ASCII references
      }
    } else {
      return Bad("unknown entity &" + ref + ";");
    }
    pos_ = end + 1;
    return true;
  }

  bool AttributeValue(std::string& out) {
    if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return Bad("attribute value must be quoted");
    const char quote = s_[pos_++];
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '<') return Bad("'<' in an attribute value");
      if (s_[pos_] == '&') {
        if (!Reference(out)) return false;
        continue;
      }
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) return Bad("unterminated attribute value");
    ++pos_;
    return true;
  }

  bool Element(XmlElement& element) {
    if (pos_ >= s_.size() || s_[pos_] != '<') return Bad("expected '<'");
    ++pos_;
    if (!Name(element.name)) return false;
    for (;;) {
      const size_t before = pos_;
      SkipSpace();
      if (pos_ >= s_.size()) return Bad("unterminated start tag");
      if (s_.compare(pos_, 2, "/>") == 0) {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (pos_ == before) return Bad("attributes must be separated by space");
      std::string name, value;
      if (!Name(name)) return false;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Bad("expected '=' after attribute name");
      ++pos_;
      SkipSpace();
      if (!AttributeValue(value)) return false;
      if (!element.attributes.emplace(name, value).second) return Bad("duplicate attribute " + name);
    }
    for (;;) {
      if (pos_ >= s_.size()) return Bad("unclosed element <" + element.name + ">");
      if (s_.compare(pos_, 2, "</") == 0) {
        pos_ += 2;
        std::string name;
        if (!Name(name)) return false;
        if (name != element.name) return Bad("</" + name + "> closes <" + element.name + ">");
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') return Bad("expected '>'");
        ++pos_;
        return true;
      }
      if (s_.compare(pos_, 4, "<!--") == 0) {
        const size_t end = s_.find("-->", pos_ + 4);
        if (end == std::string::npos) return Bad("unterminated comment");
        pos_ = end + 3;
        continue;
      }
      if (s_[pos_] == '<') {
        XmlElement child;
        if (!Element(child)) return false;
        element.children.push_back(std::move(child));
        continue;
      }
      if (s_[pos_] == '&') {
        if (!Reference(element.text)) return false;
        continue;
      }
      if (s_.compare(pos_, 3, "]]>") == 0) return Bad("']]>' in character data");
      element.text += s_[pos_++];
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::optional<XmlElement> ParseXml(const std::string& text, std::string* error) {
  return XmlParser(text).Document(error);
}

}  // namespace pipeguard::cli::testing
