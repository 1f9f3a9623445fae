#include "pipeguard/operator/profile.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "pipeguard/operator/cidr.h"
#include "pipeguard/operator/glob.h"
#include "pipeguard/policy/json_pointer.h"
#include "pipeguard/policy/label_selector.h"
#include "text_checks.h"

namespace pipeguard::reconcilers {

using nlohmann::json;
using policy::PointerChild;

std::string JoinViolations(const std::vector<GuardrailViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out.append("; ");
    out.append(v.path.empty() ? "/" : v.path).append(": ").append(v.message);
  }
  return out;
}

bool AwsSpec::GrantsS3Writes() const {
  return std::any_of(s3.begin(), s3.end(), [](const S3Grant& g) { return g.access != S3Access::kRead; });
}

namespace {

// Collects problems while walking the profile; every accessor records a problem and returns false/nullopt on a
// wrong shape, so one pass reports everything.
class Walker {
 public:
  std::vector<GuardrailViolation> problems;

  void Problem(const std::string& path, std::string message) { problems.push_back({path, std::move(message)}); }

  // `object[key]` if present (and `object` is an object), else nullptr.
  static const json* Find(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  bool IsObject(const json& v, const std::string& path) {
    if (v.is_object()) return true;
    Problem(path, "must be an object");
    return false;
  }

  // Reports keys other than `allowed`. The API server prunes unknown fields silently; files given to the CLI do not
  // pass through it, so a misspelt field (e.g. "prefix") is reported instead of being ignored.
  void KnownKeys(const json& object, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!object.is_object()) return;
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string accepted;
        for (const char* a : allowed) accepted.append(accepted.empty() ? "" : ", ").append(a);
        Problem(PointerChild(path, key), "unknown field (accepted here: " + accepted + ")");
      }
    }
  }

  std::optional<std::string> String(const json& v, const std::string& path) {
    if (v.is_string()) return v.get<std::string>();
    Problem(path, "must be a string");
    return std::nullopt;
  }

  std::optional<bool> Bool(const json& v, const std::string& path) {
    if (v.is_boolean()) return v.get<bool>();
    Problem(path, "must be true or false");
    return std::nullopt;
  }

  std::optional<long long> Integer(const json& v, const std::string& path, long long min, long long max) {
    if (v.is_number_integer() && v.get<long long>() >= min && v.get<long long>() <= max) return v.get<long long>();
    Problem(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }

  // An array of at most max_items (and at least min_items); nullptr (and a problem) otherwise.
  const json* Array(const json& v, const std::string& path, size_t min_items, size_t max_items) {
    if (!v.is_array()) {
      Problem(path, "must be a list");
      return nullptr;
    }
    if (v.size() < min_items || v.size() > max_items) {
      Problem(path, "must have " + (min_items > 0 ? std::to_string(min_items) + " to " : std::string("at most ")) +
                        std::to_string(max_items) + " items (has " + std::to_string(v.size()) + ")");
      return nullptr;
    }
    return &v;
  }

  template <typename Enum>
  std::optional<Enum> OneOf(const json& v, const std::string& path,
                            std::initializer_list<std::pair<const char*, Enum>> values) {
    std::string accepted;
    for (const auto& [name, value] : values) {
      if (v.is_string() && v.get<std::string>() == name) return value;
      accepted.append(accepted.empty() ? "" : ", ").append(name);
    }
    Problem(path, "must be one of " + accepted);
    return std::nullopt;
  }

  // A LabelSelector as the API accepts it; returns it as given when valid.
  std::optional<json> Selector(const json& v, const std::string& path) {
    if (!IsObject(v, path)) return std::nullopt;
    KnownKeys(v, path, {"matchLabels", "matchExpressions"});
    auto selector = policy::LabelSelector::FromJson(v, path);
    if (!selector.ok()) {
      Problem(path, selector.status().message());
      return std::nullopt;
    }
    bool ok = true;
    if (const json* labels = Find(v, "matchLabels"); labels && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (!IsLabelKey(key)) {
          Problem(PointerChild(PointerChild(path, "matchLabels"), key),
                  "is not a valid label key (an optional DNS prefix and '/', then 1..63 of [A-Za-z0-9._-])");
          ok = false;
        } else if (!value.is_string() || !IsLabelValue(value.get<std::string>())) {
          Problem(PointerChild(PointerChild(path, "matchLabels"), key),
                  "must be a label value: 0..63 of [A-Za-z0-9._-], starting and ending alphanumeric");
          ok = false;
        }
      }
    }
    if (!ok) return std::nullopt;
    return v;
  }

  static bool IsLabelValue(std::string_view s) {
    if (s.size() > 63) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      const bool alnum = std::isalnum(static_cast<unsigned char>(s[i])) != 0;
      if (!alnum && ((s[i] != '-' && s[i] != '_' && s[i] != '.') || i == 0 || i + 1 == s.size())) return false;
    }
    return true;
  }

  static bool IsLabelKey(std::string_view s) {
    const auto slash = s.find('/');
    if (slash != std::string_view::npos) {
      if (!internal::IsDnsSubdomain(s.substr(0, slash))) return false;
      s.remove_prefix(slash + 1);
    }
    return !s.empty() && IsLabelValue(s);
  }
};

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
      if (!internal::IsPolicyText(key) || key.empty()) return "condition key under " + op + " is empty or not Latin-1";
      auto scalar_ok = [](const json& v) {
        return v.is_boolean() || v.is_number() || (v.is_string() && internal::IsPolicyText(v.get<std::string>()));
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

void ParseAws(Walker& w, const json& aws, const std::string& path, AwsSpec& out) {
  if (!w.IsObject(aws, path)) return;
  w.KnownKeys(aws, path,
              {"s3", "kms", "s3WriteKmsKeyArn", "secretsManager", "kafka", "additionalStatements",
               "maxSessionDurationSeconds"});
  internal::Arn arn;

  if (const json* v = Walker::Find(aws, "s3WriteKmsKeyArn")) {
    const std::string p = PointerChild(path, "s3WriteKmsKeyArn");
    if (auto s = w.String(*v, p)) {
      if (!internal::ParseArn(*s, "kms", arn) || !arn.resource.starts_with("key/") || arn.resource.size() == 4 ||
          !internal::IsPolicyText(*s)) {
        w.Problem(p,
                  "must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id> (not an alias: S3 reports "
                  "the key ARN, so the policy compares against it)");
      } else {
        out.s3_write_kms_key_arn = *s;
      }
    }
  }

  if (const json* list = Walker::Find(aws, "s3")) {
    const std::string lp = PointerChild(path, "s3");
    if (w.Array(*list, lp, 0, 32)) {
      for (size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject(item, ip)) continue;
        w.KnownKeys(item, ip, {"bucket", "prefixes", "access"});
        S3Grant g;
        if (const json* b = Walker::Find(item, "bucket")) {
          if (auto s = w.String(*b, PointerChild(ip, "bucket"))) {
            if (auto problem = BucketNameProblem(*s); !problem.empty()) {
              w.Problem(PointerChild(ip, "bucket"),
                        "\"" + s->substr(0, 80) + "\" is not an S3 bucket name: " + problem);
            }
            g.bucket = *s;
          }
        } else {
          w.Problem(PointerChild(ip, "bucket"), "is required (the S3 bucket name)");
        }
        if (const json* prefixes = Walker::Find(item, "prefixes")) {
          const std::string pp = PointerChild(ip, "prefixes");
          if (w.Array(*prefixes, pp, 0, 32)) {
            std::set<std::string> seen;
            for (size_t j = 0; j < prefixes->size(); ++j) {
              const std::string jp = PointerChild(pp, j);
              auto s = w.String((*prefixes)[j], jp);
              if (!s) continue;
              if (s->empty()) {
                w.Problem(jp, "is empty; leave prefixes out to grant the whole bucket");
              } else if (s->size() > 512) {
                w.Problem(jp, "must be at most 512 characters");
              } else if ((*s)[0] == '/') {
                w.Problem(
                    jp, "must not start with '/': S3 keys have no leading slash (write \"" + s->substr(1, 60) + "\")");
              } else if (s->find_first_of("*?") != std::string::npos || s->find("${") != std::string::npos) {
                w.Problem(jp,
                          "must be literal: '*', '?' and '${' are IAM wildcards or variables (pipeguard adds "
                          "the trailing wildcard itself)");
              } else if (!internal::IsPolicyText(*s)) {
                w.Problem(jp, "may contain only characters U+0020..U+00FF (IAM policy documents accept no others)");
              } else if (!seen.insert(*s).second) {
                w.Problem(jp, "is listed twice");
              } else {
                g.prefixes.push_back(*s);
              }
            }
          }
        }
        if (const json* a = Walker::Find(item, "access")) {
          if (auto access = w.OneOf<S3Access>(
                  *a, PointerChild(ip, "access"),
                  {{"read", S3Access::kRead}, {"write", S3Access::kWrite}, {"readwrite", S3Access::kReadWrite}})) {
            g.access = *access;
            if (g.access != S3Access::kRead && out.s3_write_kms_key_arn.empty()) {
              w.Problem(PointerChild(ip, "access"),
                        "grants S3 writes, which must be encrypted with SSE-KMS: set spec.aws.s3WriteKmsKeyArn to "
                        "the KMS key ARN writers must use");
            }
          }
        } else {
          w.Problem(PointerChild(ip, "access"), "is required: read, write or readwrite");
        }
        out.s3.push_back(std::move(g));
      }
    }
  }

  if (const json* list = Walker::Find(aws, "kms")) {
    const std::string lp = PointerChild(path, "kms");
    if (w.Array(*list, lp, 0, 16)) {
      for (size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject(item, ip)) continue;
        w.KnownKeys(item, ip, {"keyArn", "access"});
        KmsGrant g;
        if (const json* k = Walker::Find(item, "keyArn")) {
          if (auto s = w.String(*k, PointerChild(ip, "keyArn"))) {
            const bool shape =
                internal::ParseArn(*s, "kms", arn) && ((arn.resource.starts_with("key/") && arn.resource.size() > 4) ||
                                                       (arn.resource.starts_with("alias/") && arn.resource.size() > 6));
            if (!shape || !internal::IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
              w.Problem(PointerChild(ip, "keyArn"),
                        "must be a KMS key or alias ARN without wildcards, arn:aws:kms:<region>:<account>:key/<id> "
                        "or ...:alias/<name>");
            }
            g.key_arn = *s;
          }
        } else {
          w.Problem(PointerChild(ip, "keyArn"), "is required");
        }
        if (const json* a = Walker::Find(item, "access")) {
          if (auto access = w.OneOf<KmsAccess>(*a, PointerChild(ip, "access"),
                                               {{"decrypt", KmsAccess::kDecrypt},
                                                {"encrypt", KmsAccess::kEncrypt},
                                                {"encrypt-decrypt", KmsAccess::kEncryptDecrypt}})) {
            g.access = *access;
          }
        } else {
          w.Problem(PointerChild(ip, "access"), "is required: decrypt, encrypt or encrypt-decrypt");
        }
        out.kms.push_back(std::move(g));
      }
    }
  }

  if (const json* list = Walker::Find(aws, "secretsManager")) {
    const std::string lp = PointerChild(path, "secretsManager");
    if (w.Array(*list, lp, 0, 32)) {
      std::set<std::string> seen;
      for (size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject(item, ip)) continue;
        w.KnownKeys(item, ip, {"secretArn"});
        const json* a = Walker::Find(item, "secretArn");
        if (!a) {
          w.Problem(PointerChild(ip, "secretArn"), "is required");
          continue;
        }
        auto s = w.String(*a, PointerChild(ip, "secretArn"));
        if (!s) continue;
        if (!internal::ParseArn(*s, "secretsmanager", arn) || !arn.resource.starts_with("secret:") ||
            arn.resource.size() == 7 || !internal::IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
          w.Problem(PointerChild(ip, "secretArn"),
                    "must be a Secrets Manager secret ARN without wildcards, "
                    "arn:aws:secretsmanager:<region>:<account>:secret:<name>");
        } else if (!seen.insert(*s).second) {
          w.Problem(PointerChild(ip, "secretArn"), "is listed twice");
        } else {
          out.secret_arns.push_back(*s);
        }
      }
    }
  }

  if (const json* list = Walker::Find(aws, "kafka")) {
    const std::string lp = PointerChild(path, "kafka");
    if (w.Array(*list, lp, 0, 16)) {
      for (size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject(item, ip)) continue;
        w.KnownKeys(item, ip, {"clusterArn", "topics", "consumerGroups"});
        KafkaGrant g;
        if (const json* c = Walker::Find(item, "clusterArn")) {
          if (auto s = w.String(*c, PointerChild(ip, "clusterArn"))) {
            // cluster/<name>/<uuid>: the topic and group ARNs are derived from the name and UUID.
            const bool shape = internal::ParseArn(*s, "kafka", arn) && arn.resource.starts_with("cluster/") &&
                               std::count(arn.resource.begin(), arn.resource.end(), '/') == 2 &&
                               arn.resource.find("//") == std::string::npos && !arn.resource.ends_with("/");
            if (!shape || !internal::IsPolicyText(*s) || s->find_first_of("*?") != std::string::npos) {
              w.Problem(PointerChild(ip, "clusterArn"),
                        "must be an MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> (copy it "
                        "from the MSK console or `aws kafka list-clusters`)");
            }
            g.cluster_arn = *s;
          }
        } else {
          w.Problem(PointerChild(ip, "clusterArn"), "is required");
        }
        if (const json* topics = Walker::Find(item, "topics")) {
          const std::string tp = PointerChild(ip, "topics");
          if (w.Array(*topics, tp, 1, 64)) {
            std::set<std::string> seen;
            for (size_t j = 0; j < topics->size(); ++j) {
              const json& t = (*topics)[j];
              const std::string jp = PointerChild(tp, j);
              if (!w.IsObject(t, jp)) continue;
              w.KnownKeys(t, jp, {"name", "access"});
              KafkaTopic topic;
              if (const json* n = Walker::Find(t, "name")) {
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
              } else {
                w.Problem(PointerChild(jp, "name"), "is required");
              }
              if (const json* a = Walker::Find(t, "access")) {
                if (auto access = w.OneOf<TopicAccess>(*a, PointerChild(jp, "access"),
                                                       {{"read", TopicAccess::kRead},
                                                        {"write", TopicAccess::kWrite},
                                                        {"readwrite", TopicAccess::kReadWrite}})) {
                  topic.access = *access;
                }
              } else {
                w.Problem(PointerChild(jp, "access"), "is required: read, write or readwrite");
              }
              g.topics.push_back(std::move(topic));
            }
          }
        } else {
          w.Problem(PointerChild(ip, "topics"), "is required (at least one topic)");
        }
        if (const json* groups = Walker::Find(item, "consumerGroups")) {
          const std::string gp = PointerChild(ip, "consumerGroups");
          if (w.Array(*groups, gp, 0, 32)) {
            std::set<std::string> seen;
            for (size_t j = 0; j < groups->size(); ++j) {
              const std::string jp = PointerChild(gp, j);
              auto s = w.String((*groups)[j], jp);
              if (!s) continue;
              if (s->empty() || s->size() > 255 || !internal::IsPolicyText(*s) ||
                  s->find_first_of("*?") != std::string::npos) {
                w.Problem(jp, "must be a consumer group name: 1..255 characters U+0020..U+00FF, no wildcards");
              } else if (!seen.insert(*s).second) {
                w.Problem(jp, "is listed twice");
              } else {
                g.consumer_groups.push_back(*s);
              }
            }
          }
        }
        out.kafka.push_back(std::move(g));
      }
    }
  }

  if (const json* list = Walker::Find(aws, "additionalStatements")) {
    const std::string lp = PointerChild(path, "additionalStatements");
    if (w.Array(*list, lp, 0, 8)) {
      std::set<std::string> sids;
      for (size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject(item, ip)) continue;
        w.KnownKeys(item, ip, {"sid", "effect", "actions", "resources", "conditions"});
        RawStatement st;
        if (const json* s = Walker::Find(item, "sid")) {
          if (auto sid = w.String(*s, PointerChild(ip, "sid"))) {
            std::string lower = *sid;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (sid->empty() || sid->size() > 64 || !std::all_of(sid->begin(), sid->end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c));
                })) {
              w.Problem(PointerChild(ip, "sid"), "must be 1..64 letters and digits");
            } else if (lower.starts_with("pipeguard")) {
              w.Problem(PointerChild(ip, "sid"),
                        "must not start with \"Pipeguard\" (reserved for compiled statements)");
            } else if (!sids.insert(lower).second) {
              w.Problem(PointerChild(ip, "sid"), "is used twice (Sids are unique in a policy, regardless of case)");
            }
            st.sid = *sid;
          }
        } else {
          w.Problem(PointerChild(ip, "sid"), "is required");
        }
        if (const json* e = Walker::Find(item, "effect")) {
          if (auto effect =
                  w.OneOf<std::string>(*e, PointerChild(ip, "effect"), {{"Allow", "Allow"}, {"Deny", "Deny"}})) {
            st.effect = *effect;
          }
        } else {
          w.Problem(PointerChild(ip, "effect"), "is required: Allow or Deny");
        }
        if (const json* actions = Walker::Find(item, "actions")) {
          const std::string ap = PointerChild(ip, "actions");
          if (w.Array(*actions, ap, 1, 32)) {
            for (size_t j = 0; j < actions->size(); ++j) {
              auto a = w.String((*actions)[j], PointerChild(ap, j));
              if (!a) continue;
              if (!IsActionShape(*a)) {
                w.Problem(PointerChild(ap, j),
                          "must be service:Action, e.g. glue:GetTable (the service in lowercase; "
                          "'*' only in the action part)");
              } else if (st.effect == "Allow" && out.s3_write_kms_key_arn.empty() &&
                         GlobsIntersect(*a, "s3:PutObject", true)) {
                w.Problem(PointerChild(ap, j),
                          "grants S3 writes (s3:PutObject), which must be encrypted with SSE-KMS: "
                          "set spec.aws.s3WriteKmsKeyArn");
              }
              st.actions.push_back(*a);
            }
          }
        } else {
          w.Problem(PointerChild(ip, "actions"), "is required (at least one action)");
        }
        if (const json* resources = Walker::Find(item, "resources")) {
          const std::string rp = PointerChild(ip, "resources");
          if (w.Array(*resources, rp, 1, 32)) {
            for (size_t j = 0; j < resources->size(); ++j) {
              auto r = w.String((*resources)[j], PointerChild(rp, j));
              if (!r) continue;
              if (r->empty() || r->size() > 2048 || !internal::IsPolicyText(*r)) {
                w.Problem(PointerChild(rp, j), "must be an ARN or \"*\" of 1..2048 characters U+0020..U+00FF");
              }
              st.resources.push_back(*r);
            }
          }
        } else {
          w.Problem(PointerChild(ip, "resources"), "is required (at least one resource ARN)");
        }
        if (const json* c = Walker::Find(item, "conditions")) {
          if (auto problem = ConditionsProblem(*c); !problem.empty()) {
            w.Problem(PointerChild(ip, "conditions"), problem);
          } else if (!c->empty()) {
            st.conditions = *c;
          }
        }
        out.additional_statements.push_back(std::move(st));
      }
    }
  }

  if (const json* v = Walker::Find(aws, "maxSessionDurationSeconds")) {
    if (auto n = w.Integer(*v, PointerChild(path, "maxSessionDurationSeconds"), 3600, 43200)) {
      out.max_session_duration_seconds = static_cast<int>(*n);
    }
  }
}

