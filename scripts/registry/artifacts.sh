#!/usr/bin/env bash
# Makes real test artifacts in a registry started by start.sh DIR: images pushed with skopeo, signed by the real
# cosign CLIs (no transparency log, no network beyond loopback).
#
# Usage:
#   artifacts.sh keygen DIR NAME            cosign generate-key-pair (empty password) -> DIR/keys/NAME.{key,pub};
#                                           prints the public key path
#   artifacts.sh push DIR REPO:TAG [SEED]   builds a tiny OCI layout (make_oci_layout.py, content from SEED) and
#                                           copies it with skopeo to DIR's registry; prints the manifest digest
#   artifacts.sh sign DIR REPO@DIGEST NAME FORMAT
#                                           signs with key NAME; FORMAT is one of
#                                             v2-legacy   cosign 2.x, legacy `sha256-<hex>.sig` tag
#                                             v3-bundle   cosign 3.x, Sigstore bundle as an OCI 1.1 referrer (on a
#                                                         registry without the referrers API: the sha256-<hex> tag)
#                                             v3-legacy   cosign 3.x with --new-bundle-format=false
#   artifacts.sh verify DIR REPO@DIGEST NAME FORMAT   `cosign verify --key` (for cross-checks and benchmarks)
#   artifacts.sh attest DIR REPO@DIGEST NAME FORMAT TYPE PREDICATE
#                                           `cosign attest --key NAME --type TYPE --predicate PREDICATE` (an in-toto
#                                           statement in a DSSE envelope): v2-legacy writes the `sha256-<hex>.att`
#                                           tag, v3-bundle a Sigstore bundle as an OCI 1.1 referrer
#   artifacts.sh verify-attestation DIR REPO@DIGEST NAME FORMAT TYPE
#                                           `cosign verify-attestation --key --type TYPE`; prints the statements
#
# Contract: REPO is a repository path in DIR's registry (no host). Credentials, TLS trust and plain-HTTP flags
# come from DIR/env (start.sh): DOCKER_CONFIG for cosign, --dest-creds for skopeo, the test CA through
# SSL_CERT_FILE (cosign) and --dest-cert-dir (skopeo). Exits non-zero with the tool's output on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() { reg_die "usage: artifacts.sh keygen DIR NAME | push DIR REPO:TAG [SEED] | sign|verify DIR REPO@DIGEST NAME v2-legacy|v3-bundle|v3-legacy | attest DIR REPO@DIGEST NAME v2-legacy|v3-bundle TYPE PREDICATE | verify-attestation DIR REPO@DIGEST NAME v2-legacy|v3-bundle TYPE"; }
(($# >= 3)) || usage
cmd=$1
dir=$(cd "$2" && pwd -P)
[[ -f $dir/env ]] || reg_die "$dir/env is missing: start the registry with start.sh $dir first"
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
eval "$("$here/install.sh" --no-build)" || reg_die "tools missing: run scripts/registry/install.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cosign_env=(env "DOCKER_CONFIG=$DOCKER_CONFIG" COSIGN_PASSWORD= COSIGN_YES=true
  "TUF_ROOT=$dir/tuf" "SIGSTORE_NO_CACHE=true" "HOME=$dir/home")
if ((REGISTRY_TLS)); then cosign_env+=("SSL_CERT_FILE=$CA_CERT"); fi
cosign_flags() { # cosign_flags MAJOR : registry transport flags
  if ((REGISTRY_TLS)); then return 0; fi
  echo --allow-insecure-registry --allow-http-registry
}

case $cmd in
  keygen)
    name=$3
    mkdir -p "$dir/keys"
    if [[ ! -f $dir/keys/$name.key ]]; then
      (cd "$tmp" && "${cosign_env[@]}" "$COSIGN_V3" generate-key-pair --output-key-prefix "$name" >"$tmp/log" 2>&1) ||
        { cat "$tmp/log" >&2; reg_die "cosign generate-key-pair failed"; }
      mv "$tmp/$name.key" "$tmp/$name.pub" "$dir/keys/"
    fi
    printf '%s\n' "$dir/keys/$name.pub"
    ;;
  push)
    ref=$3 seed=${4:-0}
    [[ $ref == *:* && $ref != */*:*/* ]] || reg_die "push wants REPO:TAG, got '$ref'"
    python3 "$here/make_oci_layout.py" "$tmp/layout" --tag "${ref##*:}" --seed "$seed" >/dev/null
    tls_flags=(--dest-tls-verify=false)
    if ((REGISTRY_TLS)); then
      mkdir -p "$tmp/certs" && cp "$CA_CERT" "$tmp/certs/ca.crt"
      tls_flags=(--dest-tls-verify=true --dest-cert-dir "$tmp/certs")
    fi
    creds=()
    if ((TOKEN_AUTH)); then creds=(--dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD"); fi
    skopeo copy --quiet --preserve-digests "${tls_flags[@]}" "${creds[@]}" --digestfile "$tmp/digest" \
      "oci:$tmp/layout:${ref##*:}" "docker://$REGISTRY_HOST/$ref" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; reg_die "skopeo copy to $REGISTRY_HOST/$ref failed"; }
    cat "$tmp/digest"
    echo
    ;;
  sign | verify)
    (($# == 5)) || usage
    ref=$3 name=$4 format=$5
    [[ $ref == *@sha256:* ]] || reg_die "$cmd wants REPO@sha256:..., got '$ref'"
    case $format in
      v2-legacy) bin=$COSIGN_V2 fmt=() ;;
      v3-bundle) bin=$COSIGN_V3 fmt=(--new-bundle-format=true) ;;
      v3-legacy) bin=$COSIGN_V3 fmt=(--new-bundle-format=false) ;;
      *) usage ;;
    esac
    mkdir -p "$dir/home"
    # shellcheck disable=SC2207
    transport=($(cosign_flags))
    if [[ $cmd == sign ]]; then
      args=(sign --key "$dir/keys/$name.key" --tlog-upload=false -y)
      [[ $format == v2-legacy ]] || args+=(--use-signing-config=false)
    else
      args=(verify --key "$dir/keys/$name.pub" --insecure-ignore-tlog=true)
    fi
    [[ $format == v2-legacy ]] || args+=("${fmt[@]}")
    "${cosign_env[@]}" "$bin" "${args[@]}" "${transport[@]}" "$REGISTRY_HOST/$ref" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; reg_die "cosign $cmd ($format) of $REGISTRY_HOST/$ref failed"; }
    [[ $cmd == verify ]] && cat "$tmp/log"
    true
    ;;
  attest | verify-attestation)
    ref=$3 name=$4 format=$5 type=$6
    [[ $ref == *@sha256:* ]] || reg_die "$cmd wants REPO@sha256:..., got '$ref'"
    case $format in
      v2-legacy) bin=$COSIGN_V2 fmt=() ;;
      v3-bundle) bin=$COSIGN_V3 fmt=(--new-bundle-format=true) ;;
      *) usage ;;
    esac
    mkdir -p "$dir/home"
    # shellcheck disable=SC2207
    transport=($(cosign_flags))
    if [[ $cmd == attest ]]; then
      (($# == 7)) || usage
      [[ -f $7 ]] || reg_die "attest: predicate file '$7' is missing"
      args=(attest --key "$dir/keys/$name.key" --type "$type" --predicate "$7" --tlog-upload=false -y)
      [[ $format == v2-legacy ]] || args+=(--use-signing-config=false)
    else
      (($# == 6)) || usage
      args=(verify-attestation --key "$dir/keys/$name.pub" --type "$type" --insecure-ignore-tlog=true)
    fi
    args+=("${fmt[@]}")
    "${cosign_env[@]}" "$bin" "${args[@]}" "${transport[@]}" "$REGISTRY_HOST/$ref" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; reg_die "cosign $cmd ($format, $type) of $REGISTRY_HOST/$ref failed"; }
    [[ $cmd == verify-attestation ]] && cat "$tmp/log"
    true
    ;;
  *) usage ;;
esac
