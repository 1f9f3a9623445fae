#include "pipeguard/webhook/admission.h"

#include <array>
#include <mutex>
#include <utility>

#include "json_text.h"
#include "pipeguard/base/base64.h"
#include "pipeguard/base/json.h"
#include "pipeguard/base/json_writer.h"

namespace pipeguard::webhook {

using nlohmann::json;

namespace {

constexpr std::string_view kFixHint =
    " (pipeguard expects an admission.k8s.io/v1 AdmissionReview; set admissionReviewVersions: [\"v1\"] in the "
    "webhook configuration)";

Status Invalid(std::string what, bool with_hint = true) {
  if (with_hint) what += kFixHint;
  return Status::InvalidArgument(std::move(what));
}

// Where the first number too large for a double is: a SAX pass that tracks the JSON pointer of the current value.
// Used only after json::parse failed with out_of_range, so the common path parses once.
class NumberOverflowLocator {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  bool null() { return Advance(); }
  bool boolean(bool) { return Advance(); }
  bool number_integer(number_integer_t) { return Advance(); }
  bool number_unsigned(number_unsigned_t) { return Advance(); }
  bool number_float(number_float_t, const string_t&) { return Advance(); }
  bool string(string_t& value) {
    if (frames_.size() == 2 && !frames_[0].is_array && frames_[0].key == "request" && !frames_[1].is_array &&
        frames_[1].key == "uid") {
      uid_ = value;
    }
    return Advance();
  }
  bool binary(binary_t&) { return Advance(); }
  bool start_object(std::size_t) { return Push(false); }
  bool start_array(std::size_t) { return Push(true); }
  bool end_object() { return Pop(); }
  bool end_array() { return Pop(); }
  bool key(string_t& key) {
    if (!frames_.empty()) frames_.back().key = key;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    if (e.id == 406 && !found_) {  // 406: number overflow
      found_ = true;
      position_ = position;
      pointer_ = CurrentPointer();
    }
    return false;
  }

  bool found() const { return found_; }
  size_t position() const { return position_; }
  const std::string& pointer() const { return pointer_; }
  // request.uid when it came before the number (the API server writes it first).
  const std::string& uid() const { return uid_; }

 private:
  struct Frame {
    bool is_array = false;
    size_t index = 0;
    std::string key;
  };

  bool Advance() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
    return true;
  }
  bool Push(bool is_array) {
    frames_.push_back({is_array, 0, {}});
    return true;
  }
  bool Pop() {
    if (!frames_.empty()) frames_.pop_back();
    return Advance();
  }
  std::string CurrentPointer() const {
    std::string pointer;
    for (const auto& frame : frames_) {
      pointer += '/';
      if (frame.is_array) {
        pointer += std::to_string(frame.index);
        continue;
      }
      for (char c : frame.key) {
        if (c == '~') {
          pointer += "~0";
        } else if (c == '/') {
          pointer += "~1";
        } else {
          pointer += c;
        }
      }
    }
    return pointer;
  }

  std::vector<Frame> frames_;
  bool found_ = false;
  size_t position_ = 0;
  std::string pointer_;
  std::string uid_;
};

Status NumberOutOfRange(std::string_view body, const ParseLimits& limits, std::string* readable_uid) {
  NumberOverflowLocator locator;
  try {
    json::sax_parse(body.begin(), body.end(), &locator);
  } catch (const json::exception&) {
  }
  if (readable_uid != nullptr && !locator.uid().empty() && locator.uid().size() <= limits.max_uid_bytes) {
    *readable_uid = locator.uid();
  }
  std::string where;
  if (locator.found()) {
    where = " at " + (locator.pointer().empty() ? std::string("the top level") : locator.pointer()) + " (near byte " +
            std::to_string(locator.position()) + ")";
  }
  // The number itself is not quoted: the body may carry secrets.
  return Invalid("request body has a number too large for a 64-bit floating-point value" + where +
                     "; Kubernetes objects hold numbers within that range: write the value as a quoted string or "
                     "correct it",
                 false);
}

// Reads an optional string member's value. Absent or null leaves `out` empty; another type is an error.
Status OptionalString(policy::JsonRef value, std::string_view where, std::string& out) {
  if (!value || value.is_null()) return Status::Ok();
  if (!value.is_string()) return Invalid(std::string(where) + " must be a string");
  out = std::string(value.string());
  return Status::Ok();
}

std::string_view ReasonFor(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 503:
      return "ServiceUnavailable";
    default:
      return code >= 500 ? "InternalError" : "BadRequest";
  }
}

}  // namespace

