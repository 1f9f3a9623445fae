#!/usr/bin/env bash
# Builds pipeguard's container image without a container engine and without any image registry: a reproducible OCI
# image layout made from Debian packages (mmdebstrap) and the binaries of a local build (umoci), optionally pushed
# to the local test registry over TLS and signed with cosign (push.sh). docs/image.md explains the choices.
#
# Usage: scripts/image/build.sh [--build-dir BUILD_DIR] [--no-compile] [--out OUT] [--tag TAG] [--refresh-rootfs]
#                               [--push REGISTRY_DIR [--repo REPO] [--key NAME] [--formats "FORMAT..."] [--cli PATH]]
#
#   --build-dir BUILD_DIR  CMake build tree with the binaries (default build), configured (Release) if missing
#   --no-compile      use the binaries as they are instead of running ninja for the three targets first
#   --out OUT         where the image goes (default BUILD_DIR/image): OUT/oci is the OCI layout (tag TAG), OUT/digest
#                     the manifest digest, OUT/packages.txt the Debian packages in the image, OUT/files.txt its files
#   --tag TAG         the layout's tag (default: the project version from CMakeLists.txt)
#   --refresh-rootfs  rebuild the cached Debian root even if one with the same key exists (the mirror moved on)
#   --push ...        then run push.sh OUT REGISTRY_DIR with the remaining options (see push.sh)
#
# Contract:
#   - needs root (mmdebstrap, chroot); installs mmdebstrap, umoci, jq and binutils from Debian when missing, and the
#     build dependencies (scripts/install-deps.sh) unless --no-compile.
#   - the image: one layer holding only the three binaries (stripped), their shared libraries, the CA bundle and
#     /etc/{passwd,group,nsswitch.conf} (assemble-root.sh); user 65532:65532, no entrypoint, cmd
#     ["/usr/local/bin/pipeguard-webhook", "--help"]: the same image the Dockerfile describes
#     (tests/image/image_test.sh checks that they agree).
#   - reproducible: same binaries + same cached Debian root + same SOURCE_DATE_EPOCH -> same digest. SOURCE_DATE_EPOCH
#     defaults to the commit time of HEAD; it is every file's mtime and the image's created time. Layer entries are
#     sorted, owned by 0:0, pax headers without atime/ctime; no random IDs anywhere.
#   - cache: the Debian root (mmdebstrap, variant essential + runtime-packages.sh's packages) is a tarball under
#     $PIPEGUARD_CACHE/image/ keyed by suite, mirrors, package list and mmdebstrap version. The suite defaults to the
#     host's (the binaries link against its libraries); PIPEGUARD_IMAGE_SUITE, PIPEGUARD_IMAGE_MIRROR and
#     PIPEGUARD_IMAGE_SECURITY_MIRROR override (point them at snapshot.debian.org to pin the packages in time).
#   - prints each stage's time, the image size, digest, packages and libraries; the digest alone on stdout last.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../controlplane/lib.sh
. "$repo/scripts/controlplane/lib.sh" # PIPEGUARD_CACHE, cp_* helpers

# The image's configuration. The Dockerfile's final stage must say the same (checked by tests/image/image_test.sh).
image_binaries=(pipeguard pipeguard-webhook pipeguard-operator)
image_user=65532:65532
image_env=(PATH=/usr/local/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
image_cmd=(/usr/local/bin/pipeguard-webhook --help)
image_ports=(8443/tcp)
# Recipe version: bump when the Debian root is made differently, so cached roots are not reused.
rootfs_recipe=1

log() { printf 'image: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

build_dir=$repo/build
compile=1
out=
tag=
refresh=0
push_dir=
push_args=()
while (($#)); do
  case $1 in
    --build-dir) build_dir=${2:?--build-dir needs a value}; shift ;;
    --no-compile) compile=0 ;;
    --out) out=${2:?--out needs a value}; shift ;;
    --tag) tag=${2:?--tag needs a value}; shift ;;
    --refresh-rootfs) refresh=1 ;;
    --push) push_dir=${2:?--push needs the directory of a registry started by scripts/registry/start.sh}; shift ;;
    --repo | --key | --formats | --cli) push_args+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
