# shellcheck shell=bash
# Shared helpers for scripts/registry/*.sh (the real OCI test registry and the signing tools).
#
# Contract: safe to source from any bash script: defines functions and default variables only, changes no shell
# options. It reuses the process and port helpers of scripts/controlplane/lib.sh (cp_pid_alive, cp_pid_owned,
# cp_procs_in, cp_free_port) and its PIPEGUARD_CACHE default.
#
# Versions (override through the environment; the cache is keyed by them):
#   PIPEGUARD_COSIGN_V2_VERSION   github.com/sigstore/cosign/v2 release (legacy .sig signatures)
#   PIPEGUARD_COSIGN_V3_VERSION   github.com/sigstore/cosign/v3 release (Sigstore bundles as OCI referrers)
# Binaries: $PIPEGUARD_CACHE/bin/cosign-<version>/cosign; docker-registry and skopeo come from Debian (apt).

# shellcheck source=../controlplane/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../controlplane" && pwd)/lib.sh"

: "${PIPEGUARD_COSIGN_V2_VERSION:=v2.6.5}"
: "${PIPEGUARD_COSIGN_V3_VERSION:=v3.1.3}"

# shellcheck disable=SC2034 # used by the scripts that source this file
PIPEGUARD_REGISTRY_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# reg_log MSG... : progress and diagnostics on stderr (stdout stays machine-readable).
reg_log() { printf 'registry: %s\n' "$*" >&2; }

# reg_die MSG... : log and exit 1 (inside the scripts only).
reg_die() {
  reg_log "error: $*"
  exit 1
}

# cosign_path MAJOR : the cached cosign binary for major version 2 or 3 (it may not be built yet).
cosign_path() {
  case $1 in
    2) printf '%s\n' "$PIPEGUARD_CACHE/bin/cosign-$PIPEGUARD_COSIGN_V2_VERSION/cosign" ;;
    3) printf '%s\n' "$PIPEGUARD_CACHE/bin/cosign-$PIPEGUARD_COSIGN_V3_VERSION/cosign" ;;
    *) return 1 ;;
  esac
}
