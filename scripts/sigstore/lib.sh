# shellcheck shell=bash
# Shared helpers for scripts/sigstore/*.sh: a real, local Sigstore signing path (Fulcio, Rekor v2, a timestamp
# authority) built from the projects' Go modules.
#
# Contract: safe to source from any bash script: defines functions and default variables only, changes no shell
# options. Reuses scripts/controlplane/lib.sh (process and port helpers, PIPEGUARD_CACHE) and
# scripts/registry/lib.sh (the cosign versions and paths).
#
# Versions (override through the environment; the cache is keyed by them). Each is the newest release whose go.mod
# the Go 1.26 toolchain here accepts:
#   PIPEGUARD_FULCIO_VERSION   github.com/sigstore/fulcio (the CA; v1.8.8 needs go 1.26.0)
#   PIPEGUARD_REKOR_VERSION    github.com/sigstore/rekor-tiles/v2 (Rekor v2, its POSIX-file backend
#                              cmd/rekor-server/posix; v2.4.x needs go 1.27)
#   PIPEGUARD_TSA_VERSION      github.com/sigstore/timestamp-authority/v2 (RFC 3161; v2.1.5 needs go 1.27)
# Binaries: $PIPEGUARD_CACHE/bin/{fulcio,rekor-server-posix,timestamp-server}-<version>/<name>.

# shellcheck source=../registry/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../registry" && pwd)/lib.sh"

: "${PIPEGUARD_FULCIO_VERSION:=v1.8.8}"
: "${PIPEGUARD_REKOR_VERSION:=v2.3.0}"
: "${PIPEGUARD_TSA_VERSION:=v2.1.3}"

# shellcheck disable=SC2034 # used by the scripts that source this file
PIPEGUARD_SIGSTORE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# sg_log MSG... : progress and diagnostics on stderr (stdout stays machine-readable).
sg_log() { printf 'sigstore: %s\n' "$*" >&2; }

# sg_die MSG... : log and exit 1 (inside the scripts only).
sg_die() {
  sg_log "error: $*"
  exit 1
}