std::optional<PortSpec> ParsePort(Walker& w, const json& item, const std::string& path) {
  if (!w.IsObject(item, path)) return std::nullopt;
  w.KnownKeys(item, path, {"port", "endPort", "protocol"});
  PortSpec p;
  bool ok = true;
  if (const json* v = Walker::Find(item, "port")) {
    auto n = w.Integer(*v, PointerChild(path, "port"), 1, 65535);
    ok = ok && n;
    if (n) p.port = static_cast<int>(*n);
  } else {
    w.Problem(PointerChild(path, "port"), "is required");
    ok = false;
  }
  if (const json* v = Walker::Find(item, "endPort")) {
    auto n = w.Integer(*v, PointerChild(path, "endPort"), 1, 65535);
    if (n && p.port > 0 && *n < p.port) {
      w.Problem(PointerChild(path, "endPort"), "must not be below port (" + std::to_string(p.port) + ")");
      ok = false;
    } else if (n) {
      p.end_port = static_cast<int>(*n);
    } else {
      ok = false;
    }
  }
  if (const json* v = Walker::Find(item, "protocol")) {
    auto proto =
        w.OneOf<std::string>(*v, PointerChild(path, "protocol"), {{"TCP", "TCP"}, {"UDP", "UDP"}, {"SCTP", "SCTP"}});
    ok = ok && proto;
    if (proto) p.protocol = *proto;
  }
  if (!ok) return std::nullopt;
  return p;
}

