// Canonical form of IAM policy documents, so that comparing the document we want with the one IAM returns never
// reports a difference that is only IAM's rewriting (DESIGN.md guideline 9).
//
// Canonicalisation: parse the JSON; object keys sorted (nlohmann::json's ordering); insignificant whitespace dropped;
// a lone Statement object becomes a one-element array; in each statement the values of Action, NotAction, Resource,
// NotResource, of each Principal/NotPrincipal type, and of each condition key become a sorted, de-duplicated list,
// written as a plain string when it has one element (IAM's own rewriting of ["x"] to "x"); Principal "*" stays "*".
// Statement order, Sid, Effect and string contents are kept as they are. Version is not invented: callers should
// always write "Version": "2012-10-17".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::aws {

// The canonical JSON value of `document`. Errors: not JSON, not an object, Statement neither object nor array
// (kInvalidArgument, with the parser's position).
StatusOr<nlohmann::json> CanonicalPolicy(std::string_view document);
// The canonical value serialised compactly (stable: equal documents give equal strings).
StatusOr<std::string> CanonicalPolicyString(std::string_view document);
// True when both documents have the same canonical form; an unparseable document is never equivalent.
bool PoliciesEquivalent(std::string_view a, std::string_view b);

}  // namespace pipeguard::aws
