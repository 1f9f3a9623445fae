// spec.aws: one function per grant type of the CRD (s3, kms, secretsManager, kafka, additionalStatements).
#include <algorithm>
#include <cctype>
#include <set>

#include "pipeguard/profile/glob.h"
#include "walker.h"

namespace pipeguard::api::internal {
namespace {

// S3 bucket naming rules beyond the CRD pattern (docs: "General purpose bucket naming rules").
std::string BucketNameProblem(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return "must be 3 to 63 characters";
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return "may contain only lowercase letters, digits, '.' and '-'";
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(b.front())) || !std::isalnum(static_cast<unsigned char>(b.back()))) {
    return "must start and end with a letter or digit";
  }
  if (b.find("..") != std::string::npos || b.find(".-") != std::string::npos || b.find("-.") != std::string::npos) {
    return "must not contain \"..\", \".-\" or \"-.\"";
  }
  if (b.rfind("xn--", 0) == 0 || b.rfind("sthree-", 0) == 0) return "must not start with xn-- or sthree- (reserved)";
  if (b.ends_with("-s3alias") || b.ends_with("--ol-s3") || b.ends_with("--x-s3")) {
    return "must not end with -s3alias, --ol-s3 or --x-s3 (reserved suffixes)";
  }
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : b) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && (c == '.' || (c >= '0' && c <= '9'));
  }
  if (digits_and_dots && dots == 3) return "must not be formatted as an IP address";
  return "";
}

bool IsKafkaTopicName(const std::string& t) {
  if (t.empty() || t.size() > 249 || t == "." || t == "..") return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool IsActionShape(const std::string& a) {
  const auto colon = a.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = a[i];
    if (i < colon) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    } else if (i > colon) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '*') return false;
    }
  }
  return true;
}

std::string ConditionsProblem(const json& conditions) {
  if (!conditions.is_object()) return "must be an object {Operator: {conditionKey: value or [values]}}";
  for (const auto& [op, keys] : conditions.items()) {
    if (op.empty() || !std::all_of(op.begin(), op.end(),
                                   [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == ':'; })) {
      return "operator \"" + op.substr(0, 64) + "\" is not an IAM condition operator (e.g. StringEquals)";
    }
    if (!keys.is_object() || keys.empty()) return op + " must map condition keys to values";
    for (const auto& [key, value] : keys.items()) {
      if (!IsPolicyText(key) || key.empty()) return "condition key under " + op + " is empty or not Latin-1";
      auto scalar_ok = [](const json& v) {
        return v.is_boolean() || v.is_number() || (v.is_string() && IsPolicyText(v.get<std::string>()));
      };
      if (value.is_array()) {
        if (value.empty() || !std::all_of(value.begin(), value.end(), scalar_ok)) {
          return op + "." + key + " must be a non-empty list of strings, numbers or booleans (Latin-1 text)";
        }
      } else if (!scalar_ok(value)) {
        return op + "." + key + " must be a string, number, boolean or a list of them (Latin-1 text)";
      }
    }
  }
  return "";
}

// spec.aws.s3WriteKmsKeyArn: read before the grants, which require it when they write.
void ParseS3WriteKey(Walker& w, const json& aws, const std::string& path, AwsSpec& out) {
  Arn arn;
  if (const json* v = Walker::Find(aws, "s3WriteKmsKeyArn")) {
    const std::string p = PointerChild(path, "s3WriteKmsKeyArn");
    if (auto s = w.String(*v, p)) {
      if (!ParseArn(*s, "kms", arn) || !arn.resource.starts_with("key/") || arn.resource.size() == 4 ||
          !IsPolicyText(*s)) {
        w.Problem(p,
                  "must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id> (not an alias: S3 reports "
                  "the key ARN, so the policy compares against it)");
      } else {
        out.s3_write_kms_key_arn = *s;
      }
    }
  }
}