void ParseEgressRule(Walker& w, const json& item, const std::string& ip, EgressRule& rule) {
  w.KnownKeys(item, ip, {"description", "cidr", "except", "namespace", "podSelector", "service", "ports"});
  if (const json* d = Walker::Find(item, "description")) {
    if (auto s = w.String(*d, PointerChild(ip, "description"))) {
      if (s->size() > 256) w.Problem(PointerChild(ip, "description"), "must be at most 256 characters");
      rule.description = *s;
    }
  }
  const json* cidr = Walker::Find(item, "cidr");
  const json* service = Walker::Find(item, "service");
  const json* ns = Walker::Find(item, "namespace");
  const json* selector = Walker::Find(item, "podSelector");
  const int kinds = (cidr ? 1 : 0) + (service ? 1 : 0) + ((ns || selector) ? 1 : 0);
  if (kinds != 1) {
    w.Problem(ip, "each egress rule names exactly one destination: cidr, service, or namespace/podSelector");
    return;
  }
  std::optional<Cidr> parsed_cidr;
  if (cidr) {
    rule.kind = EgressRule::Kind::kCidr;
    const std::string cp = PointerChild(ip, "cidr");
    if (auto s = w.String(*cidr, cp)) {
      auto c = ParseCidr(*s);
      if (!c.ok()) {
        w.Problem(cp, c.status().message());
      } else if (c->HasHostBits()) {
        w.Problem(cp, "\"" + *s + "\" has host bits set; did you mean " + c->ToString() + "?");
      } else {
        parsed_cidr = *c;
        rule.cidr = c->ToString();
      }
    }
  }
  if (const json* except = Walker::Find(item, "except")) {
    const std::string ep = PointerChild(ip, "except");
    if (!cidr) {
      w.Problem(ep, "except only applies to a cidr destination");
    } else if (w.Array(*except, ep, 0, 16)) {
      for (size_t j = 0; j < except->size(); ++j) {
        const std::string jp = PointerChild(ep, j);
        auto s = w.String((*except)[j], jp);
        if (!s) continue;
        auto c = ParseCidr(*s);
        if (!c.ok()) {
          w.Problem(jp, c.status().message());
        } else if (c->HasHostBits()) {
          w.Problem(jp, "\"" + *s + "\" has host bits set; did you mean " + c->ToString() + "?");
        } else if (parsed_cidr && (!CidrContains(*parsed_cidr, *c) || c->prefix_length == parsed_cidr->prefix_length)) {
          w.Problem(jp, c->ToString() + " must lie strictly inside the cidr " + parsed_cidr->ToString());
        } else {
          rule.except.push_back(c->ToString());
        }
      }
    }
  }
  if (service) {
    rule.kind = EgressRule::Kind::kService;
    const std::string sp = PointerChild(ip, "service");
    if (w.IsObject(*service, sp)) {
      w.KnownKeys(*service, sp, {"name", "namespace"});
      if (const json* n = Walker::Find(*service, "name")) {
        if (auto s = w.String(*n, PointerChild(sp, "name"))) {
          if (!internal::IsDns1035Label(*s)) {
            w.Problem(PointerChild(sp, "name"), "must be a Service name (DNS-1035 label: lowercase letter first)");
          }
          rule.service_name = *s;
        }
      } else {
        w.Problem(PointerChild(sp, "name"), "is required");
      }
      if (const json* n = Walker::Find(*service, "namespace")) {
        if (auto s = w.String(*n, PointerChild(sp, "namespace"))) {
          if (!internal::IsDnsLabel(*s)) w.Problem(PointerChild(sp, "namespace"), "must be a namespace name");
          rule.namespace_ = *s;
        }
      }
    }
  }
  if (ns || selector) {
    rule.kind = EgressRule::Kind::kPods;
    if (ns) {
      if (auto s = w.String(*ns, PointerChild(ip, "namespace"))) {
        if (!internal::IsDnsLabel(*s)) {
          w.Problem(PointerChild(ip, "namespace"), "must be a namespace name (DNS-1123 label)");
        }
        rule.namespace_ = *s;
      }
    }
    if (selector) rule.pod_selector = w.Selector(*selector, PointerChild(ip, "podSelector"));
  }
  if (const json* ports = Walker::Find(item, "ports")) {
    const std::string pp = PointerChild(ip, "ports");
    if (w.Array(*ports, pp, 1, 16)) {
      for (size_t j = 0; j < ports->size(); ++j) {
        if (auto p = ParsePort(w, (*ports)[j], PointerChild(pp, j))) {
          if (service && p->end_port) {
            w.Problem(PointerChild(PointerChild(pp, j), "endPort"),
                      "port ranges do not apply to a Service; list the Service ports one by one");
          }
          rule.ports.push_back(*p);
        }
      }
    }
  } else {
    w.Problem(PointerChild(ip, "ports"), "is required (at least one port)");
  }
}

