#include "pipeguard/cli/scan.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <utility>

#include "kinds.h"
#include "pipeguard/base/thread_cpu.h"
#include "pipeguard/cli/verify_image.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;

std::string StringField(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string MetadataField(const json& object, std::string_view key) {
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? StringField(*it, key) : std::string();
}

// Why a document is not a Kubernetes object, or empty when it is one.
std::string NotAnObjectReason(const json& object) {
  if (!object.is_object()) return "a List item that is not an object";
  if (StringField(object, "apiVersion").empty() || StringField(object, "kind").empty()) {
    return "not a Kubernetes object (no apiVersion or kind); scan rendered manifests, e.g. `helm template` output";
  }
  return "";
}

std::string Where(const manifest::Document& document, int item_index) {
  std::string where = document.file + ":" + std::to_string(document.line);
  if (item_index >= 0) where += " (items/" + std::to_string(item_index) + ")";
  return where;
}

// Identity of a context object: later definitions of the same object are ignored, so the same profile given both
// with --profiles and among the scanned files is counted once.
std::string ContextKey(const json& object) {
  const std::string kind = StringField(object, "kind");
  std::string ns = MetadataField(object, "namespace");
  if (internal::IsClusterScopedKind(kind)) {
    ns.clear();
  } else if (ns.empty()) {
    ns = "default";
  }
  return kind + "/" + ns + "/" + MetadataField(object, "name");
}

StatusOr<std::vector<manifest::Document>> LoadInput(const std::string& path, std::istream& standard_input,
                                                    const manifest::LoadLimits& limits, ScanReport& report) {
  if (path == "-") {
    std::string text;
    char buffer[64 * 1024];
    while (standard_input.read(buffer, sizeof buffer) || standard_input.gcount() > 0) {
      text.append(buffer, static_cast<size_t>(standard_input.gcount()));
      if (text.size() > limits.max_file_bytes) {
        return Status::InvalidArgument("-: standard input is larger than the limit of " +
                                       std::to_string(limits.max_file_bytes) + " bytes");
      }
    }
    return manifest::ParseDocuments(text, "-", limits);
  }
  auto documents = manifest::LoadPath(path, limits);
  if (documents.ok() && documents->empty()) {
    report.notes.push_back(path + ": no documents found (directories are searched for *.yaml, *.yml and *.json)");
  }
  return documents;
}

class ContextCollector {
 public:
  explicit ContextCollector(policy::Config config) : builder_(std::move(config)) {}

  // Adds the context objects of documents read with --profiles: profiles, Namespaces, ServiceAccounts, RBAC, and
  // the cluster's ConfigMaps (`kubectl get configmaps -o yaml`), which governed pods among the scanned documents
  // are judged with. ConfigMaps read here are context only, not results. Anything else is ignored with a note.
  Status AddProfileDocuments(const std::vector<manifest::Document>& documents, ScanReport& report) {
    Status status;
    for (const auto& document : documents) {
      policy::ForEachItem(document.object, [&](const json& item, int index) {
        if (!status.ok()) return;
        if (builder_.AddConfigMap(item)) {
          ++report.context_objects;
          return;
        }
        if (!policy::IsContextKind(item)) {
          report.notes.push_back(
              Where(document, index) + ": " +
              (NotAnObjectReason(item).empty() ? StringField(item, "kind") : "document") +
              " ignored: --profiles reads only profiles, namespaces, service accounts, RBAC and ConfigMaps");
          return;
        }
        status = Add(item, document, index, report);
      });
      if (!status.ok()) return status;
    }
    return status;
  }

  // Adds the context objects among the scanned documents. A malformed PipelineSecurityProfile is not an input
  // error here: it stays out of the snapshot and the engine reports it (profile-guardrail). ConfigMaps are kept
  // too (they are also scanned objects): a governed pod that mounts one is judged with it, whichever document
  // comes first; and so is what every object reads (policy::ConfigMapReadsOf), so that the ConfigMap's own result
  // is governed by the governed pods among the documents that read it, as at admission.
  Status AddScannedDocuments(const std::vector<manifest::Document>& documents, ScanReport& report) {
    Status status;
    for (const auto& document : documents) {
      policy::ForEachItem(document.object, [&](const json& item, int index) {
        if (!status.ok()) return;
        for (policy::ConfigMapRead& read : policy::ConfigMapReadsOf(item)) {
          builder_.AddConfigMapReader(read.config_map, std::move(read.reader));
        }
        if (builder_.AddConfigMap(item) || !policy::IsContextKind(item)) return;
        if (StringField(item, "kind") == policy::kProfileKind && !policy::ParseProfile(item).ok()) return;
        status = Add(item, document, index, report);
      });
      if (!status.ok()) return status;
    }
    return status;
  }

  std::shared_ptr<const policy::ContextSnapshot> Build() && { return std::move(builder_).Build(); }

 private:
  Status Add(const json& item, const manifest::Document& document, int index, ScanReport& report) {
    const std::string key = ContextKey(item);
    const std::string where = Where(document, index);
    if (auto it = first_seen_.find(key); it != first_seen_.end()) {
      if (it->second.second != item) {
        report.notes.push_back(where + ": " + key + " is defined again, differently; the first definition (" +
                               it->second.first + ") is used");
      }
      return Status::Ok();
    }
    first_seen_.emplace(key, std::make_pair(where, item));
    auto added = builder_.Add(item);
    if (!added.ok()) return Status::InvalidArgument(where + ": " + added.status().message());
    ++report.context_objects;
    return Status::Ok();
  }

  policy::ContextSnapshotBuilder builder_;
  std::map<std::string, std::pair<std::string, json>> first_seen_;  // context key -> where first defined, object
};

// Reads --guardrails-config FILE: a whole operator configuration or a bare guardrails document (the same file the
// operator and the webhook read).
StatusOr<guardrails::GuardrailsConfig> LoadGuardrails(const std::string& path) {
  auto text = manifest::ReadFile(path);
  if (!text.ok()) return text.status();
  return guardrails::ParseGuardrailsDocument(*text, path);
}

}  // namespace