((${#push_args[@]} == 0)) || [[ -n $push_dir ]] || die "--repo, --key, --formats and --cli go with --push"
[[ $(id -u) == 0 ]] || die "needs root (mmdebstrap builds the Debian root, chroot runs the assembly in it)"

build_dir=$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)
out=${out:-$build_dir/image}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [[ -z $tag ]]; then
  tag=$(sed -n 's/^project(pipeguard VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
  [[ -n $tag ]] || die "cannot read the project version from CMakeLists.txt; pass --tag"
fi

stage_start=$SECONDS
stage_times=()
stage() { # stage NAME : close the previous stage's timer under NAME
  stage_times+=("$(printf '%-26s %4ss' "$1" $((SECONDS - stage_start)))")
  log "stage $1: $((SECONDS - stage_start))s"
  stage_start=$SECONDS
}

# --- tools ----------------------------------------------------------------------------------------------------------
declare -A deb=([mmdebstrap]=mmdebstrap [umoci]=umoci [jq]=jq [strip]=binutils [chroot]=coreutils [tar]=tar
  [gzip]=gzip)
missing=()
for cmd in "${!deb[@]}"; do command -v "$cmd" >/dev/null || missing+=("${deb[$cmd]}"); done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
fi
stage tools

# --- binaries -------------------------------------------------------------------------------------------------------
bin_paths=("$build_dir/cli/pipeguard" "$build_dir/webhook/pipeguard-webhook" "$build_dir/operator/pipeguard-operator")
if ((compile)); then
  bash "$repo/scripts/install-deps.sh" >&2 # compilers and libraries (idempotent)
  export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
  [[ -f $build_dir/build.ninja ]] ||
    cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
  ninja -C "$build_dir" -j "${PIPEGUARD_JOBS:-$(nproc)}" "${image_binaries[@]}" >&2
fi
for bin in "${bin_paths[@]}"; do
  [[ -x $bin ]] || die "$bin is missing: build it (ninja -C $build_dir ${image_binaries[*]})"
done
stage binaries

if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null) ||
    die "SOURCE_DATE_EPOCH is unset and $repo is not a git checkout: set it (seconds since 1970)"
fi
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be seconds since 1970, got '$SOURCE_DATE_EPOCH'"
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d "$out/.work.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/bin"
for bin in "${bin_paths[@]}"; do strip -o "$work/bin/${bin##*/}" "$bin"; done
mapfile -t runtime_packages < <("$here/runtime-packages.sh" "$work/bin"/*)
((${#runtime_packages[@]})) || die "runtime-packages.sh found no packages"
stage "strip + runtime packages"

# --- the Debian root (cached) ---------------------------------------------------------------------------------------
suite=${PIPEGUARD_IMAGE_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[[ -n $suite ]] || die "cannot tell the host's Debian suite from /etc/os-release: set PIPEGUARD_IMAGE_SUITE"
mirror=${PIPEGUARD_IMAGE_MIRROR:-http://deb.debian.org/debian}
security_mirror=${PIPEGUARD_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main")
include=$(IFS=,; echo "${runtime_packages[*]}")
key=$(printf '%s\n' "recipe $rootfs_recipe" "$(mmdebstrap --version)" "variant essential" "include $include" \
  "${sources[@]}" | sha256sum | cut -c1-16)
cache_dir=$PIPEGUARD_CACHE/image
rootfs=$cache_dir/rootfs-$suite-$key.tar
mkdir -p "$cache_dir"
exec 8>"$cache_dir/.rootfs.lock"
flock 8
if ((refresh)) || [[ ! -s $rootfs ]]; then
  log "Debian root: mmdebstrap $suite (essential + $include) -> $rootfs (cold: about a minute)"
  # mmdebstrap's own SOURCE_DATE_EPOCH handling keeps the root reproducible for the same mirror content; the image
  # takes only selected files from it and stamps them with the image's SOURCE_DATE_EPOCH anyway.
  # shellcheck disable=SC2016 # $1 is the hook's argument (the root), expanded by mmdebstrap's shell
  mmdebstrap --quiet --variant=essential --format=tar --include="$include" \
    --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
    "$suite" "$rootfs.tmp" "${sources[@]}" >&2 || { rm -f "$rootfs.tmp"; die "mmdebstrap failed"; }
  mv -f "$rootfs.tmp" "$rootfs"
  rootfs_state=built
else
  rootfs_state=cached
fi
flock -u 8
stage "debian root ($rootfs_state)"

# --- assemble the image's filesystem inside that root ---------------------------------------------------------------
root=$work/root
mkdir -p "$root"
tar -xf "$rootfs" -C "$root" --exclude='./dev/*'
mkdir -p "$root/tmp/pipeguard-image/bin"
install -m 0755 "$here/assemble-root.sh" "$root/tmp/pipeguard-image/assemble-root.sh"
cp "$work/bin"/* "$root/tmp/pipeguard-image/bin/"
inside=()
for name in "${image_binaries[@]}"; do inside+=("/tmp/pipeguard-image/bin/$name"); done
chroot "$root" /bin/bash /tmp/pipeguard-image/assemble-root.sh /tmp/pipeguard-image/rootfs "${inside[@]}" \
  >"$work/packages.txt" || die "assemble-root.sh failed"
layer_root=$root/tmp/pipeguard-image/rootfs

# The binaries must start from the image's own files, as the non-root user (no /proc, /dev or shell needed).
for name in "${image_binaries[@]}"; do
  chroot --userspec="$image_user" "$layer_root" "/usr/local/bin/$name" --help >"$work/smoke.log" 2>&1 ||
    { cat "$work/smoke.log" >&2; die "/usr/local/bin/$name --help fails inside the image's root"; }
done
stage assemble

# --- the layer: sorted entries, fixed owner and times, no atime/ctime ------------------------------------------------
(cd "$layer_root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/files.txt"
tar --create --file "$work/layer.tar" --directory "$layer_root" --no-recursion --verbatim-files-from \
  --files-from "$work/files.txt" --format=posix --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime

# --- the OCI image layout (umoci) -----------------------------------------------------------------------------------
layout=$out/oci
rm -rf "$layout"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci raw add-layer --image "$layout:$tag" --history.created "$created" \
  --history.created_by "scripts/image/build.sh: assemble-root.sh ${image_binaries[*]}" "$work/layer.tar"
config_args=(--config.user "$image_user" --created "$created" --no-history)
for e in "${image_env[@]}"; do config_args+=(--config.env "$e"); done
for c in "${image_cmd[@]}"; do config_args+=(--config.cmd "$c"); done
for p in "${image_ports[@]}"; do config_args+=(--config.exposedports "$p"); done
umoci config --image "$layout:$tag" "${config_args[@]}"
umoci gc --layout "$layout"
stage "layer + oci layout"

# --- report -----------------------------------------------------------------------------------------------------------
blob() { printf '%s/blobs/%s\n' "$layout" "${1/://}"; }
digest=$(jq -r --arg tag "$tag" \
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | .digest' "$layout/index.json")
[[ $digest == sha256:* ]] || die "no manifest tagged $tag in $layout/index.json"
manifest=$(blob "$digest")
layer_digest=$(jq -r '.layers[0].digest' "$manifest")
compressed=$(jq '[.layers[].size] | add' "$manifest")
uncompressed=$(stat -c %s "$work/layer.tar")
printf '%s\n' "$digest" >"$out/digest"
cp "$work/packages.txt" "$out/packages.txt"
cp "$work/files.txt" "$out/files.txt"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
{
  echo "image: $layout:$tag (OCI image layout)"
  echo "  digest         $digest"
  echo "  layer          $layer_digest"
  echo "  size           $(mib "$compressed") compressed, $(mib "$uncompressed") uncompressed," \
    "$(wc -l <"$work/files.txt") entries"
  echo "  created        $created (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
  echo "  config         user $image_user, cmd ${image_cmd[*]}, env ${image_env[*]}, ports ${image_ports[*]}"
  echo "  debian root    $rootfs ($rootfs_state)"
  echo "  binaries:"
  for name in "${image_binaries[@]}"; do
    echo "    /usr/local/bin/$name  $(mib "$(stat -c %s "$layer_root/usr/local/bin/$name")")"
  done
  echo "  shared libraries:"
  while read -r f; do
    [[ -f $layer_root/$f && ! -L $layer_root/$f && $f == usr/lib* ]] &&
      echo "    /$f  $(mib "$(stat -c %s "$layer_root/$f")")"
  done <"$work/files.txt"
  echo "  Debian packages (files taken from them):"
  sed 's/^/    /' "$work/packages.txt"
  echo "  stage times:"
  printf '    %s\n' "${stage_times[@]}"
} >&2

if [[ -n $push_dir ]]; then
  "$here/push.sh" "$out" "$push_dir" --tag "$tag" "${push_args[@]}" >/dev/null
  stage push
fi
printf '%s\n' "$digest"
