#include "pipeguard/cli/verify_image.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <ostream>

#include "pipeguard/cli/commands.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/imageverify/service.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::cli {
namespace {

constexpr std::string_view kCommand = "verify-image";

constexpr std::string_view kHelp = R"(
Verifies the cosign signature of one image in its registry exactly as the admission webhook does: both formats
cosign writes (legacy sha256-<hex>.sig and Sigstore bundles as OCI 1.1 referrers, with the referrers-tag fallback),
against the trusted public keys. A tag is resolved to its digest first; the digest is what is verified.

Flags:
  --config FILE       pipeguard configuration: images.keys (trusted keys), images.registries (TLS CA, plain-HTTP
                      test registries, dockerconfigjson credentials), images.deadline (default 4s),
                      images.attestations (provenance, vulnerability scan, SBOM the image's verified attestations
                      must show; checked after the signature)
  --profile FILE      verify as for the pods of this PipelineSecurityProfile (YAML or JSON): only the signers it
                      names (spec.images.trustedKeys, spec.images.keylessIdentities) count, and its
                      spec.images.attestations are required on top of images.attestations, exactly as admission does
  --key FILE          trust this PEM public key (cosign.pub) INSTEAD of images.keys (repeatable)
  --rekor-key FILE    trust this Rekor log PEM public key INSTEAD of images.rekor's log keys (repeatable): every
                      transparency-log entry (SET) from that log must verify
  --require-tlog      accept only signatures with a verified Rekor entry (images.rekor.required: true)
  -h, --help          show this help

Output: on success the image, digest, key, signature format and whether a Rekor entry was verified on standard
output; otherwise the reason (which
digest, and why: no signature found, not signed by a trusted key, registry unreachable, timed out, ...) on
standard error.
Exit status: 0 verified, 1 not verified, 2 usage or input error (bad configuration, unreadable key, malformed
image reference).
)";

// The registry client logs warnings (e.g. plain-HTTP registries) through spdlog, whose default logger writes to
// standard output; the CLI's standard output is its report (JSON, SARIF, ...), so logs go to standard error.
void RouteLogsToStandardError() {
  static std::once_flag once;
  std::call_once(once, [] {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("pipeguard", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  });
}

int InputError(CommandIo& io, const std::string& message) {
  io.err << "pipeguard " << kCommand << ": " << message << "\n";
  return kExitUsage;
}

int UsageError(CommandIo& io, const std::string& message) {
  io.err << "pipeguard " << kCommand << ": " << message << "\n"
         << "Run 'pipeguard help " << kCommand << "' for usage.\n";
  return kExitUsage;
}

}  // namespace

std::string_view VerifyImageHelp() { return kHelp; }

