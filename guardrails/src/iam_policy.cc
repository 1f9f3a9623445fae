#include "pipeguard/guardrails/iam_policy.h"

#include "pipeguard/aws/policy_document.h"
#include "pipeguard/profile/text_checks.h"

namespace pipeguard::guardrails {

using nlohmann::json;

namespace {

json Statement(std::string sid, std::string effect, std::vector<std::string> actions, json resources,
               json condition = nullptr) {
  json s = {{"Sid", std::move(sid)},
            {"Effect", std::move(effect)},
            {"Action", std::move(actions)},
            {"Resource", std::move(resources)}};
  if (!condition.is_null()) s["Condition"] = std::move(condition);
  return s;
}

std::string S3Arn(std::string_view partition, std::string_view rest) {
  std::string arn = "arn:";
  arn.append(partition).append(":s3:::").append(rest);
  return arn;
}

// Object ARNs of a grant: bucket/<prefix>* for each prefix, or bucket/*.
json ObjectArns(const api::S3Grant& g, std::string_view partition) {
  json out = json::array();
  if (g.prefixes.empty()) {
    std::string rest = g.bucket;
    out.push_back(S3Arn(partition, rest.append("/*")));
  }
  for (const auto& p : g.prefixes) {
    std::string rest = g.bucket;
    rest.append("/").append(p).append("*");
    out.push_back(S3Arn(partition, rest));
  }
  return out;
}

// For arn:<p>:kafka:<r>:<a>:cluster/<name>/<uuid>, the ARN of a topic or group: arn:...:<kind>/<name>/<uuid>/<x>.
std::string KafkaChildArn(const std::string& cluster_arn, std::string_view kind, std::string_view child) {
  api::Arn arn;
  if (!api::ParseArn(cluster_arn, "kafka", arn)) return cluster_arn;  // ParseProfile guarantees the shape
  std::string out = "arn:";
  out.append(arn.partition).append(":kafka:").append(arn.region).append(":").append(arn.account).append(":");
  out.append(kind).append(arn.resource.substr(std::string_view("cluster").size())).append("/").append(child);
  return out;
}

}  // namespace

json CompileInlinePolicy(const api::ParsedProfile& profile, std::string_view partition) {
  json statements = json::array();
  statements.push_back(
      Statement("PipeguardDenyInsecureTransport", "Deny", {"*"}, "*", {{"Bool", {{"aws:SecureTransport", "false"}}}}));
  if (!profile.aws) return {{"Version", "2012-10-17"}, {"Statement", std::move(statements)}};
  const api::AwsSpec& aws = *profile.aws;
  const std::string p(partition);

  if (!aws.s3_write_kms_key_arn.empty()) {
    statements.push_back(Statement("PipeguardDenyS3WriteWithoutSseKms", "Deny", {"s3:PutObject"}, "*",
                                   {{"StringNotEquals", {{"s3:x-amz-server-side-encryption", "aws:kms"}}}}));
    statements.push_back(Statement(
        "PipeguardDenyS3WriteOtherKey", "Deny", {"s3:PutObject"}, "*",
        {{"StringNotEquals", {{"s3:x-amz-server-side-encryption-aws-kms-key-id", aws.s3_write_kms_key_arn}}}}));
    api::Arn key;
    if (api::ParseArn(aws.s3_write_kms_key_arn, "kms", key)) {
      std::string via = "s3.";
      via.append(key.region).append(".amazonaws.com");
      statements.push_back(Statement("PipeguardS3WriteKey", "Allow", {"kms:GenerateDataKey", "kms:Decrypt"},
                                     aws.s3_write_kms_key_arn, {{"StringEquals", {{"kms:ViaService", via}}}}));
    }
  }

  for (size_t i = 0; i < aws.s3.size(); ++i) {
    const api::S3Grant& g = aws.s3[i];
    const std::string n = std::to_string(i);
    json list_condition = nullptr;
    if (!g.prefixes.empty()) {
      json prefixes = json::array();
      for (const auto& prefix : g.prefixes) prefixes.push_back(prefix + "*");
      list_condition = {{"StringLike", {{"s3:prefix", prefixes}}}};
    }
    // GetBucketLocation takes no s3:prefix, so it gets its own statement when ListBucket is conditioned.
    if (list_condition.is_null()) {
      statements.push_back(
          Statement("PipeguardS3Bucket" + n, "Allow", {"s3:ListBucket", "s3:GetBucketLocation"}, S3Arn(p, g.bucket)));
    } else {
      statements.push_back(
          Statement("PipeguardS3Bucket" + n, "Allow", {"s3:ListBucket"}, S3Arn(p, g.bucket), list_condition));
      statements.push_back(Statement("PipeguardS3Location" + n, "Allow", {"s3:GetBucketLocation"}, S3Arn(p, g.bucket)));
    }
    if (g.access != api::S3Access::kWrite) {
      statements.push_back(
          Statement("PipeguardS3Read" + n, "Allow", {"s3:GetObject", "s3:GetObjectVersion"}, ObjectArns(g, p)));
    }
    if (g.access != api::S3Access::kRead) {
      statements.push_back(
          Statement("PipeguardS3Write" + n, "Allow",
                    {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
                    ObjectArns(g, p)));
    }
  }

  for (size_t i = 0; i < aws.kms.size(); ++i) {
    const api::KmsGrant& g = aws.kms[i];
    std::vector<std::string> actions;
    if (g.access != api::KmsAccess::kEncrypt) actions.push_back("kms:Decrypt");
    if (g.access != api::KmsAccess::kDecrypt) {
      actions.push_back("kms:Encrypt");
      actions.push_back("kms:GenerateDataKey");
    }
    api::Arn arn;
    api::ParseArn(g.key_arn, "kms", arn);
    if (arn.resource.starts_with("alias/")) {
      std::string keys = "arn:";
      keys.append(arn.partition).append(":kms:").append(arn.region).append(":").append(arn.account).append(":key/*");
      statements.push_back(Statement("PipeguardKms" + std::to_string(i), "Allow", actions, keys,
                                     {{"ForAnyValue:StringEquals", {{"kms:ResourceAliases", arn.resource}}}}));
    } else {
      statements.push_back(Statement("PipeguardKms" + std::to_string(i), "Allow", actions, g.key_arn));
    }
  }

  if (!aws.secret_arns.empty()) {
    json resources = json::array();
    for (const auto& arn : aws.secret_arns) {
      resources.push_back(arn);
      resources.push_back(arn + "-??????");
    }
    statements.push_back(Statement("PipeguardSecrets", "Allow",
                                   {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, resources));
  }

  for (size_t i = 0; i < aws.kafka.size(); ++i) {
    const api::KafkaGrant& g = aws.kafka[i];
    const std::string n = std::to_string(i);
    json read = json::array(), write = json::array(), groups = json::array();
    for (const auto& t : g.topics) {
      if (t.access != api::TopicAccess::kWrite) read.push_back(KafkaChildArn(g.cluster_arn, "topic", t.name));
      if (t.access != api::TopicAccess::kRead) write.push_back(KafkaChildArn(g.cluster_arn, "topic", t.name));
    }
    for (const auto& group : g.consumer_groups) groups.push_back(KafkaChildArn(g.cluster_arn, "group", group));
    std::vector<std::string> cluster_actions = {"kafka-cluster:Connect"};
    if (!write.empty()) cluster_actions.push_back("kafka-cluster:WriteDataIdempotently");
    statements.push_back(Statement("PipeguardKafkaCluster" + n, "Allow", cluster_actions, g.cluster_arn));
    if (!read.empty()) {
      statements.push_back(Statement("PipeguardKafkaRead" + n, "Allow",
                                     {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}, read));
    }
    if (!write.empty()) {
      statements.push_back(Statement("PipeguardKafkaWrite" + n, "Allow",
                                     {"kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"}, write));
    }
    if (!groups.empty()) {
      statements.push_back(Statement("PipeguardKafkaGroups" + n, "Allow",
                                     {"kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"}, groups));
    }
  }

  for (const auto& raw : aws.additional_statements) {
    statements.push_back(Statement(raw.sid, raw.effect, raw.actions, raw.resources, raw.conditions));
  }
  return {{"Version", "2012-10-17"}, {"Statement", std::move(statements)}};
}

std::string CanonicalInlinePolicy(const api::ParsedProfile& profile, std::string_view partition) {
  const json document = CompileInlinePolicy(profile, partition);
  auto canonical = aws::CanonicalPolicyString(document.dump());
  // CompileInlinePolicy always yields an object with a Statement array, which canonicalisation accepts.
  return canonical.ok() ? canonical.value() : document.dump();
}

}  // namespace pipeguard::guardrails
