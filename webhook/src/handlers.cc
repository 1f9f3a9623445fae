#include "pipeguard/webhook/handlers.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

namespace pipeguard::webhook {

namespace {

// Cuts `text` to at most `max` bytes on a UTF-8 character boundary, marking the cut with "...".
std::string Truncate(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max >= 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "...";
  return text;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string ObjectName(const AdmissionRequest& request) {
  std::string name = request.kind.empty() ? std::string("object") : request.kind;
  name += " ";
  if (!request.namespace_.empty()) name += request.namespace_ + "/";
  name += request.name.empty() ? std::string("(unnamed)") : request.name;
  return name;
}

std::string FormatDenial(const AdmissionRequest& request, const policy::Verdict& verdict) {
  const auto denials = verdict.Denials();
  std::string message = "pipeguard denied " + ObjectName(request) + ": " + std::to_string(denials.size()) +
                        (denials.size() == 1 ? " violation" : " violations") + " (mode enforce from " +
                        verdict.mode_source;
  if (!verdict.profiles.empty()) message += "; profile " + Join(verdict.profiles, ", ");
  message += ")";
  size_t listed = 0;
  for (const policy::Violation* v : denials) {
    if (listed == kMaxListedViolations) break;
    message += "\n- " + v->rule + " at " + v->path + ": " + Truncate(v->message, 400);
    ++listed;
  }
  if (denials.size() > listed) {
    message += "\n- ... and " + std::to_string(denials.size() - listed) + " more (see the audit log)";
  }
  message +=
      "\nFix the fields above and apply again. Literal secrets belong in a Secret referenced with "
      "valueFrom.secretKeyRef; an urgent exception needs the break-glass annotations (docs/break-glass.md).";
  return message;
}

std::vector<std::string> FormatWarnings(const policy::Verdict& verdict) {
  std::vector<std::string> all;
  for (const auto& v : verdict.violations) {
    if (v.blocking && !v.waived && verdict.mode == policy::Mode::kEnforce) continue;  // in the denial message
    std::string prefix = "pipeguard warning: ";
    if (v.waived) {
      prefix = "pipeguard break-glass waived: ";
    } else if (verdict.mode == policy::Mode::kAudit && v.blocking) {
      prefix = "pipeguard audit (would deny): ";
    }
    all.push_back(Truncate(prefix + v.rule + " at " + v.path, kMaxWarningChars));
  }
  if (all.size() <= kMaxWarnings) return all;
  const size_t rest = all.size() - (kMaxWarnings - 1);
  all.resize(kMaxWarnings - 1);
  all.push_back("pipeguard: " + std::to_string(rest) + " more findings; see the webhook audit log");
  return all;
}

}  // namespace

UnixClock SystemUnixClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

bool IsEvaluated(const AdmissionRequest& request) {
  if (request.operation != "CREATE" && request.operation != "UPDATE") return false;
  return request.sub_resource.empty() || request.sub_resource == "ephemeralcontainers";
}

AdmissionReply ReplyFromVerdict(const AdmissionRequest& request, const policy::Verdict& verdict) {
  AdmissionReply reply = verdict.allowed ? Allowed(request.uid) : Denied(request.uid, FormatDenial(request, verdict));
  reply.evaluated = true;
  reply.governed = verdict.governed;
  reply.mode = std::string(policy::ToString(verdict.mode));
  reply.profiles = verdict.profiles;
  reply.break_glass_ticket = verdict.break_glass_ticket;
  std::set<std::string> rules;
  for (const auto& v : verdict.violations) {
    reply.findings.push_back({v.rule, v.path, std::string(policy::ToString(v.severity)), v.blocking, v.waived});
    rules.insert(v.rule);
  }
  reply = WithWarnings(std::move(reply), FormatWarnings(verdict));

  reply.audit_annotations["decision"] = std::string(ToString(reply.decision));
  reply.audit_annotations["governed"] = verdict.governed ? "true" : "false";
  if (verdict.governed) {
    reply.audit_annotations["mode"] = reply.mode;
    reply.audit_annotations["violations"] = std::to_string(verdict.violations.size());
    if (!rules.empty()) {
      reply.audit_annotations["rules"] = Truncate(Join({rules.begin(), rules.end()}, ","), 256);
    }
    if (!verdict.profiles.empty()) reply.audit_annotations["profiles"] = Truncate(Join(verdict.profiles, ","), 256);
    if (verdict.break_glass_ticket) reply.audit_annotations["break-glass-ticket"] = *verdict.break_glass_ticket;
  }
  return reply;
}

AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       UnixClock clock, policy::ImageVerdictLookup images) {
  return [&engine, &context, clock = std::move(clock),
          images = std::move(images)](const AdmissionRequest& request) -> AdmissionReply {
    if (!IsEvaluated(request)) {
      AdmissionReply reply = Allowed(request.uid);
      reply.audit_annotations["decision"] = "allowed";
      reply.audit_annotations["evaluated"] = "false";
      return reply;
    }
    const std::shared_ptr<const policy::ContextSnapshot> snapshot = context.Current();
    if (snapshot == nullptr) {
      return Errored(request.uid, 503,
                     "pipeguard has not loaded its policy context yet; the request was not admitted, retry shortly");
    }
    policy::RequestInfo info;
    info.operation = request.operation;
    info.username = request.username;
    info.groups = request.groups;
    info.namespace_ = request.namespace_;
    info.now_unix_seconds = clock();
    const policy::Verdict verdict = engine.Evaluate(request.object, info, *snapshot, images);
    return ReplyFromVerdict(request, verdict);
  };
}

AdmissionHandler MakeMutatingHandler() {
  return [](const AdmissionRequest& request) { return Allowed(request.uid); };
}

}  // namespace pipeguard::webhook
