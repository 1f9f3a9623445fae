// Global filters F-01..F-05 of the secret-detection spec: values that are references, placeholders, paths or
// otherwise cannot be a plaintext secret. Pure functions, linear in the value.
#pragma once

#include <string_view>

namespace pipeguard::policy::detect {

// F-01 + D6. True for values that refer to a secret instead of holding one:
//  - starting with `$(`, `${`, `$NAME`, `$1`, a backtick, `{{`, `#{`, `<%`;
//  - whole-value `%NAME%` or `@NAME@`;
//  - containing a Kubernetes `$(NAME)`, a `${...}` or a `{{...}}` anywhere (composed values such as
//    `postgres://etl:$(DB_PASSWORD)@db/x` or `Bearer {{ var.token }}`).
// A `$$(X)` escape is a literal and not a reference.
bool IsReference(std::string_view value);

// F-02 / D7. Whole-value placeholders (`changeme`, `x+`, `<...>`, `your-password`, the AWS documentation pair,
// ...) and the substring list (`example`, `xxxx`, `***`, `changeme`, `redacted`, `dummy`, `placeholder`, `fake`,
// `<...>`). Case-insensitive.
bool IsPlaceholder(std::string_view value);

// F-03 / D8. Values that are file-system or URL-less locations: start with `/`, `./`, `../`, `~/`, `file:` or
// `local:` and contain no whitespace and none of `+ =` (which would make a `/`-prefixed base64 secret look
// like a path).
bool IsPathLike(std::string_view value);

// Booleans and short numbers: `true`, `False`, `yes`, `off`, `0`, `8080`, `3600` (all digits, under 8 chars).
bool IsBoolOrShortNumber(std::string_view value);

// True for `true|yes|on|1` (case-insensitive); IsFalsy for `false|no|off|0`.
bool IsTruthy(std::string_view value);
bool IsFalsy(std::string_view value);

// Everything a key-based rule needs to rule out before calling a literal a secret: empty, reference,
// placeholder or path.
bool IsNonSecretLiteral(std::string_view value);

// F-05 (entropy-only rules): UUIDs, sequential strings (`abcdef...`, `0123...`) and `sha256:` style digests.
bool IsUuid(std::string_view value);
bool IsSequential(std::string_view value);
bool IsDigestLike(std::string_view value);

}  // namespace pipeguard::policy::detect