// spec.aws.s3[i]; `aws` has the write key already.
S3Grant ParseS3Grant(Walker& w, const json& item, const std::string& ip, const AwsSpec& aws) {
  w.KnownKeys(item, ip, {"bucket", "prefixes", "access"});
  S3Grant g;
  if (const json* b = w.Required(item, ip, "bucket", " (the S3 bucket name)")) {
    if (auto s = w.String(*b, PointerChild(ip, "bucket"))) {
      if (auto problem = BucketNameProblem(*s); !problem.empty()) {
        w.Problem(PointerChild(ip, "bucket"), "\"" + s->substr(0, 80) + "\" is not an S3 bucket name: " + problem);
      }
      g.bucket = *s;
    }
  }
  std::set<std::string> seen;
  w.ForEachString(item, ip, "prefixes", 32, [&](const std::string& s, const std::string& jp) {
    if (s.empty()) {
      w.Problem(jp, "is empty; leave prefixes out to grant the whole bucket");
    } else if (s.size() > 512) {
      w.Problem(jp, "must be at most 512 characters");
    } else if (s[0] == '/') {
      w.Problem(jp, "must not start with '/': S3 keys have no leading slash (write \"" + s.substr(1, 60) + "\")");
    } else if (s.find_first_of("*?") != std::string::npos || s.find("${") != std::string::npos) {
      w.Problem(jp,
                "must be literal: '*', '?' and '${' are IAM wildcards or variables (pipeguard adds "
                "the trailing wildcard itself)");
    } else if (!IsPolicyText(s)) {
      w.Problem(jp, "may contain only characters U+0020..U+00FF (IAM policy documents accept no others)");
    } else if (!seen.insert(s).second) {
      w.Problem(jp, "is listed twice");
    } else {
      g.prefixes.push_back(s);
    }
  });
  if (auto access = w.RequiredOneOf<S3Access>(
          item, ip, "access",
          {{"read", S3Access::kRead}, {"write", S3Access::kWrite}, {"readwrite", S3Access::kReadWrite}})) {
    g.access = *access;
    if (g.access != S3Access::kRead && aws.s3_write_kms_key_arn.empty()) {
      w.Problem(PointerChild(ip, "access"),
                "grants S3 writes, which must be encrypted with SSE-KMS: set spec.aws.s3WriteKmsKeyArn to "
                "the KMS key ARN writers must use");
    }
  }
  return g;
}

// spec.aws.kms[i].
KmsGrant ParseKmsGrant(Walker& w, const json& item, const std::string& ip) {
  Arn arn;
  w.KnownKeys(item, ip, {"keyArn", "access"});
  KmsGrant g;
  if (const json* k = w.Required(item, ip, "keyArn")) {
    if (auto s = w.String(*k, PointerChild(ip, "keyArn"))) {
      const bool shape = ParseArn(*s, "kms", arn) && ((arn.resource.starts_with("key/") && arn.resource.size() > 4) ||
                                                      (arn.resource.starts_with("alias/") && arn.resource.size() > 6));
      if (!shape || !IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
        w.Problem(PointerChild(ip, "keyArn"),
                  "must be a KMS key or alias ARN without wildcards, arn:aws:kms:<region>:<account>:key/<id> "
                  "or ...:alias/<name>");
      }
      g.key_arn = *s;
    }
  }
  if (auto access = w.RequiredOneOf<KmsAccess>(item, ip, "access",
                                               {{"decrypt", KmsAccess::kDecrypt},
                                                {"encrypt", KmsAccess::kEncrypt},
                                                {"encrypt-decrypt", KmsAccess::kEncryptDecrypt}})) {
    g.access = *access;
  }
  return g;
}

// spec.aws.secretsManager[i]: appended to out.secret_arns when valid and not already in `seen`.
void ParseSecretGrant(Walker& w, const json& item, const std::string& ip, std::set<std::string>& seen, AwsSpec& out) {
  Arn arn;
  w.KnownKeys(item, ip, {"secretArn"});
  const json* a = w.Required(item, ip, "secretArn");
  if (!a) return;
  auto s = w.String(*a, PointerChild(ip, "secretArn"));
  if (!s) return;
  if (!ParseArn(*s, "secretsmanager", arn) || !arn.resource.starts_with("secret:") || arn.resource.size() == 7 ||
      !IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
    w.Problem(PointerChild(ip, "secretArn"),
              "must be a Secrets Manager secret ARN without wildcards, "
              "arn:aws:secretsmanager:<region>:<account>:secret:<name>");
  } else if (!seen.insert(*s).second) {
    w.Problem(PointerChild(ip, "secretArn"), "is listed twice");
  } else {
    out.secret_arns.push_back(*s);
  }
}

