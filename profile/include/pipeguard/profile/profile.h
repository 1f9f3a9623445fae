// The PipelineSecurityProfile grammar (crds/pipeguard.io_pipelinesecurityprofiles.yaml, docs/profile.md), parsed in
// this one place: the profile as a typed, validated value. The operator's desired-state functions, the platform
// guardrails (pipeguard::guardrails) and the policy engine's view of a profile (policy::Profile) all start from it,
// so the webhook, `pipeguard scan` and the operator accept and reject exactly the same profiles.
//
// ReadProfile checks everything the CRD schema checks (so that `pipeguard scan`, which has no API server, gets the
// same answers) and more: S3 bucket naming rules, literal prefixes, ARN shapes (MSK cluster ARNs with name and UUID),
// Kafka topic names, canonical CIDRs with `except` inside them, label selectors, unique Sids, an S3 write key when
// writes are granted, and IAM's Latin-1 character set for everything that ends up in a policy document. Every error
// is a GuardrailViolation whose path points at the offending field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/attestations_config.h"

namespace pipeguard::api {

// One problem with a PipelineSecurityProfile: where (an RFC 6901 JSON pointer into the profile object, e.g.
// "/spec/aws/s3/2/bucket") and what, phrased so that the message says how to fix it. Used for grammar errors,
// platform guardrails and IAM size limits alike; the webhook reports each as a `profile-guardrail` violation and the
// operator as the message of a Ready=False condition. Messages never contain secret values (profiles hold none).
struct GuardrailViolation {
  std::string path;     // JSON pointer into the profile object ("" = the whole object)
  std::string message;  // what is wrong and how to fix it
  bool operator==(const GuardrailViolation&) const = default;
};

// "path: message; path: message" (for Status messages and condition text).
std::string JoinViolations(const std::vector<GuardrailViolation>& violations);

inline constexpr std::string_view kProfileApiVersion = "pipeguard.io/v1alpha1";
inline constexpr std::string_view kProfileKind = "PipelineSecurityProfile";

enum class S3Access { kRead, kWrite, kReadWrite };
enum class KmsAccess { kDecrypt, kEncrypt, kEncryptDecrypt };
enum class TopicAccess { kRead, kWrite, kReadWrite };
enum class DeletionPolicy { kDelete, kRetain };

struct S3Grant {
  std::string bucket;
  std::vector<std::string> prefixes;  // literal key prefixes; empty = the whole bucket
  S3Access access = S3Access::kRead;
};

struct KmsGrant {
  std::string key_arn;  // arn:<partition>:kms:<region>:<account>:key/<id> or .../alias/<name>
  KmsAccess access = KmsAccess::kDecrypt;
};

struct KafkaTopic {
  std::string name;
  TopicAccess access = TopicAccess::kRead;
};

struct KafkaGrant {
  std::string cluster_arn;  // arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
  std::vector<KafkaTopic> topics;
  std::vector<std::string> consumer_groups;
};

// A raw IAM statement from spec.aws.additionalStatements (the guarded escape hatch).
struct RawStatement {
  std::string sid;
  std::string effect;  // "Allow" or "Deny"
  std::vector<std::string> actions;
  std::vector<std::string> resources;
  nlohmann::json conditions;  // null when absent; else {operator: {key: string | [strings] | bool | number}}
};

struct AwsSpec {
  std::vector<S3Grant> s3;
  std::vector<KmsGrant> kms;
  std::string s3_write_kms_key_arn;      // empty when unset; required when any S3 write is granted
  std::vector<std::string> secret_arns;  // spec.aws.secretsManager[].secretArn
  std::vector<KafkaGrant> kafka;
  std::vector<RawStatement> additional_statements;
  int max_session_duration_seconds = 3600;

  bool GrantsS3Writes() const;
};

struct PortSpec {
  int port = 0;
  std::optional<int> end_port;
  std::string protocol = "TCP";  // TCP, UDP or SCTP
};

// One spec.network.egress item. Exactly one destination kind is set.
struct EgressRule {
  enum class Kind { kCidr, kService, kPods };
  Kind kind = Kind::kCidr;
  std::string description;
  std::string cidr;                            // kCidr, canonical ("10.0.0.0/16")
  std::vector<std::string> except;             // kCidr, canonical, each inside `cidr`
  std::string namespace_;                      // kPods: the namespace (empty = every pod of the profile's namespace);
                                               // kService: the Service's namespace (empty = the profile's namespace)
  std::optional<nlohmann::json> pod_selector;  // kPods: a LabelSelector (as given), absent = every pod
  std::string service_name;                    // kService
  std::vector<PortSpec> ports;
};

struct DnsSpec {
  bool enabled = true;
  std::string namespace_ = "kube-system";
  nlohmann::json pod_selector = {{"matchLabels", {{"k8s-app", "kube-dns"}}}};
};

struct NetworkSpec {
  std::vector<EgressRule> egress;
  DnsSpec dns;
  bool allow_aws_sts = true;  // only meaningful when the profile has spec.aws
};

struct ParsedProfile {
  // metadata
  std::string namespace_;  // "default" when unset (files given to `pipeguard scan`)
  std::string name;
  std::string uid;  // empty when unset (files, dry runs); the desired-object builders then fail
  std::int64_t generation = 0;

  nlohmann::json pod_selector;  // the LabelSelector as given, validated
  std::string service_account;  // spec.serviceAccount.name
  bool automount_token = false;
  std::optional<std::string> mode;  // "enforce" or "audit"
  // spec.images.trustedKeys: names of keys in the webhook configuration's images.keys (unset: every configured key).
  std::optional<std::vector<std::string>> trusted_keys;
  // spec.images.keylessIdentities: names of identities in images.keyless.identities that may sign the pipeline's
  // images keylessly. A profile naming signers (trustedKeys and/or keylessIdentities) accepts only those.
  std::optional<std::vector<std::string>> keyless_identities;
  // spec.images.attestations: attestations the pipeline's images must carry, on top of the configuration's.
  std::optional<policy::AttestationsConfig> attestations;
  std::optional<AwsSpec> aws;  // absent: no IAM role is made
  NetworkSpec network;
  DeletionPolicy deletion_policy = DeletionPolicy::kDelete;
};

// A profile read as far as it could be, with every problem found on the way (in field order). A field with a problem
// keeps its default (or, for names and ARNs of the wrong shape, the text as given), so that checks which read the
// profile afterwards (the guardrails) can still report their own findings in the same answer (docs/profile.md).
struct ProfileReading {
  ParsedProfile profile;
  std::vector<GuardrailViolation> problems;
  bool ok() const { return problems.empty(); }
};

// Reads and validates a PipelineSecurityProfile object (apiVersion, kind, metadata, spec). Never throws.
ProfileReading ReadProfile(const nlohmann::json& object);

// ReadProfile for callers that need a valid profile: on error the Status message joins every problem
// ("PipelineSecurityProfile ns/name: path: message; ..."); when `problems` is given, each problem is also appended
// there.
StatusOr<ParsedProfile> ParseProfile(const nlohmann::json& object, std::vector<GuardrailViolation>* problems = nullptr);

}  // namespace pipeguard::api
