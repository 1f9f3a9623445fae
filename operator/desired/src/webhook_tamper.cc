#include "pipeguard/desired/webhook_tamper.h"

#include <algorithm>
#include <set>

#include "pipeguard/manifest/documents.h"

namespace pipeguard::desired {

using nlohmann::json;

std::string_view WebhookTamperLabel(WebhookTamper change) {
  switch (change) {
    case WebhookTamper::kDeleted:
      return "deleted";
    case WebhookTamper::kWebhookRemoved:
      return "webhook_removed";
    case WebhookTamper::kWebhookAdded:
      return "webhook_added";
    case WebhookTamper::kFailurePolicy:
      return "failure_policy";
    case WebhookTamper::kRules:
      return "rules";
    case WebhookTamper::kNamespaceSelector:
      return "namespace_selector";
    case WebhookTamper::kObjectSelector:
      return "object_selector";
    case WebhookTamper::kMatchConditions:
      return "match_conditions";
    case WebhookTamper::kClientConfig:
      return "client_config";
    case WebhookTamper::kTimeout:
      return "timeout";
    case WebhookTamper::kMatchPolicy:
      return "match_policy";
    case WebhookTamper::kSideEffects:
      return "side_effects";
    case WebhookTamper::kAdmissionReviewVersions:
      return "admission_review_versions";
    case WebhookTamper::kReinvocationPolicy:
      return "reinvocation_policy";
    case WebhookTamper::kMetadata:
      return "metadata";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kApiVersion = "admissionregistration.k8s.io/v1";

std::string Str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A sorted copy of a list of scalars (anything else is returned as is).
json SortedList(const json& list) {
  if (!list.is_array()) return list;
  std::vector<json> items(list.begin(), list.end());
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return json(items);
}

json Or(const json& object, const char* key, const json& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? fallback : *it;
}

// A LabelSelector with empty parts dropped and expressions (and their values) sorted; absent = {}.
json NormalizeSelector(const json& selector) {
  json out = json::object();
  if (!selector.is_object()) return out;
  if (auto labels = Or(selector, "matchLabels", json::object()); labels.is_object() && !labels.empty()) {
    out["matchLabels"] = labels;
  }
  json expressions = json::array();
  for (const auto& e : Or(selector, "matchExpressions", json::array())) {
    json n = e;
    if (n.is_object() && n.contains("values")) n["values"] = SortedList(n["values"]);
    if (n.is_object() && n.contains("values") && n["values"].empty()) n.erase("values");
    expressions.push_back(n);
  }
  if (!expressions.empty()) out["matchExpressions"] = SortedList(expressions);
  return out;
}

json NormalizeRules(const json& rules) {
  json out = json::array();
  for (const auto& rule : rules.is_array() ? rules : json::array()) {
    if (!rule.is_object()) {
      out.push_back(rule);
      continue;
    }
    json n = json::object();
    for (const char* key : {"apiGroups", "apiVersions", "operations", "resources"}) {
      n[key] = SortedList(Or(rule, key, json::array()));
    }
    n["scope"] = Or(rule, "scope", "*");
    out.push_back(n);
  }
  return SortedList(out);
}

// clientConfig without caBundle (compared separately); service.port defaults to 443.
json NormalizeClientConfig(const json& config) {
  json out = json::object();
  if (!config.is_object()) return out;
  if (config.contains("url") && !config["url"].is_null()) out["url"] = config["url"];
  if (config.contains("service") && config["service"].is_object()) {
    json service = config["service"];
    if (!service.contains("port") || service["port"].is_null()) service["port"] = 443;
    if (service.contains("path") && service["path"].is_null()) service.erase("path");
    out["service"] = service;
  }
  return out;
}

json MatchConditions(const json& webhook) { return SortedList(Or(webhook, "matchConditions", json::array())); }

json WebhooksByName(const json& object) {
  json out = json::object();
  for (const auto& w : Or(object, "webhooks", json::array())) {
    const std::string name = Str(w, "name");
    if (!name.empty()) out[name] = w;
  }
  return out;
}

void CompareWebhook(bool mutating, const json& want, const json& got, std::vector<WebhookFinding>& out) {
  const std::string name = Str(want, "name");
  auto add = [&](WebhookTamper change, const std::string& detail) { out.push_back({change, name, detail}); };
  auto field = [&](const char* key, const json& fallback, WebhookTamper change) {
    const json a = Or(want, key, fallback), b = Or(got, key, fallback);
    if (a != b) add(change, std::string(key) + " is " + b.dump() + ", want " + a.dump());
  };
  field("failurePolicy", "Fail", WebhookTamper::kFailurePolicy);
  if (NormalizeRules(Or(want, "rules", json::array())) != NormalizeRules(Or(got, "rules", json::array()))) {
    add(WebhookTamper::kRules, "rules differ from the desired rules");
  }
  if (NormalizeSelector(Or(want, "namespaceSelector", json::object())) !=
      NormalizeSelector(Or(got, "namespaceSelector", json::object()))) {
    add(WebhookTamper::kNamespaceSelector,
        "namespaceSelector is " + NormalizeSelector(Or(got, "namespaceSelector", json::object())).dump());
  }
  if (NormalizeSelector(Or(want, "objectSelector", json::object())) !=
      NormalizeSelector(Or(got, "objectSelector", json::object()))) {
    add(WebhookTamper::kObjectSelector,
        "objectSelector is " + NormalizeSelector(Or(got, "objectSelector", json::object())).dump());
  }
  if (MatchConditions(want) != MatchConditions(got)) add(WebhookTamper::kMatchConditions, "matchConditions differ");
  const json want_cc = Or(want, "clientConfig", json::object()), got_cc = Or(got, "clientConfig", json::object());
  if (NormalizeClientConfig(want_cc) != NormalizeClientConfig(got_cc)) {
    add(WebhookTamper::kClientConfig, "clientConfig points to " + NormalizeClientConfig(got_cc).dump() + ", want " +
                                          NormalizeClientConfig(want_cc).dump());
  } else if (!Str(want_cc, "caBundle").empty() && Str(want_cc, "caBundle") != Str(got_cc, "caBundle")) {
    add(WebhookTamper::kClientConfig, "clientConfig.caBundle replaced");  // never print the bundle itself
  }
  field("timeoutSeconds", 10, WebhookTamper::kTimeout);
  field("matchPolicy", "Equivalent", WebhookTamper::kMatchPolicy);
  field("sideEffects", json(), WebhookTamper::kSideEffects);
  if (SortedList(Or(want, "admissionReviewVersions", json::array())) !=
      SortedList(Or(got, "admissionReviewVersions", json::array()))) {
    add(WebhookTamper::kAdmissionReviewVersions, "admissionReviewVersions differ");
  }
  if (mutating) field("reinvocationPolicy", "Never", WebhookTamper::kReinvocationPolicy);
}

Status CheckDesired(const json& object, const std::string& where, std::set<std::string>& seen) {
  if (!object.is_object()) return Status::InvalidArgument(where + ": expected a webhook configuration object");
  const std::string kind = Str(object, "kind");
  if (kind != kValidatingWebhookConfigurationKind && kind != kMutatingWebhookConfigurationKind) {
    return Status::InvalidArgument(where + ": kind \"" + kind +
                                   "\": expected ValidatingWebhookConfiguration or MutatingWebhookConfiguration");
  }
  if (Str(object, "apiVersion") != kApiVersion) {
    return Status::InvalidArgument(where + ": apiVersion \"" + Str(object, "apiVersion") + "\": expected " +
                                   std::string(kApiVersion));
  }
  const std::string name = Str(Or(object, "metadata", json::object()), "name");
  if (name.empty()) return Status::InvalidArgument(where + ": metadata.name is required");
  if (!seen.insert(kind + "/" + name).second) {
    return Status::InvalidArgument(where + ": " + kind + " " + name + " appears twice");
  }
  const json webhooks = Or(object, "webhooks", json::array());
  if (!webhooks.is_array() || webhooks.empty()) {
    return Status::InvalidArgument(where + ": " + kind + " " + name + " has no webhooks");
  }
  std::set<std::string> names;
  for (const auto& w : webhooks) {
    const std::string webhook = Str(w, "name");
    if (webhook.empty()) return Status::InvalidArgument(where + ": every webhook needs a name");
    if (!names.insert(webhook).second) {
      return Status::InvalidArgument(where + ": webhook " + webhook + " appears twice in " + name);
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<json>> ParseDesiredWebhookConfigurations(std::string_view text, const std::string& source) {
  auto documents = manifest::ParseDocuments(text, source);
  if (!documents.ok()) return documents.status();
  std::vector<json> out;
  std::set<std::string> seen;
  for (const auto& doc : *documents) {
    const std::string where = source + ":" + std::to_string(doc.line);
    std::vector<json> objects;
    if (Str(doc.object, "kind") == "List") {
      for (const auto& item : Or(doc.object, "items", json::array())) objects.push_back(item);
    } else {
      objects.push_back(doc.object);
    }
    for (json& object : objects) {
      if (Status s = CheckDesired(object, where, seen); !s.ok()) return s;
      json& meta = object["metadata"];
      for (const char* server_field :
           {"resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink"}) {
        meta.erase(server_field);
      }
      out.push_back(std::move(object));
    }
  }
  if (out.empty()) return Status::InvalidArgument(source + ": no webhook configurations (expected at least one)");
  return out;
}

std::vector<WebhookFinding> CompareWebhookConfiguration(const json& desired, const std::optional<json>& observed) {
  std::vector<WebhookFinding> out;
  if (!observed || !observed->is_object()) {
    out.push_back({WebhookTamper::kDeleted, "",
                   Str(desired, "kind") + " " + Str(Or(desired, "metadata", json::object()), "name") + " was deleted"});
    return out;
  }
  const json want_meta = Or(desired, "metadata", json::object()), got_meta = Or(*observed, "metadata", json::object());
  for (const char* part : {"labels", "annotations"}) {
    const json want = Or(want_meta, part, json::object()), got = Or(got_meta, part, json::object());
    for (const auto& [key, value] : want.items()) {
      if (!got.contains(key) || got[key] != value) {
        out.push_back(
            {WebhookTamper::kMetadata, "",
             std::string(part == std::string("labels") ? "label " : "annotation ") + key + " removed or changed"});
      }
    }
  }
  const bool mutating = Str(desired, "kind") == kMutatingWebhookConfigurationKind;
  const json got_webhooks = WebhooksByName(*observed);
  std::set<std::string> desired_names;
  for (const auto& want : Or(desired, "webhooks", json::array())) {
    const std::string name = Str(want, "name");
    desired_names.insert(name);
    if (!got_webhooks.contains(name)) {
      out.push_back({WebhookTamper::kWebhookRemoved, name, "webhook " + name + " was removed"});
      continue;
    }
    CompareWebhook(mutating, want, got_webhooks[name], out);
  }
  for (const auto& w : Or(*observed, "webhooks", json::array())) {
    const std::string name = Str(w, "name");
    if (desired_names.count(name) == 0) {
      out.push_back({WebhookTamper::kWebhookAdded, name, "webhook " + name + " is not in the desired state"});
    }
  }
  return out;
}

json RestoredWebhookConfiguration(const json& desired, const std::optional<json>& observed) {
  if (!observed || !observed->is_object()) return desired;
  json out = *observed;
  const json want_meta = Or(desired, "metadata", json::object());
  for (const char* part : {"labels", "annotations"}) {
    const json want = Or(want_meta, part, json::object());  // items() must not outlive its json
    for (const auto& [key, value] : want.items()) out["metadata"][part][key] = value;
  }
  const json got_webhooks = WebhooksByName(*observed);
  json webhooks = json::array();
  for (json w : Or(desired, "webhooks", json::array())) {
    const std::string name = Str(w, "name");
    const bool desired_has_ca = !Str(Or(w, "clientConfig", json::object()), "caBundle").empty();
    if (!desired_has_ca && got_webhooks.contains(name)) {
      const std::string ca = Str(Or(got_webhooks[name], "clientConfig", json::object()), "caBundle");
      if (!ca.empty()) w["clientConfig"]["caBundle"] = ca;
    }
    webhooks.push_back(std::move(w));
  }
  out["webhooks"] = std::move(webhooks);
  return out;
}

}  // namespace pipeguard::desired
