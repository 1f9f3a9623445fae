// The role's inline permissions policy compiled from a profile's spec.aws grants. Pure.
//
// Statements, in this fixed order (indexes are positions in the profile's lists, so Sids are stable while the
// profile is):
//   PipeguardDenyInsecureTransport   Deny * on * when aws:SecureTransport is false (always)
//   PipeguardDenyS3WriteWithoutSseKms Deny s3:PutObject on * unless s3:x-amz-server-side-encryption = aws:kms
//   PipeguardDenyS3WriteOtherKey     Deny s3:PutObject on * unless the SSE-KMS key id header is s3WriteKmsKeyArn
//                                    (both when s3WriteKmsKeyArn is set, which ParseProfile requires for writes;
//                                    clients must send the key ARN explicitly, a bucket default key is refused)
//   PipeguardS3WriteKey              kms:GenerateDataKey, kms:Decrypt on s3WriteKmsKeyArn via S3 only
//                                    (kms:ViaService s3.<region>.amazonaws.com), needed for SSE-KMS writes
//   PipeguardS3Bucket<i>             s3:ListBucket, s3:GetBucketLocation on the bucket (every access level: Spark
//                                    and dbt writers list too). With prefixes, ListBucket alone, limited by
//                                    StringLike s3:prefix ["<p>*", ...], and GetBucketLocation (which has no
//                                    prefix) in its own PipeguardS3Location<i>
//   PipeguardS3Read<i>               s3:GetObject, s3:GetObjectVersion on bucket/<p>* (or bucket/*)
//   PipeguardS3Write<i>              s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload,
//                                    s3:ListMultipartUploadParts on the same object ARNs
//   PipeguardKms<i>                  decrypt: kms:Decrypt; encrypt: kms:Encrypt, kms:GenerateDataKey; both: all
//                                    three. Key ARNs directly; alias ARNs as key/* of that region and account with
//                                    ForAnyValue:StringEquals kms:ResourceAliases alias/<name> (IAM authorises KMS
//                                    use against the key, never the alias ARN)
//   PipeguardSecrets                 secretsmanager:GetSecretValue, DescribeSecret on each ARN as given and with
//                                    "-??????" appended (Secrets Manager adds a 6-character suffix to secret ARNs;
//                                    an ARN given without it still works)
//   PipeguardKafkaCluster<i>         kafka-cluster:Connect (+ WriteDataIdempotently when a topic is written) on the
//                                    cluster ARN
//   PipeguardKafkaRead<i>            kafka-cluster:DescribeTopic, ReadData on arn:...:topic/<cluster>/<uuid>/<topic>
//   PipeguardKafkaWrite<i>           kafka-cluster:DescribeTopic, WriteData on the written topics
//   PipeguardKafkaGroups<i>          kafka-cluster:DescribeGroup, AlterGroup on arn:...:group/<cluster>/<uuid>/<g>
//   <sid>                            spec.aws.additionalStatements, as given, in order
// Statements without resources are left out. The document always has "Version": "2012-10-17".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "pipeguard/profile/profile.h"

namespace pipeguard::guardrails {

// The policy document (not yet canonical). `partition` is "aws", "aws-cn" or "aws-us-gov" (S3 ARNs carry no
// account or region, so they take it from here). A profile without spec.aws gives the transport deny alone.
nlohmann::json CompileInlinePolicy(const api::ParsedProfile& profile, std::string_view partition = "aws");

// The same, in canonical text form (aws::CanonicalPolicyString): what is sent to IAM and compared with it.
std::string CanonicalInlinePolicy(const api::ParsedProfile& profile, std::string_view partition = "aws");

}  // namespace pipeguard::guardrails
