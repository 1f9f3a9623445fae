#!/usr/bin/env bash
# Builds a small "task" image for pods that must really run (smoke pods, pipeline tasks in the real-node suite)
# without a container engine: Debian's busybox-static (one static binary, /bin/sh and the usual applets as symlinks),
# one reproducible layer (sorted, 0:0, SOURCE_DATE_EPOCH mtimes) wrapped by umoci, user 65532.
#
# Usage: task-image.sh      prints the OCI layout directory (tag "1") on stdout
#
# Contract: cached in $PIPEGUARD_CACHE/node/task-<busybox-static version>/oci; `apt-get download` (no install) fetches
# the package when the cache is empty.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

version=$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [[ -z $version || $version == "(none)" ]]; then
  apt-get update -qq >&2
  version=$(apt-cache policy busybox-static | sed -n 's/^ *Candidate: //p')
fi
[[ -n $version && $version != "(none)" ]] || node_die "Debian has no busybox-static candidate"
out=$PIPEGUARD_CACHE/node/task-${version//[:+~]/_}
if [[ -f $out/oci/index.json ]]; then
  printf '%s\n' "$out/oci"
  exit 0
fi
for cmd in umoci tar dpkg-deb; do command -v "$cmd" >/dev/null || node_die "$cmd is required"; done
work=$(mktemp -d)
chmod 755 "$work" # apt-get download runs as _apt
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq "busybox-static=$version" >&2)
dpkg-deb -x "$work"/busybox-static_*.deb "$work/pkg"
epoch=${SOURCE_DATE_EPOCH:-1700000000}
root=$work/root
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
cp "$work/pkg/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [[ $applet == busybox || $applet == */* ]] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnonroot:x:65532:65532:nonroot:/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
find "$root" -exec touch -h -d "@$epoch" {} +
(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/files.txt"
tar --create --file "$work/layer.tar" --directory "$root" --no-recursion --verbatim-files-from \
  --files-from "$work/files.txt" --format=posix --numeric-owner --owner=0 --group=0 --mtime="@$epoch" \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$out"
rm -rf "$out/oci.tmp"
umoci init --layout "$out/oci.tmp"
umoci new --image "$out/oci.tmp:1"
umoci raw add-layer --image "$out/oci.tmp:1" --history.created "$created" \
  --history.created_by "scripts/node/task-image.sh: busybox-static $version" "$work/layer.tar"
umoci config --image "$out/oci.tmp:1" --created "$created" --no-history --config.user 65532:65532 \
  --config.env PATH=/bin --config.cmd /bin/sh
umoci gc --layout "$out/oci.tmp"
mv "$out/oci.tmp" "$out/oci"
node_log "task image (busybox-static $version) built into $out/oci"
printf '%s\n' "$out/oci"
