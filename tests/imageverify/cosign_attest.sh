#!/usr/bin/env bash
# Test helper: `cosign attest` (cosign 3.x, Sigstore bundle, no transparency log) of a minimal SLSA provenance
# predicate for an image in a registry started by scripts/registry/start.sh DIR, with a key made by
# `artifacts.sh keygen DIR NAME`. An attestation is signed by a trusted key but is NOT an image signature.
# Usage: cosign_attest.sh DIR REPO@DIGEST NAME
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scripts=$here/../../scripts/registry
(($# == 3)) || { echo "usage: cosign_attest.sh DIR REPO@DIGEST NAME" >&2; exit 2; }
dir=$(cd "$1" && pwd -P) ref=$2 name=$3
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
eval "$("$scripts/install.sh" --no-build)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"buildType":"https://pipeguard.io/test","builder":{"id":"pipeguard-test"}}\n' >"$tmp/predicate.json"
transport=()
if ((!REGISTRY_TLS)); then transport=(--allow-insecure-registry --allow-http-registry); fi
mkdir -p "$dir/home"
env "DOCKER_CONFIG=$DOCKER_CONFIG" COSIGN_PASSWORD= COSIGN_YES=true "TUF_ROOT=$dir/tuf" SIGSTORE_NO_CACHE=true \
  "HOME=$dir/home" ${CA_CERT:+"SSL_CERT_FILE=$CA_CERT"} \
  "$COSIGN_V3" attest --key "$dir/keys/$name.key" --type slsaprovenance --predicate "$tmp/predicate.json" \
  --tlog-upload=false --use-signing-config=false --new-bundle-format=true -y "${transport[@]}" \
  "$REGISTRY_HOST/$ref" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
