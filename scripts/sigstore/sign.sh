#!/usr/bin/env bash
# Signs an image keylessly with the real cosign v3 against the local Sigstore of start.sh: the identity token is a
# fresh ServiceAccount token of the control plane (`kubectl create token SA --audience sigstore`), Fulcio issues the
# certificate, Rekor v2 logs the signature and the timestamp authority stamps it. The result is a Sigstore bundle
# (v0.3) attached as an OCI 1.1 referrer (or the sha256-<hex> referrers tag on a registry without the API).
#
# Usage: sign.sh SIGSTORE_DIR REGISTRY_DIR NAMESPACE/SERVICEACCOUNT REPO@sha256:DIGEST [--attest TYPE PREDICATE]
#        --attest: `cosign attest --type TYPE --predicate PREDICATE` instead of `cosign sign` (an in-toto statement
#        in a DSSE envelope, as a bundle referrer), signed the same keyless way
#
# Contract:
#   - SIGSTORE_DIR is started (start.sh), REGISTRY_DIR is a registry of scripts/registry/start.sh; REPO is a
#     repository path in that registry (no host). TLS trust, credentials: from REGISTRY_DIR/env as in
#     scripts/registry/artifacts.sh.
#   - the ServiceAccount must exist. The token lives only in a mode-0600 temporary file, removed on exit; it is
#     never printed.
#   - no legacy `.sig` format: cosign writes those only with a Rekor v1 entry (SET), and this log is Rekor v2.
#   - exits non-zero with cosign's output on failure; prints nothing on success.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage="usage: sign.sh SIGSTORE_DIR REGISTRY_DIR NAMESPACE/SERVICEACCOUNT REPO@sha256:DIGEST [--attest TYPE PREDICATE]"
(($# == 4)) || { (($# == 7)) && [[ $5 == --attest ]]; } || sg_die "$usage"
action=(sign)
if (($# == 7)); then
  [[ -f $7 ]] || sg_die "--attest: predicate file '$7' is missing"
  action=(attest --type "$6" --predicate "$7")
fi
sg_dir=$(cd "$1" && pwd -P)
reg_dir=$(cd "$2" && pwd -P)
identity=$3 ref=$4
[[ $identity =~ ^[a-z0-9.-]+/[a-z0-9.-]+$ ]] || sg_die "want NAMESPACE/SERVICEACCOUNT, got '$identity'"
[[ $ref == *@sha256:* ]] || sg_die "want REPO@sha256:..., got '$ref'"
[[ -f $sg_dir/env ]] || sg_die "$sg_dir/env is missing: start.sh $sg_dir CONTROLPLANE_DIR first"
[[ -f $reg_dir/env ]] || sg_die "$reg_dir/env is missing: scripts/registry/start.sh $reg_dir first"

# The two env files share no key.
set -a
# shellcheck disable=SC1091
. "$sg_dir/env"
# shellcheck disable=SC1091
. "$reg_dir/env"
set +a
cp_env() { sed -n "s/^$1=//p" "$CONTROLPLANE_DIR/env" | head -n1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
"$(cp_env KUBECTL)" --kubeconfig "$(cp_env KUBECONFIG)" -n "${identity%/*}" create token "${identity#*/}" \
  --audience sigstore --duration 10m >"$tmp/token" 2>"$tmp/log" ||
  { cat "$tmp/log" >&2; sg_die "kubectl create token ${identity#*/} -n ${identity%/*} failed"; }

cosign_env=(env "DOCKER_CONFIG=$DOCKER_CONFIG" COSIGN_YES=true "TUF_ROOT=$sg_dir/tuf" SIGSTORE_NO_CACHE=true
  "HOME=$sg_dir/home")
transport=()
if ((REGISTRY_TLS)); then cosign_env+=("SSL_CERT_FILE=$CA_CERT"); else transport=(--allow-insecure-registry --allow-http-registry); fi
"${cosign_env[@]}" "$COSIGN_V3" "${action[@]}" --identity-token "$tmp/token" --signing-config "$SIGNING_CONFIG" \
  --trusted-root "$TRUSTED_ROOT" --new-bundle-format=true -y "${transport[@]}" "$REGISTRY_HOST/$ref" \
  >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; sg_die "cosign ${action[0]} of $REGISTRY_HOST/$ref as $identity failed"; }