struct RequestObject::Converted {
  std::once_flag once;
  nlohmann::json value;
  ~Converted() { ReleaseJsonDom(value); }  // converted from a parsed body: depth-bounded
};

RequestObject::RequestObject(std::shared_ptr<const void> owner, policy::JsonRef view)
    : owner_(std::move(owner)), view_(view) {
  if (view_.nlohmann() == nullptr) converted_ = std::make_shared<Converted>();
}

RequestObject& RequestObject::operator=(nlohmann::json value) {
  value_ = std::move(value);
  owner_.reset();
  view_ = {};
  converted_.reset();
  return *this;
}

const nlohmann::json& RequestObject::json() const {
  if (owner_ == nullptr) return value_;
  if (const nlohmann::json* value = view_.nlohmann()) return *value;
  std::call_once(converted_->once, [this] { view_.ToJson(converted_->value); });
  return converted_->value;
}

void RequestObject::Release() {
  ReleaseJsonDom(value_);
  view_ = {};
  converted_.reset();
  owner_.reset();
}

std::string_view ToString(Decision decision) {
  switch (decision) {
    case Decision::kAllowed:
      return "allowed";
    case Decision::kDenied:
      return "denied";
    case Decision::kError:
      return "error";
  }
  return "error";
}

AdmissionReply Allowed(std::string uid) {
  AdmissionReply reply;
  reply.uid = std::move(uid);
  reply.allowed = true;
  reply.code = 200;
  reply.decision = Decision::kAllowed;
  return reply;
}

AdmissionReply Denied(std::string uid, std::string message) {
  AdmissionReply reply;
  reply.uid = std::move(uid);
  reply.allowed = false;
  reply.code = 403;
  reply.reason = std::string(ReasonFor(403));
  reply.message = std::move(message);
  reply.decision = Decision::kDenied;
  return reply;
}

AdmissionReply Errored(std::string uid, int code, std::string message) {
  AdmissionReply reply;
  reply.uid = std::move(uid);
  reply.allowed = false;
  reply.code = code;
  reply.reason = std::string(ReasonFor(code));
  reply.message = std::move(message);
  reply.decision = Decision::kError;
  return reply;
}

AdmissionReply WithWarnings(AdmissionReply reply, std::vector<std::string> warnings) {
  for (auto& w : warnings) reply.warnings.push_back(std::move(w));
  return reply;
}