void ParseNetwork(Walker& w, const json& network, const std::string& path, NetworkSpec& out) {
  if (!w.IsObject(network, path)) return;
  w.KnownKeys(network, path, {"egress", "dns", "allowAwsSts"});
  if (const json* list = Walker::Find(network, "egress")) {
    const std::string lp = PointerChild(path, "egress");
    if (w.Array(*list, lp, 0, 64)) {
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string ip = PointerChild(lp, i);
        if (!w.IsObject((*list)[i], ip)) continue;
        EgressRule rule;
        ParseEgressRule(w, (*list)[i], ip, rule);
        out.egress.push_back(std::move(rule));
      }
    }
  }
  if (const json* dns = Walker::Find(network, "dns")) {
    const std::string dp = PointerChild(path, "dns");
    if (w.IsObject(*dns, dp)) {
      w.KnownKeys(*dns, dp, {"enabled", "namespace", "podSelector"});
      if (const json* v = Walker::Find(*dns, "enabled")) {
        if (auto b = w.Bool(*v, PointerChild(dp, "enabled"))) out.dns.enabled = *b;
      }
      if (const json* v = Walker::Find(*dns, "namespace")) {
        if (auto s = w.String(*v, PointerChild(dp, "namespace"))) {
          if (!internal::IsDnsLabel(*s)) w.Problem(PointerChild(dp, "namespace"), "must be a namespace name");
          out.dns.namespace_ = *s;
        }
      }
      if (const json* v = Walker::Find(*dns, "podSelector")) {
        if (auto sel = w.Selector(*v, PointerChild(dp, "podSelector"))) out.dns.pod_selector = *sel;
      }
    }
  }
  if (const json* v = Walker::Find(network, "allowAwsSts")) {
    if (auto b = w.Bool(*v, PointerChild(path, "allowAwsSts"))) out.allow_aws_sts = *b;
  }
}

}  // namespace

