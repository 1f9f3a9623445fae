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
// placeholder, path, or a value whose shape says it is an identifier or public (IsIdentifierOrPublicValue).
bool IsNonSecretLiteral(std::string_view value);

// Value-aware rules (issue 14): shapes that are never secret material, whatever the key says.
//  - cloud resource names: AWS ARNs (`arn:<aws partition>:<service>:<region>:<12-digit account or empty>:<res>`),
//    GCP resource names (`projects/<p>/secrets|locations|keyRings|serviceAccounts/...`), OCI OCIDs (`ocid1.`);
//  - public material: PEM certificates, public keys, CSRs and CRLs that contain no private key, OpenSSH public
//    keys (`ssh-ed25519 AAAA...`, `ecdsa-sha2-nistp256 AAAA...`);
//  - password hashes and verifiers: `{SSHA}...` style LDAP schemes, werkzeug `pbkdf2:sha256:N$salt$hash` and
//    `scrypt:`, Django `pbkdf2_sha256$...`, Jupyter `argon2:$argon2id$...` and `sha1:salt:hex`, PostgreSQL
//    `SCRAM-SHA-256$...` and `md5` + 32 hex digits (`$`-prefixed crypt(3) hashes are already references).
bool IsCloudResourceName(std::string_view value);
bool IsPublicKeyMaterial(std::string_view value);
bool IsPasswordHash(std::string_view value);
bool IsIdentifierOrPublicValue(std::string_view value);

// A KMS key named rather than given (SSE-KMS): a KMS ARN, a key ID (UUID), a multi-Region key ID
// (`mrk-` + 32 hex digits) or an alias name (`alias/...`). The same options take the key itself for SSE-C.
bool IsKmsKeyIdentifier(std::string_view value);

// F-05 (entropy-only rules): UUIDs, sequential strings (`abcdef...`, `0123...`) and `sha256:` style digests.
bool IsUuid(std::string_view value);
bool IsSequential(std::string_view value);
bool IsDigestLike(std::string_view value);

}  // namespace pipeguard::policy::detect