namespace {

// The careful parse of a body that the fast path (ParseJsonDocumentWithinDepth) did not take: its nesting and value
// count bounded by a byte scan first, then parsed into `document`; every refusal a clear error.
Status MeasureAndParse(std::string_view body, const ParseLimits& limits, std::string* readable_uid,
                       std::shared_ptr<JsonDocument>& document) {
  const base::JsonShape shape = base::MeasureJson(body, limits.max_depth);
  if (shape.max_depth > limits.max_depth) {
    return Invalid("request body nests JSON deeper than " + std::to_string(limits.max_depth) +
                       " levels; Kubernetes objects are far shallower",
                   false);
  }
  // Each value costs ~100 bytes in the DOM: a 3 MiB body of `{}` would take ~100 MiB. Refused before parsing.
  if (shape.values > limits.max_values) {
    return Invalid("request body holds about " + std::to_string(shape.values) + " JSON values; at most " +
                       std::to_string(limits.max_values) +
                       " are accepted (Kubernetes objects hold far fewer; split the object)",
                   false);
  }
  try {
    document = ParseJsonDocument(body);
  } catch (const json::parse_error& e) {
    // e.what() quotes the bytes around the error, which may be part of a secret: report the offset only.
    return Invalid("request body is not valid JSON (syntax error near byte " + std::to_string(e.byte) + ")");
  } catch (const json::out_of_range&) {
    return NumberOutOfRange(body, limits, readable_uid);
  } catch (const json::exception& e) {
    return Invalid("request body could not be read as JSON (error " + std::to_string(e.id) + ")");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<AdmissionRequest> ParseAdmissionReview(std::string_view body, std::string* readable_uid,
                                                const ParseLimits& limits) {
  if (readable_uid != nullptr) readable_uid->clear();
  if (body.empty()) return Invalid("request body is empty");
  // The review's DOM stays alive with the request: request.object is a view into it (RequestObject).
  std::shared_ptr<JsonDocument> document;
  // A body of n bytes holds at most n + 1 values by MeasureJson's estimate, so a body within the fast path's size
  // and within max_values bytes cannot break the value bound, and simdjson enforces the depth bound itself: such a
  // body is parsed without the byte scan. Whatever simdjson does not take is measured and parsed below.
  if (body.size() < limits.max_values) document = ParseJsonDocumentWithinDepth(body, limits.max_depth);
  if (document == nullptr) {
    if (Status refused = MeasureAndParse(body, limits, readable_uid, document); !refused.ok()) return refused;
  }
  const policy::JsonRef root = document->root();
  if (!root.is_object()) return Invalid("request body is JSON but not an object");
  // The uid first, so that even a review failing a later check gets an error reply the API server can match.
  const auto [request, api_version, kind] = root.Members<3>({"request", "apiVersion", "kind"});
  if (!request.is_object()) return Invalid("request body has no \"request\" object");
  // One pass over the request's members for every field read below.
  const auto [uid_value, operation, request_kind, user, dry, object, old_object, sub_resource, namespace_name, name] =
      request.Members<10>({"uid", "operation", "kind", "userInfo", "dryRun", "object", "oldObject", "subResource",
                           "namespace", "name"});
  if (!uid_value.is_string() || uid_value.string().empty()) {
    return Invalid("request.uid is missing or not a non-empty string");
  }
  const std::string_view uid = uid_value.string();
  if (uid.size() > limits.max_uid_bytes) {
    return Invalid("request.uid is longer than " + std::to_string(limits.max_uid_bytes) + " bytes");
  }
  if (readable_uid != nullptr) *readable_uid = uid;

  if (!api_version.is_string() || api_version.string() != kAdmissionApiVersion) {
    return Invalid("apiVersion must be " + std::string(kAdmissionApiVersion));
  }
  if (!kind.is_string() || kind.string() != kAdmissionReviewKind) {
    return Invalid("kind must be " + std::string(kAdmissionReviewKind));
  }

  AdmissionRequest out;
  out.uid = std::string(uid);
  if (auto s = OptionalString(operation, "request.operation", out.operation); !s.ok()) return s;
  if (out.operation != "CREATE" && out.operation != "UPDATE" && out.operation != "DELETE" &&
      out.operation != "CONNECT") {
    return Invalid("request.operation must be CREATE, UPDATE, DELETE or CONNECT");
  }
  if (request_kind && !request_kind.is_null()) {
    if (!request_kind.is_object()) return Invalid("request.kind must be an object {group, version, kind}");
    const auto [group, version, kind_name] = request_kind.Members<3>({"group", "version", "kind"});
    if (auto s = OptionalString(group, "request.kind.group", out.kind_group); !s.ok()) return s;
    if (auto s = OptionalString(version, "request.kind.version", out.kind_version); !s.ok()) return s;
    if (auto s = OptionalString(kind_name, "request.kind.kind", out.kind); !s.ok()) return s;
  }
  if (auto s = OptionalString(sub_resource, "request.subResource", out.sub_resource); !s.ok()) return s;
  if (auto s = OptionalString(namespace_name, "request.namespace", out.namespace_); !s.ok()) return s;
  if (auto s = OptionalString(name, "request.name", out.name); !s.ok()) return s;
  if (user && !user.is_null()) {
    if (!user.is_object()) return Invalid("request.userInfo must be an object");
    const auto [username, groups] = user.Members<2>({"username", "groups"});
    if (auto s = OptionalString(username, "request.userInfo.username", out.username); !s.ok()) return s;
    if (groups && !groups.is_null()) {
      bool strings = groups.is_array();
      groups.ForEachElement([&](size_t, policy::JsonRef g) {
        strings = strings && g.is_string();
        if (strings) out.groups.emplace_back(g.string());
      });
      if (!strings) return Invalid("request.userInfo.groups must be a list of strings");
    }
  }
  if (dry && !dry.is_null()) {
    if (!dry.is_boolean()) return Invalid("request.dryRun must be a boolean");
    out.dry_run = dry.boolean();
  }

  const bool has_object = object && !object.is_null();
  if (out.operation == "CREATE" || out.operation == "UPDATE") {
    if (!has_object) return Invalid("request.object is missing; " + out.operation + " reviews must carry the object");
    if (!object.is_object()) return Invalid("request.object must be a Kubernetes object (a JSON object)");
  }
  // The stored object, for UPDATE (and DELETE): updates that change nothing the rules read are not evaluated. It
  // is read as nlohmann (policy::UnevaluatedUpdateReason): moved out of nlohmann's DOM, converted from simdjson's.
  if (old_object && !old_object.is_null()) {
    if (!old_object.is_object()) return Invalid("request.oldObject must be a Kubernetes object (a JSON object)");
    if (json* dom = document->nlohmann_dom()) {
      out.old_object = std::move((*dom)["request"]["oldObject"]);
    } else {
      old_object.ToJson(out.old_object);
    }
  }
  if (has_object && object.is_object()) {
    if (out.kind.empty()) {
      if (const policy::JsonRef k = object.Find("kind"); k.is_string()) out.kind = std::string(k.string());
    }
    if (out.name.empty()) {
      if (const policy::JsonRef md = object.Find("metadata"); md.is_object()) {
        std::string name;
        const auto [object_name, generate_name] = md.Members<2>({"name", "generateName"});
        if (OptionalString(object_name, "", name).ok() && name.empty()) {
          if (OptionalString(generate_name, "", name).ok() && !name.empty()) name += "*";
        }
        out.name = std::move(name);
      }
    }
    out.object = RequestObject(document, object);  // the document lives as long as the request's object
  }
  return out;
}

std::string SerializeAdmissionReview(const AdmissionReply& reply) {
  std::string text;
  text.reserve(256 + reply.message.size() + (reply.json_patch ? reply.json_patch->size() * 4 / 3 : 0));
  base::JsonWriter out(text);
  out.BeginObject().Member("apiVersion", kAdmissionApiVersion).Member("kind", kAdmissionReviewKind);
  out.Key("response").BeginObject().Member("uid", reply.uid).Member("allowed", reply.allowed);
  if (!reply.allowed || reply.code != 200) {
    out.Key("status").BeginObject().Member("code", reply.code).Member("message", reply.message);
    if (!reply.allowed) out.Member("status", "Failure");
    if (!reply.reason.empty()) out.Member("reason", reply.reason);
    out.EndObject();
  }
  if (!reply.warnings.empty()) out.Key("warnings").StringArray(reply.warnings);
  if (!reply.audit_annotations.empty()) {
    out.Key("auditAnnotations").BeginObject();
    for (const auto& [key, value] : reply.audit_annotations) out.Member(key, value);
    out.EndObject();
  }
  if (reply.json_patch) out.Member("patchType", "JSONPatch").Member("patch", base::Base64Encode(*reply.json_patch));
  out.EndObject().EndObject();
  return text;
}

}  // namespace pipeguard::webhook