// spec.aws.kafka[i].
KafkaGrant ParseKafkaGrant(Walker& w, const json& item, const std::string& ip) {
  Arn arn;
  w.KnownKeys(item, ip, {"clusterArn", "topics", "consumerGroups"});
  KafkaGrant g;
  if (const json* c = w.Required(item, ip, "clusterArn")) {
    if (auto s = w.String(*c, PointerChild(ip, "clusterArn"))) {
      // cluster/<name>/<uuid>: the topic and group ARNs are derived from the name and UUID.
      const bool shape = ParseArn(*s, "kafka", arn) && arn.resource.starts_with("cluster/") &&
                         std::count(arn.resource.begin(), arn.resource.end(), '/') == 2 &&
                         arn.resource.find("//") == std::string::npos && !arn.resource.ends_with("/");
      if (!shape || !IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
        w.Problem(PointerChild(ip, "clusterArn"),
                  "must be an MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> (copy it "
                  "from the MSK console or `aws kafka list-clusters`)");
      }
      g.cluster_arn = *s;
    }
  }
  if (const json* topics = w.Required(item, ip, "topics", " (at least one topic)")) {
    const std::string tp = PointerChild(ip, "topics");
    if (w.Array(*topics, tp, 1, 64)) {
      std::set<std::string> seen;
      for (size_t j = 0; j < topics->size(); ++j) {
        const json& t = (*topics)[j];
        const std::string jp = PointerChild(tp, j);
        if (!w.IsObject(t, jp)) continue;
        w.KnownKeys(t, jp, {"name", "access"});
        KafkaTopic topic;
        if (const json* n = w.Required(t, jp, "name")) {
          if (auto s = w.String(*n, PointerChild(jp, "name"))) {
            if (!IsKafkaTopicName(*s)) {
              w.Problem(PointerChild(jp, "name"),
                        "is not a Kafka topic name: 1..249 of [A-Za-z0-9._-], not \".\" or \"..\" (no "
                        "wildcards)");
            } else if (!seen.insert(*s).second) {
              w.Problem(PointerChild(jp, "name"), "is listed twice; give one entry with access readwrite");
            }
            topic.name = *s;
          }
        }
        if (auto access = w.RequiredOneOf<TopicAccess>(t, jp, "access",
                                                       {{"read", TopicAccess::kRead},
                                                        {"write", TopicAccess::kWrite},
                                                        {"readwrite", TopicAccess::kReadWrite}})) {
          topic.access = *access;
        }
        g.topics.push_back(std::move(topic));
      }
    }
  }
  std::set<std::string> groups;
  w.ForEachString(item, ip, "consumerGroups", 32, [&](const std::string& s, const std::string& jp) {
    if (s.empty() || s.size() > 255 || !IsPolicyText(s) || s.find_first_of("*?") != std::string::npos) {
      w.Problem(jp, "must be a consumer group name: 1..255 characters U+0020..U+00FF, no wildcards");
    } else if (!groups.insert(s).second) {
      w.Problem(jp, "is listed twice");
    } else {
      g.consumer_groups.push_back(s);
    }
  });
  return g;
}

