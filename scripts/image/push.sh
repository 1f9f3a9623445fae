#!/usr/bin/env bash
# Pushes an image built by build.sh to a registry started by scripts/registry/start.sh, signs it with the real cosign
# CLIs and verifies it with cosign and with pipeguard's own `pipeguard verify-image`.
#
# Usage: scripts/image/push.sh OUT REGISTRY_DIR [--tag TAG] [--repo REPO] [--key NAME] [--formats "FORMAT..."]
#                              [--cli PATH]
#
#   OUT           build.sh's output directory (OUT/oci, OUT/digest)
#   REGISTRY_DIR  a running registry's directory (start.sh REGISTRY_DIR --tls [--token-auth])
#   --tag TAG     the layout's tag, also the pushed tag (default: the only tag in OUT/oci)
#   --repo REPO   repository in that registry (default pipeguard/pipeguard)
#   --key NAME    cosign key pair REGISTRY_DIR/keys/NAME.{key,pub}, generated when missing (default pipeguard-image)
#   --formats F   space-separated signature formats of scripts/registry/artifacts.sh (default "v2-legacy v3-bundle":
#                 a cosign 2 `.sig` signature and a cosign 3 Sigstore bundle on the same digest); "" = do not sign
#   --cli PATH    the pipeguard CLI that verifies (default build/cli/pipeguard)
#
# Contract: `skopeo copy --preserve-digests` (the pushed manifest digest must equal OUT/digest, else exit 1); TLS
# trust and credentials come from REGISTRY_DIR/env; signing never uploads to a transparency log. Writes
# REGISTRY_DIR/verify-REPO.yaml (a pipeguard config that trusts the registry's CA). Prints the pushed reference
# (HOST/REPO@DIGEST) on stdout; progress and the verifiers' output on stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
log() { printf 'image: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

(($# >= 2)) || die "usage: push.sh OUT REGISTRY_DIR [--tag TAG] [--repo REPO] [--key NAME] [--formats F] [--cli PATH]"
out=$(cd "$1" && pwd) || die "no such directory: $1"
rdir=$(cd "$2" && pwd -P) || die "no such directory: $2"
shift 2
tag=
repo=pipeguard/pipeguard
key=pipeguard-image
formats="v2-legacy v3-bundle"
cli=$repo_root/build/cli/pipeguard
while (($#)); do
  case $1 in
    --tag) tag=${2:?--tag needs a value} ;;
    --repo) repo=${2:?--repo needs a value} ;;
    --key) key=${2:?--key needs a value} ;;
    --formats) formats=${2?--formats needs a value} ;;
    --cli) cli=${2:?--cli needs a value} ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift 2
done
[[ -f $out/oci/index.json && -s $out/digest ]] || die "$out holds no image: run scripts/image/build.sh --out $out"
[[ -f $rdir/env ]] || die "no registry runs in $rdir: start one with scripts/registry/start.sh $rdir --tls"
if [[ -z $tag ]]; then
  tag=$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | if length == 1 then .[0] else "" end' \
    "$out/oci/index.json")
  [[ -n $tag ]] || die "$out/oci has several tags: pass --tag"
fi
digest=$(cat "$out/digest")

set -a
# shellcheck disable=SC1091
. "$rdir/env"
set +a
((REGISTRY_TLS)) || log "warning: the registry in $rdir serves plain HTTP (start it with --tls to push over TLS)"
# docker-registry, skopeo and both cosign CLIs (built once into $PIPEGUARD_CACHE; several minutes cold).
"$repo_root/scripts/registry/install.sh" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tls=(--dest-tls-verify=false)
if ((REGISTRY_TLS)); then
  mkdir -p "$tmp/certs" && cp "$CA_CERT" "$tmp/certs/ca.crt"
  tls=(--dest-tls-verify=true --dest-cert-dir "$tmp/certs")
fi
creds=()
if ((TOKEN_AUTH)); then creds=(--dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD"); fi
ref=$REGISTRY_HOST/$repo
skopeo copy --quiet --preserve-digests "${tls[@]}" "${creds[@]}" --digestfile "$tmp/digest" \
  "oci:$out/oci:$tag" "docker://$ref:$tag" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; die "skopeo copy to $ref:$tag failed"; }
pushed=$(cat "$tmp/digest")
[[ $pushed == "$digest" ]] || die "the registry stored $pushed, not the built digest $digest"
log "pushed $ref:$tag ($digest) to $REGISTRY_URL"

artifacts=$repo_root/scripts/registry/artifacts.sh
if [[ -n ${formats// /} ]]; then
  pub=$("$artifacts" keygen "$rdir" "$key")
  for format in $formats; do
    "$artifacts" sign "$rdir" "$repo@$digest" "$key" "$format"
    "$artifacts" verify "$rdir" "$repo@$digest" "$key" "$format" >"$tmp/cosign.log" 2>&1 ||
      { cat "$tmp/cosign.log" >&2; die "cosign verify ($format) failed"; }
    log "signed ($format) with $rdir/keys/$key.key; cosign verify: OK"
  done

  [[ -x $cli ]] || die "$cli is missing: ninja -C build pipeguard"
  config=$rdir/verify-${repo//\//-}.yaml
  {
    echo "# pipeguard config for verify-image against the test registry (scripts/image/push.sh)"
    echo "images:"
    echo "  registries:"
    printf '    - {host: "%s"' "$REGISTRY_HOST"
    ((REGISTRY_TLS)) && printf ', caFile: %s' "$CA_CERT"
    ((REGISTRY_TLS)) || printf ', insecure: true'
    ((TOKEN_AUTH)) && printf ', credentialsFile: %s' "$CREDENTIALS_FILE"
    echo "}"
  } >"$config"
  "$cli" verify-image --config "$config" --key "$pub" "$ref@$digest" >&2 ||
    die "pipeguard verify-image rejected $ref@$digest (config $config)"
fi
printf '%s\n' "$ref@$digest"
