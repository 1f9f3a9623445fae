// -o junit: the JUnit XML that CI dashboards (Jenkins, GitLab, Azure DevOps, GitHub test reporters) read.
#include <map>
#include <sstream>

#include "output_internal.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/policy/verdict_text.h"

namespace pipeguard::cli {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of a well-formed UTF-8 sequence at text[i], or 0.
size_t Utf8Length(std::string_view text, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = b(i);
  size_t n = c < 0x80                   ? 1
             : (c >= 0xC2 && c <= 0xDF) ? 2
             : (c >= 0xE0 && c <= 0xEF) ? 3
             : (c >= 0xF0 && c <= 0xF4) ? 4
                                        : 0;
  if (n <= 1 || i + n > text.size()) return n == 1 ? 1 : 0;
  for (size_t k = 1; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  if ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) > 0x9F) || (c == 0xF0 && b(i + 1) < 0x90) ||
      (c == 0xF4 && b(i + 1) > 0x8F)) {
    return 0;
  }
  if (c == 0xEF && b(i + 1) == 0xBF && (b(i + 2) == 0xBE || b(i + 2) == 0xBF)) return 0;  // U+FFFE, U+FFFF
  return n;
}

// Escapes text for XML 1.0 attributes and character data. Characters XML 1.0 cannot carry at all (C0 controls
// other than tab, newline and carriage return; ill-formed UTF-8) become U+FFFD.
std::string Xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += kReplacement;
        } else {
          out += c;
        }
    }
    ++i;
  }
  return out;
}

std::string TestcaseName(const ScanResult& r) {
  std::string name = r.ObjectName() + " (line " + std::to_string(r.line);
  if (r.item_index >= 0) name += ", items/" + std::to_string(r.item_index);
  return name + ")";
}

// policy::FindingLine, then the severity and the detector.
std::string FindingWithDetails(const policy::Violation& v) {
  std::string line = policy::FindingLine(v) + " (" + std::string(policy::ToString(v.severity));
  if (!v.detector.empty()) line += ", " + v.detector;
  return line + ")";
}

}  // namespace

std::string RenderJunit(const ScanReport& report) {
  // Files in order of first appearance.
  std::vector<std::string> files;
  std::map<std::string, std::vector<const ScanResult*>> by_file;
  for (const auto& r : report.results) {
    auto [it, inserted] = by_file.try_emplace(r.file);
    if (inserted) files.push_back(r.file);
    it->second.push_back(&r);
  }
  size_t total_tests = 0, total_failures = 0, total_skipped = 0;
  std::ostringstream suites;
  for (const auto& file : files) {
    const auto& results = by_file[file];
    size_t failures = 0, skipped = 0;
    std::ostringstream cases;
    for (const ScanResult* r : results) {
      cases << "    <testcase classname=\"" << Xml(file) << "\" name=\"" << Xml(TestcaseName(*r)) << "\" time=\"0\">\n";
      if (!r->verdict.allowed) {
        ++failures;
        for (const auto* v : r->verdict.Denials()) {
          cases << "      <failure type=\"" << Xml(v->rule) << "\" message=\"" << Xml(v->rule + " at " + v->path)
                << "\">" << Xml(FindingWithDetails(*v)) << "&#10;fix: " << Xml(FixHint(v->rule)) << "</failure>\n";
        }
      } else if (!r->verdict.governed) {
        ++skipped;
        cases << "      <skipped message=\"not governed by pipeguard\"/>\n";
      }
      // Findings that did not deny (audit mode, low severity, waived) are reported as output.
      std::string notes;
      for (const auto& v : r->verdict.violations) {
        const policy::Disposition disposition = policy::DispositionOf(r->verdict, v);
        if (disposition == policy::Disposition::kDenies) continue;  // a <failure> above
        notes += std::string(policy::Describe(disposition)) + ": " + FindingWithDetails(v) + "\n";
      }
      if (r->verdict.unlisted.count > 0) {
        notes += "... and " + std::to_string(r->verdict.unlisted.count) +
                 " more findings in this object, not listed (at most " +
                 std::to_string(policy::kMaxReportedViolations) + " are listed per object)\n";
      }
      if (!notes.empty()) cases << "      <system-out>" << Xml(notes) << "</system-out>\n";
      cases << "    </testcase>\n";
    }
    total_tests += results.size();
    total_failures += failures;
    total_skipped += skipped;
    suites << "  <testsuite name=\"" << Xml(file) << "\" tests=\"" << results.size() << "\" failures=\"" << failures
           << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\"0\">\n"
           << cases.str() << "  </testsuite>\n";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"pipeguard scan\" tests=\"" << total_tests << "\" failures=\"" << total_failures
      << "\" errors=\"0\" skipped=\"" << total_skipped << "\" time=\"0\">\n";
  out << suites.str();
  out << "</testsuites>\n";
  return out.str();
}

}  // namespace pipeguard::cli
