#include "pipeguard/signatures/identity.h"

#include <re2/re2.h>

#include <algorithm>

#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {
namespace {

std::string Quoted(std::string_view value) {
  constexpr size_t kMax = 160;
  return "'" + (value.size() <= kMax ? std::string(value) : std::string(value.substr(0, kMax)) + "...") + "'";
}

StatusOr<std::shared_ptr<const re2::RE2>> CompileMatcher(const ValueMatcher& matcher, const std::string& where) {
  if (matcher.exact.empty() == matcher.regex.empty()) {
    return Status::InvalidArgument(where + ": set exactly one of the exact value or the regular expression");
  }
  if (matcher.regex.empty()) return std::shared_ptr<const re2::RE2>();
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_shared<const re2::RE2>(matcher.regex, options);
  if (!compiled->ok()) {
    return Status::InvalidArgument(where + ": regular expression " + Quoted(matcher.regex) +
                                   " does not compile: " + compiled->error());
  }
  return compiled;
}

bool Matches(const ValueMatcher& matcher, const re2::RE2* compiled, const std::string& value) {
  return compiled != nullptr ? re2::RE2::FullMatch(value, *compiled) : value == matcher.exact;
}

std::string ExtensionNames() {
  std::string names;
  for (const FulcioExtension& extension : FulcioExtensions()) {
    if (!names.empty()) names += ", ";
    names += extension.name;
  }
  return names;
}

}  // namespace

StatusOr<IdentityPolicy> IdentityPolicy::Create(std::vector<KeylessIdentity> identities) {
  if (identities.empty()) return Status::InvalidArgument("keyless: at least one identity is required");
  IdentityPolicy policy;
  std::string material;
  for (size_t i = 0; i < identities.size(); ++i) {
    const KeylessIdentity& identity = identities[i];
    const std::string where =
        "keyless identity " + (identity.name.empty() ? "#" + std::to_string(i + 1) : Quoted(identity.name));
    auto subject = CompileMatcher(identity.subject, where + " subject");
    if (!subject.ok()) return subject.status();
    auto issuer = CompileMatcher(identity.issuer, where + " issuer");
    if (!issuer.ok()) return issuer.status();
    for (const auto& [name, value] : identity.extensions) {
      const auto& known = FulcioExtensions();
      const std::string& extension_name = name;  // clang 14 cannot capture a structured binding
      if (std::none_of(known.begin(), known.end(),
                       [&](const FulcioExtension& e) { return e.name == extension_name; })) {
        return Status::InvalidArgument(where + ": unknown certificate extension " + Quoted(name) +
                                       " (known: " + ExtensionNames() + ")");
      }
      if (value.empty()) return Status::InvalidArgument(where + ": extension " + Quoted(name) + " has an empty value");
    }
    policy.compiled_.push_back(Compiled{std::move(subject).value(), std::move(issuer).value()});
    material += identity.name + '\0' + identity.subject.exact + '\0' + identity.subject.regex + '\0' +
                identity.issuer.exact + '\0' + identity.issuer.regex + '\0';
    for (const auto& [name, value] : identity.extensions) material += name + '=' + value + '\0';
    material += '\n';
  }
  policy.identities_ = std::move(identities);
  policy.fingerprint_ = Sha256Hex(material);
  return policy;
}

IdentityMatch IdentityPolicy::Match(const CertificateIdentity& certificate) const {
  IdentityMatch result;
  const std::vector<std::string> subjects = certificate.Subjects();
  std::string reasons;
  for (size_t i = 0; i < identities_.size(); ++i) {
    const KeylessIdentity& identity = identities_[i];
    const Compiled& compiled = compiled_[i];
    std::string failure;
    if (!Matches(identity.issuer, compiled.issuer.get(), certificate.issuer)) {
      failure = "issuer does not match";
    } else if (std::none_of(subjects.begin(), subjects.end(), [&](const std::string& subject) {
                 return Matches(identity.subject, compiled.subject.get(), subject);
               })) {
      failure = "subject does not match";
    } else {
      for (const auto& [name, wanted] : identity.extensions) {
        const auto found = certificate.extensions.find(name);
        if (found == certificate.extensions.end()) {
          failure = "the certificate has no extension " + name;
          break;
        }
        if (found->second != wanted) {
          failure = "extension " + name + " is " + Quoted(found->second) + ", not " + Quoted(wanted);
          break;
        }
      }
    }
    if (failure.empty()) {
      result.matched = true;
      result.identity_name = identity.name;
      return result;
    }
    if (!reasons.empty()) reasons += "; ";
    reasons +=
        "identity " + (identity.name.empty() ? "#" + std::to_string(i + 1) : Quoted(identity.name)) + ": " + failure;
  }
  result.detail = "certificate subject " + Quoted(subjects.empty() ? "" : subjects.front()) + " issuer " +
                  Quoted(certificate.issuer) + " is not an allowed signer (" + reasons + ")";
  return result;
}

}  // namespace pipeguard::signatures