StatusOr<ParsedProfile> ParseProfile(const json& object, std::vector<GuardrailViolation>* problems) {
  Walker w;
  ParsedProfile p;
  if (!object.is_object()) {
    w.Problem("", "a PipelineSecurityProfile must be an object");
  } else {
    const json* api = Walker::Find(object, "apiVersion");
    const json* kind = Walker::Find(object, "kind");
    if (!api || *api != kProfileApiVersion) {
      w.Problem("/apiVersion", "must be " + std::string(kProfileApiVersion));
    }
    if (!kind || *kind != kProfileKind) w.Problem("/kind", "must be " + std::string(kProfileKind));
    const json* meta = Walker::Find(object, "metadata");
    if (!meta || !meta->is_object()) {
      w.Problem("/metadata", "is required (with name)");
    } else {
      if (const json* n = Walker::Find(*meta, "name");
          n && n->is_string() && internal::IsDnsSubdomain(n->get<std::string>())) {
        p.name = n->get<std::string>();
      } else {
        w.Problem("/metadata/name", "is required: a DNS-1123 name (lowercase letters, digits, '-', '.')");
      }
      p.namespace_ = "default";
      if (const json* n = Walker::Find(*meta, "namespace")) {
        if (n->is_string() && internal::IsDnsLabel(n->get<std::string>())) {
          p.namespace_ = n->get<std::string>();
        } else {
          w.Problem("/metadata/namespace", "must be a namespace name (DNS-1123 label)");
        }
      }
      if (const json* u = Walker::Find(*meta, "uid"); u && u->is_string()) p.uid = u->get<std::string>();
      if (const json* g = Walker::Find(*meta, "generation"); g && g->is_number_integer()) {
        p.generation = g->get<std::int64_t>();
      }
    }
    const json* spec = Walker::Find(object, "spec");
    if (!spec || !spec->is_object()) {
      w.Problem("/spec", "is required (with podSelector and serviceAccount)");
    } else {
      // spec.images (trustedKeys) is the webhook's (policy::Profile); the operator accepts and ignores it.
      w.KnownKeys(*spec, "/spec",
                  {"podSelector", "mode", "serviceAccount", "aws", "network", "deletionPolicy", "images"});
      if (const json* sel = Walker::Find(*spec, "podSelector")) {
        if (auto s = w.Selector(*sel, "/spec/podSelector")) p.pod_selector = *s;
      } else {
        w.Problem("/spec/podSelector", "is required (use {} to select every pod in the namespace)");
      }
      if (const json* m = Walker::Find(*spec, "mode")) {
        p.mode = w.OneOf<std::string>(*m, "/spec/mode", {{"enforce", "enforce"}, {"audit", "audit"}});
      }
      if (const json* sa = Walker::Find(*spec, "serviceAccount"); sa && w.IsObject(*sa, "/spec/serviceAccount")) {
        w.KnownKeys(*sa, "/spec/serviceAccount", {"name", "automountToken"});
        const json* n = Walker::Find(*sa, "name");
        if (n && n->is_string() && internal::IsDnsSubdomain(n->get<std::string>())) {
          p.service_account = n->get<std::string>();
        } else {
          w.Problem("/spec/serviceAccount/name", "is required: a DNS-1123 name (lowercase letters, digits, '-', '.')");
        }
        if (const json* a = Walker::Find(*sa, "automountToken")) {
          if (auto b = w.Bool(*a, "/spec/serviceAccount/automountToken")) p.automount_token = *b;
        }
      } else if (!sa) {
        w.Problem("/spec/serviceAccount", "is required (with name: the pipeline's ServiceAccount)");
      }
      if (const json* aws = Walker::Find(*spec, "aws")) {
        AwsSpec a;
        ParseAws(w, *aws, "/spec/aws", a);
        p.aws = std::move(a);
      }
      if (const json* network = Walker::Find(*spec, "network")) ParseNetwork(w, *network, "/spec/network", p.network);
      if (const json* d = Walker::Find(*spec, "deletionPolicy")) {
        if (auto policy =
                w.OneOf<DeletionPolicy>(*d, "/spec/deletionPolicy",
                                        {{"Delete", DeletionPolicy::kDelete}, {"Retain", DeletionPolicy::kRetain}})) {
          p.deletion_policy = *policy;
        }
      }
    }
  }
  if (w.problems.empty()) return p;
  if (problems) problems->insert(problems->end(), w.problems.begin(), w.problems.end());
  std::string where =
      p.name.empty() ? "PipelineSecurityProfile" : "PipelineSecurityProfile " + p.namespace_ + "/" + p.name;
  return Status::InvalidArgument(where + ": " + JoinViolations(w.problems));
}

}  // namespace pipeguard::reconcilers
