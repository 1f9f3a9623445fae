#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image without a container engine and caches it as an OCI image layout:
# pause.c from the k8s.io/kubernetes module the node build already downloaded (build/pause/linux/pause.c, read at
# build time, not copied into this repository), compiled static with Debian's gcc as upstream's Makefile does, in one
# layer written the same reproducible way as scripts/image/build.sh (sorted, 0:0, SOURCE_DATE_EPOCH mtimes), wrapped
# by umoci.
#
# Usage: pause-image.sh      prints the layout directory (tag $PIPEGUARD_PAUSE_VERSION) on stdout
#
# Contract: cached in $PIPEGUARD_CACHE/node/pause-<version>-<kube version>/oci; rebuilt only when missing.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

kube_ver=$PIPEGUARD_KUBE_VERSION
tag=$PIPEGUARD_PAUSE_VERSION
out=$PIPEGUARD_CACHE/node/pause-$tag-$kube_ver
if [[ -f $out/oci/index.json ]]; then
  printf '%s\n' "$out/oci"
  exit 0
fi
for cmd in gcc umoci tar strip; do command -v "$cmd" >/dev/null || node_die "$cmd is required (gcc, umoci, binutils)"; done
go_bin=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
moddir=$(GOFLAGS='' GOWORK=off "$go_bin" mod download -json "k8s.io/kubernetes@$kube_ver" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
src=$moddir/build/pause/linux/pause.c
[[ -s $src ]] || node_die "no $src in the module cache"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
epoch=${SOURCE_DATE_EPOCH:-1700000000}
mkdir -p "$work/root"
gcc -Os -Wall -Werror -static -DVERSION="v$tag-pipeguard" -o "$work/root/pause" "$src"
strip "$work/root/pause"
touch -d "@$epoch" "$work/root/pause"
tar --create --file "$work/layer.tar" --directory "$work/root" --format=posix --numeric-owner --owner=0 --group=0 \
  --mtime="@$epoch" --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime pause
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$out"
rm -rf "$out/oci.tmp"
umoci init --layout "$out/oci.tmp"
umoci new --image "$out/oci.tmp:$tag"
umoci raw add-layer --image "$out/oci.tmp:$tag" --history.created "$created" \
  --history.created_by "scripts/node/pause-image.sh: gcc -static pause.c" "$work/layer.tar"
umoci config --image "$out/oci.tmp:$tag" --created "$created" --no-history --config.user 65535:65535 \
  --config.entrypoint /pause
umoci gc --layout "$out/oci.tmp"
mv "$out/oci.tmp" "$out/oci"
node_log "pause image $tag built into $out/oci"
printf '%s\n' "$out/oci"