// spec.aws.additionalStatements[i]; `sids` holds the lowercase Sids seen so far, `aws` has the write key already.
RawStatement ParseStatement(Walker& w, const json& item, const std::string& ip, std::set<std::string>& sids,
                            const AwsSpec& aws) {
  w.KnownKeys(item, ip, {"sid", "effect", "actions", "resources", "conditions"});
  RawStatement st;
  if (const json* s = w.Required(item, ip, "sid")) {
    if (auto sid = w.String(*s, PointerChild(ip, "sid"))) {
      std::string lower = *sid;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (sid->empty() || sid->size() > 64 ||
          !std::all_of(sid->begin(), sid->end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
        w.Problem(PointerChild(ip, "sid"), "must be 1..64 letters and digits");
      } else if (lower.starts_with("pipeguard")) {
        w.Problem(PointerChild(ip, "sid"), "must not start with \"Pipeguard\" (reserved for compiled statements)");
      } else if (!sids.insert(lower).second) {
        w.Problem(PointerChild(ip, "sid"), "is used twice (Sids are unique in a policy, regardless of case)");
      }
      st.sid = *sid;
    }
  }
  if (auto effect = w.RequiredOneOf<std::string>(item, ip, "effect", {{"Allow", "Allow"}, {"Deny", "Deny"}})) {
    st.effect = *effect;
  }
  if (const json* actions = w.Required(item, ip, "actions", " (at least one action)")) {
    const std::string ap = PointerChild(ip, "actions");
    if (w.Array(*actions, ap, 1, 32)) {
      for (size_t j = 0; j < actions->size(); ++j) {
        auto a = w.String((*actions)[j], PointerChild(ap, j));
        if (!a) continue;
        if (!IsActionShape(*a)) {
          w.Problem(PointerChild(ap, j),
                    "must be service:Action, e.g. glue:GetTable (the service in lowercase; "
                    "'*' only in the action part)");
        } else if (st.effect == "Allow" && aws.s3_write_kms_key_arn.empty() &&
                   GlobsIntersect(*a, "s3:PutObject", true)) {
          w.Problem(PointerChild(ap, j),
                    "grants S3 writes (s3:PutObject), which must be encrypted with SSE-KMS: "
                    "set spec.aws.s3WriteKmsKeyArn");
        }
        st.actions.push_back(*a);
      }
    }
  }
  if (const json* resources = w.Required(item, ip, "resources", " (at least one resource ARN)")) {
    const std::string rp = PointerChild(ip, "resources");
    if (w.Array(*resources, rp, 1, 32)) {
      for (size_t j = 0; j < resources->size(); ++j) {
        auto r = w.String((*resources)[j], PointerChild(rp, j));
        if (!r) continue;
        if (r->empty() || r->size() > 2048 || !IsPolicyText(*r)) {
          w.Problem(PointerChild(rp, j), "must be an ARN or \"*\" of 1..2048 characters U+0020..U+00FF");
        }
        st.resources.push_back(*r);
      }
    }
  }
  if (const json* c = Walker::Find(item, "conditions")) {
    if (auto problem = ConditionsProblem(*c); !problem.empty()) {
      w.Problem(PointerChild(ip, "conditions"), problem);
    } else if (!c->empty()) {
      st.conditions = *c;
    }
  }
  return st;
}

}  // namespace

void ParseAws(Walker& w, const json& aws, const std::string& path, AwsSpec& out) {
  if (!w.IsObject(aws, path)) return;
  w.KnownKeys(aws, path,
              {"s3", "kms", "s3WriteKmsKeyArn", "secretsManager", "kafka", "additionalStatements",
               "maxSessionDurationSeconds"});
  ParseS3WriteKey(w, aws, path, out);
  w.ForEachObject(aws, path, "s3", 32,
                  [&](const json& item, const std::string& ip) { out.s3.push_back(ParseS3Grant(w, item, ip, out)); });
  w.ForEachObject(aws, path, "kms", 16,
                  [&](const json& item, const std::string& ip) { out.kms.push_back(ParseKmsGrant(w, item, ip)); });
  std::set<std::string> secrets;
  w.ForEachObject(aws, path, "secretsManager", 32,
                  [&](const json& item, const std::string& ip) { ParseSecretGrant(w, item, ip, secrets, out); });
  w.ForEachObject(aws, path, "kafka", 16,
                  [&](const json& item, const std::string& ip) { out.kafka.push_back(ParseKafkaGrant(w, item, ip)); });
  std::set<std::string> sids;
  w.ForEachObject(aws, path, "additionalStatements", 8, [&](const json& item, const std::string& ip) {
    out.additional_statements.push_back(ParseStatement(w, item, ip, sids, out));
  });

  if (const json* v = Walker::Find(aws, "maxSessionDurationSeconds")) {
    if (auto n = w.Integer(*v, PointerChild(path, "maxSessionDurationSeconds"), 3600, 43200)) {
      out.max_session_duration_seconds = static_cast<int>(*n);
    }
  }
}

}  // namespace pipeguard::api::internal