std::string ScanResult::ObjectName() const {
  const std::string display_name = name.empty() ? "(unnamed)" : name;
  return kind + " " + (namespace_.empty() ? display_name : namespace_ + "/" + display_name);
}

bool ScanReport::AnyDenied() const {
  return std::any_of(results.begin(), results.end(), [](const ScanResult& r) { return !r.verdict.allowed; });
}

StatusOr<ScanReport> RunScan(const ScanOptions& options, std::istream& standard_input) {
  if (options.inputs.empty()) {
    return Status::InvalidArgument("no input: give files, directories, or - for standard input");
  }
  const auto uses_stdin = [](const std::vector<std::string>& paths) {
    return std::count(paths.begin(), paths.end(), "-");
  };
  if (uses_stdin(options.inputs) + uses_stdin(options.profile_paths) > 1) {
    return Status::InvalidArgument("standard input (-) can be read only once");
  }

  policy::Config config = policy::DefaultConfig();
  if (!options.config_path.empty()) {
    auto text = manifest::ReadFile(options.config_path);
    if (!text.ok()) return text.status();
    auto parsed = policy::ParseConfig(*text, options.config_path);
    if (!parsed.ok()) return parsed.status();
    config = std::move(parsed).value();
  }
  policy::ProfileCheck profile_check;
  if (!options.guardrails_config_path.empty()) {
    auto guardrails = LoadGuardrails(options.guardrails_config_path);
    if (!guardrails.ok()) return guardrails.status();
    profile_check = guardrails::GuardrailsProfileCheck(std::move(guardrails).value());
  }
  const bool verify_images = config.images.verify;
  const policy::ImagesConfig images_config = config.images;

  ScanReport report;
  report.evaluated_at_unix_seconds = options.now_unix_seconds;
  std::vector<manifest::Document> profile_documents, documents;
  for (const auto& path : options.profile_paths) {
    auto loaded = LoadInput(path, standard_input, options.limits, report);
    if (!loaded.ok()) return loaded.status();
    std::move(loaded->begin(), loaded->end(), std::back_inserter(profile_documents));
  }
  for (const auto& path : options.inputs) {
    auto loaded = LoadInput(path, standard_input, options.limits, report);
    if (!loaded.ok()) return loaded.status();
    std::move(loaded->begin(), loaded->end(), std::back_inserter(documents));
  }

  // One snapshot for the whole scan: --profiles first, then the context objects among the scanned documents.
  ContextCollector collector(std::move(config));
  if (auto s = collector.AddProfileDocuments(profile_documents, report); !s.ok()) return s;
  if (auto s = collector.AddScannedDocuments(documents, report); !s.ok()) return s;
  const auto snapshot = std::move(collector).Build();

  // Each object is prepared once (policy::Review); signatures are verified for the governed ones, then judged.
  std::vector<ScanResult> pending;
  std::vector<policy::Review> reviews;
  for (const auto& document : documents) {
    policy::ForEachItem(document.object, [&](const json& item, int index) {
      if (std::string reason = NotAnObjectReason(item); !reason.empty()) {
        report.skipped.push_back(SkippedDocument{document.file, document.line, std::move(reason)});
        return;
      }
      const std::string kind = StringField(item, "kind");
      if (policy::IsContextKind(item) && kind != policy::kProfileKind) return;  // context, not a result

      ScanResult result;
      result.file = document.file;
      result.line = document.line;
      result.item_index = index;
      result.api_version = StringField(item, "apiVersion");
      result.kind = kind;
      result.name = MetadataField(item, "name");
      result.namespace_ = MetadataField(item, "namespace");
      if (result.namespace_.empty() && !internal::IsClusterScopedKind(kind)) result.namespace_ = "default";

      policy::RequestInfo request;
      request.operation = "CREATE";
      request.username = options.username;
      request.groups = options.groups;
      request.namespace_ = result.namespace_.empty() ? "default" : result.namespace_;
      request.now_unix_seconds = options.now_unix_seconds;
      reviews.push_back(policy::PrepareReview(item, request, *snapshot));
      pending.push_back(std::move(result));
    });
  }

  // images.verify with trusted keys: real signature verdicts from the registries (like the webhook).
  auto image_verdicts = VerifyScanImages(*snapshot, reviews);
  if (!image_verdicts.ok()) return image_verdicts.status();

  const policy::Engine engine(std::move(profile_check));
  for (size_t i = 0; i < pending.size(); ++i) {
    // The same work budget as the webhook's (reviewBudget of CPU per object), so both give the same answer.
    const std::chrono::milliseconds cpu = snapshot->config().review_budget;
    pending[i].verdict = engine.Evaluate(reviews[i], *image_verdicts,
                                         {base::CpuBudgetExhausted(cpu), std::to_string(cpu.count()) + " ms of CPU"});
    report.results.push_back(std::move(pending[i]));
  }

  for (const auto& skipped : report.skipped) {
    report.notes.push_back(skipped.file + ":" + std::to_string(skipped.line) + ": skipped, " + skipped.reason);
  }
  const bool any_unsigned = std::any_of(report.results.begin(), report.results.end(), [](const ScanResult& r) {
    return r.verdict.unlisted.by_rule.count(std::string(policy::rules::kUnsignedImage)) > 0 ||
           std::any_of(r.verdict.violations.begin(), r.verdict.violations.end(),
                       [](const policy::Violation& v) { return v.rule == policy::rules::kUnsignedImage; });
  });
  if (verify_images && images_config.keys.empty() && !images_config.keyless.configured() && any_unsigned) {
    report.notes.push_back(
        "images.verify is on, but `pipeguard scan` cannot check signatures offline, so every governed image is "
        "reported as unsigned-image; for offline scans pass --config with images.verify: false");
  }
  return report;
}

}  // namespace pipeguard::cli
