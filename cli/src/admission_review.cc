// `pipeguard admission-review`: manifests in, admission.k8s.io/v1 AdmissionReview requests out (JSON lines).
#include <iostream>
#include <sstream>

#include "kinds.h"
#include "pipeguard/cli/commands.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;

std::string StringField(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "apps/v1" -> {"apps", "v1"}; "v1" -> {"", "v1"}.
std::pair<std::string, std::string> SplitApiVersion(const std::string& api_version) {
  const size_t slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

// The resource name the API server would use: lower-case plural of the kind.
std::string Resource(const std::string& kind) {
  std::string r;
  for (char c : kind) r += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (r.ends_with("y") && !r.ends_with("ay") && !r.ends_with("ey")) return r.substr(0, r.size() - 1) + "ies";
  if (r.ends_with("s") || r.ends_with("x") || r.ends_with("ch")) return r + "es";
  return r + "s";
}

// A reproducible UUID-shaped request UID derived from where the object came from.
std::string RequestUid(const std::string& where) {
  std::uint64_t a = 1469598103934665603ull, b = 0x9E3779B97F4A7C15ull;
  for (char c : where) {
    a = (a ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    b = (b ^ static_cast<unsigned char>(c)) * 0x100000001B3ull + 0x7F4A7C15ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 60; i >= 0; i -= 4) hex += kHex[(a >> i) & 0xF];
  for (int i = 60; i >= 0; i -= 4) hex += kHex[(b >> i) & 0xF];
  hex[12] = '4';                  // version 4 layout
  hex[16] = kHex[8 + (b & 0x3)];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

}  // namespace

int RunAdmissionReviewCommand(const std::vector<std::string>& args, CommandIo& io) {
  std::string operation = "CREATE", username = "pipeguard-cli";
  std::vector<std::string> groups, inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      return Main({"help", "admission-review"}, io);
    } else if (arg == "--operation") {
      if (!value(operation) || (operation != "CREATE" && operation != "UPDATE")) {
        io.err << "pipeguard admission-review: --operation takes CREATE or UPDATE\n";
        return kExitUsage;
      }
    } else if (arg == "--user") {
      if (!value(username)) {
        io.err << "pipeguard admission-review: --user needs a value\n";
        return kExitUsage;
      }
    } else if (arg == "--group") {
      if (!value(v)) {
        io.err << "pipeguard admission-review: --group needs a value\n";
        return kExitUsage;
      }
      groups.push_back(v);
    } else if (arg.size() > 1 && arg[0] == '-') {
      io.err << "pipeguard admission-review: unknown flag " << arg
             << "\nRun 'pipeguard help admission-review' for usage.\n";
      return kExitUsage;
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) {
    io.err << "pipeguard admission-review: no input: give files, directories, or - for standard input\n";
    return kExitUsage;
  }
  if (groups.empty()) groups.push_back("system:authenticated");

  std::ostringstream out;
  for (const auto& input : inputs) {
    StatusOr<std::vector<manifest::Document>> documents = Status::InvalidArgument("unread");
    if (input == "-") {
      std::ostringstream text;
      text << io.in.rdbuf();
      documents = manifest::ParseDocuments(text.str(), "-");
    } else {
      documents = manifest::LoadPath(input);
    }
    if (!documents.ok()) {
      io.err << "pipeguard admission-review: " << documents.status().message() << "\n";
      return kExitUsage;
    }
    for (const auto& document : *documents) {
      policy::ForEachItem(document.object, [&](const json& object, int index) {
        if (!object.is_object() || StringField(object, "kind").empty()) return;
        const std::string kind = StringField(object, "kind");
        const auto [group, version] = SplitApiVersion(StringField(object, "apiVersion"));
        const json metadata = object.value("metadata", json::object());
        std::string ns = metadata.is_object() ? StringField(metadata, "namespace") : "";
        if (ns.empty() && !internal::IsClusterScopedKind(kind)) ns = "default";
        const json gvk = {{"group", group}, {"version", version}, {"kind", kind}};
        const json gvr = {{"group", group}, {"version", version}, {"resource", Resource(kind)}};
        json request = {
            {"uid", RequestUid(document.file + ":" + std::to_string(document.line) + "#" + std::to_string(index))},
            {"kind", gvk},
            {"resource", gvr},
            {"requestKind", gvk},
            {"requestResource", gvr},
            {"name", metadata.is_object() ? StringField(metadata, "name") : ""},
            {"operation", operation},
            {"userInfo", {{"username", username}, {"groups", groups}}},
            {"object", object},
            {"oldObject", operation == "UPDATE" ? object : json(nullptr)},
            {"dryRun", false},
            {"options",
             {{"apiVersion", "meta.k8s.io/v1"}, {"kind", operation == "CREATE" ? "CreateOptions" : "UpdateOptions"}}}};
        if (!ns.empty()) request["namespace"] = ns;
        out << json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", std::move(request)}}
                   .dump(-1, ' ', false, json::error_handler_t::replace)
            << "\n";
      });
    }
  }
  io.out << out.str();
  io.out.flush();
  return kExitAllowed;
}

}  // namespace pipeguard::cli
