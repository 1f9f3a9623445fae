// Glob patterns with `*` (any run of characters, possibly empty) and `?` (exactly one character), as IAM uses them
// in actions and resources and as the guardrails use them for bucket names. Pure; linear-space, no recursion.
#pragma once

#include <string_view>

namespace pipeguard::api {

// True when `text` matches `pattern` in full. IAM action names compare case-insensitively; bucket names do not.
bool GlobMatch(std::string_view pattern, std::string_view text, bool case_insensitive = false);

// True when some string matches both patterns (e.g. "s3:*" and "*:Get*" share "s3:GetObject"), so that a wildcard
// action can be caught when it expands to a forbidden one.
bool GlobsIntersect(std::string_view a, std::string_view b, bool case_insensitive = false);

}  // namespace pipeguard::api