int RunVerifyImageCommand(const std::vector<std::string>& args, CommandIo& io) {
  std::string config_path;
  std::string profile_path;
  std::vector<std::string> key_paths;
  std::vector<std::string> rekor_key_paths;
  bool require_tlog = false;
  std::vector<std::string> images;
  bool end_of_flags = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!end_of_flags && (arg == "-h" || arg == "--help")) {
      io.out << "Usage: pipeguard verify-image [--config FILE] [--profile FILE] [--key FILE]... [--rekor-key FILE]... "
                "[--require-tlog] "
                "IMAGE\n"
             << kHelp;
      return kExitAllowed;
    }
    if (!end_of_flags && arg == "--require-tlog") {
      require_tlog = true;
      continue;
    }
    std::string* single = nullptr;
    std::vector<std::string>* repeated = nullptr;
    std::string_view flag;
    if (!end_of_flags && (arg == "--config" || arg.rfind("--config=", 0) == 0)) {
      single = &config_path;
      flag = "--config";
    } else if (!end_of_flags && (arg == "--profile" || arg.rfind("--profile=", 0) == 0)) {
      single = &profile_path;
      flag = "--profile";
    } else if (!end_of_flags && (arg == "--key" || arg.rfind("--key=", 0) == 0)) {
      repeated = &key_paths;
      flag = "--key";
    } else if (!end_of_flags && (arg == "--rekor-key" || arg.rfind("--rekor-key=", 0) == 0)) {
      repeated = &rekor_key_paths;
      flag = "--rekor-key";
    }
    if (single != nullptr || repeated != nullptr) {
      std::string value;
      if (arg.size() > flag.size()) {
        value = arg.substr(flag.size() + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return UsageError(io, std::string(flag) + " needs a value");
      }
      if (value.empty()) return UsageError(io, std::string(flag) + " needs a non-empty value");
      if (repeated != nullptr) {
        repeated->push_back(std::move(value));
      } else {
        *single = std::move(value);
      }
      continue;
    }
    if (!end_of_flags && arg == "--") {
      end_of_flags = true;
      continue;
    }
    if (!end_of_flags && arg.size() > 1 && arg[0] == '-') return UsageError(io, "unknown flag " + arg);
    images.push_back(arg);
  }
  if (images.size() != 1) {
    return UsageError(
        io, images.empty() ? "no image given" : "give exactly one image (got " + std::to_string(images.size()) + ")");
  }
  const std::string& image = images[0];

  policy::Config config = policy::DefaultConfig();
  if (!config_path.empty()) {
    auto text = manifest::ReadFile(config_path);
    if (!text.ok()) return InputError(io, text.status().message());
    auto parsed = policy::ParseConfig(*text, config_path);
    if (!parsed.ok()) return InputError(io, parsed.status().message());
    config = std::move(parsed).value();
  }
  if (!key_paths.empty()) {
    config.images.keys.clear();
    for (const auto& path : key_paths) config.images.keys.push_back(policy::TrustedKey{path, path, ""});
  }
  if (!rekor_key_paths.empty()) {
    config.images.rekor.public_keys.clear();
    config.images.rekor.trusted_root_file.clear();
    for (const auto& path : rekor_key_paths)
      config.images.rekor.public_keys.push_back(policy::TrustedKey{path, path, ""});
  }
  if (require_tlog) {
    if (!config.images.rekor.configured()) {
      return UsageError(io, "--require-tlog needs a Rekor log key: give --rekor-key FILE or images.rekor in --config");
    }
    config.images.rekor.required = true;
  }
  if (config.images.keys.empty() && !config.images.keyless.configured()) {
    return InputError(io,
                      "no trusted keys: give --key FILE (a cosign.pub), or images.keys or images.keyless in --config");
  }
  if (auto ref = registry::ImageReference::Parse(image); !ref.ok()) {
    return InputError(io, "malformed image reference \"" + image + "\": " + ref.status().message());
  }

  policy::KeyScope scope;
  if (!profile_path.empty()) {
    auto documents = manifest::LoadPath(profile_path);
    if (!documents.ok()) return InputError(io, documents.status().message());
    std::optional<policy::Profile> profile;
    for (const auto& document : *documents) {
      if (!document.object.is_object() || document.object.value("kind", "") != policy::kProfileKind) continue;
      if (profile) return InputError(io, profile_path + ": holds more than one PipelineSecurityProfile; give one");
      auto parsed = policy::ParseProfile(document.object);
      if (!parsed.ok()) return InputError(io, parsed.status().message());
      profile = std::move(parsed).value();
    }
    if (!profile) return InputError(io, profile_path + ": no PipelineSecurityProfile found");
    scope = policy::KeyScopeFor({&*profile}, config.images);
  }

  RouteLogsToStandardError();
  auto service = imageverify::ImageVerificationService::Create(config.images);
  if (!service.ok()) return InputError(io, service.status().message());
  const auto outcome = (*service)->Verify(image, std::chrono::steady_clock::now() + config.images.deadline, scope);
  if (!outcome.verdict.verified) {
    io.err << "pipeguard " << kCommand << ": " << outcome.message << "\n";
    return kExitDenied;
  }
  io.out << "image:    " << image << "\n"
         << "digest:   " << outcome.verdict.digest << "\n"
         << "key:      " << outcome.key_name << "\n"
         << "format:   " << signatures::SignatureFormatName(outcome.format) << "\n"
         << "location: " << outcome.signature_location << "\n"
         << "tlog:     "
         << (outcome.tlog_verified              ? "Rekor entry verified"
             : config.images.rekor.configured() ? "no entry from a trusted log (not required)"
                                                : "not checked (no images.rekor log key)")
         << "\n";
  if (!outcome.attestations.empty()) io.out << "attest:   " << outcome.attestations << "\n";
  io.out.flush();
  return kExitAllowed;
}

StatusOr<policy::ImageVerdictLookup> VerifyScanImages(const policy::ContextSnapshot& context,
                                                      const std::vector<policy::Review>& reviews) {
  const policy::ImagesConfig& config = context.config().images;
  if (!config.verify || (config.keys.empty() && !config.keyless.configured())) return policy::ImageVerdictLookup{};
  RouteLogsToStandardError();
  auto service = imageverify::ImageVerificationService::Create(config);
  if (!service.ok()) return service.status();
  imageverify::ScopedImageVerdicts all;
  for (const policy::Review& review : reviews) {
    if (!review.governed() || review.image_checks().empty()) continue;
    for (auto& [scope, verdicts] :
         (*service)->VerifyChecks(review.image_checks(), std::chrono::steady_clock::now() + config.deadline)) {
      all[scope].merge(verdicts);
    }
  }
  return imageverify::MakeLookup(std::move(all));
}

}  // namespace pipeguard::cli
