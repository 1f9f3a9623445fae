#!/usr/bin/env bash
# Builds the Spark image of the real-node suite (a driver and executors that really run on the node) without a
# container engine: a Debian root from Debian's packages (mmdebstrap: openjdk-17-jre-headless and python3), plus the
# Spark distribution the pyspark wheel from PyPI ships (its jars, bin/ scripts and python/lib zips, the same pyspark
# e2e/clients/install.sh installs for the host-side spark-submit), a tiny PySpark job (spark/pi.py) and an
# entrypoint for spark-submit's driver/executor contract (spark/entrypoint.sh). Two reproducible layers (sorted
# entries, SOURCE_DATE_EPOCH mtimes, no atime/ctime) wrapped by umoci; user 185 (spark), workdir /opt/spark/work-dir.
#
# Usage: spark-image.sh      prints the OCI layout directory (tag = the pyspark version) on stdout; the image's size
#                            and package count on stderr
#
# Contract:
#   - needs root (mmdebstrap), the e2e clients venv (installed by e2e/clients/install.sh when missing), umoci, jq.
#   - the Debian root is cached as $PIPEGUARD_CACHE/node/spark-root-<suite>-<key>.tar, key = recipe, mmdebstrap
#     version, package list and mirrors; the image as $PIPEGUARD_CACHE/node/spark-<pyspark version>-<key>/oci, key =
#     that root, the pyspark version, this script, the entrypoint, the job and SOURCE_DATE_EPOCH (default 1700000000,
#     like the task image). Same inputs, same digest. Older spark-* images (hundreds of MB) are removed.
#   - the layer holding the Debian root keeps its files' owners and modes; /usr/share/{man,info,locale,doc} are not
#     installed except the packages' copyright files. /etc/passwd gains spark:x:185:185.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

recipe=1
packages=(openjdk-17-jre-headless python3)
[[ $(id -u) == 0 ]] || node_die "spark-image.sh needs root (mmdebstrap)"
for cmd in mmdebstrap umoci jq tar; do command -v "$cmd" >/dev/null || node_die "$cmd is required"; done
venv=$(bash "$repo/e2e/clients/install.sh" --print-venv) || node_die "e2e/clients/install.sh failed"
spark_home=$(readlink -f "$venv/spark-home")
version=$("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)') || node_die "no pyspark in $venv"
[[ -d $spark_home/jars && -f $spark_home/bin/spark-submit ]] || node_die "$spark_home holds no Spark distribution"

suite=${PIPEGUARD_IMAGE_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[[ -n $suite ]] || node_die "cannot tell the host's Debian suite: set PIPEGUARD_IMAGE_SUITE"
mirror=${PIPEGUARD_IMAGE_MIRROR:-http://deb.debian.org/debian}
security_mirror=${PIPEGUARD_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main")
include=$(IFS=,; echo "${packages[*]}")
root_key=$(printf '%s\n' "recipe $recipe" "$(mmdebstrap --version)" "variant essential" "include $include" \
  "${sources[@]}" | sha256sum | cut -c1-16)
cache=$PIPEGUARD_CACHE/node
rootfs=$cache/spark-root-$suite-$root_key.tar
epoch=${SOURCE_DATE_EPOCH:-1700000000}
key=$({ echo "$rootfs $version $epoch"; cat "${BASH_SOURCE[0]}" "$here/spark/entrypoint.sh" "$here/spark/pi.py"; } |
  sha256sum | cut -c1-16)
out=$cache/spark-$version-$key
if [[ -f $out/oci/index.json ]]; then
  printf '%s\n' "$out/oci"
  exit 0
fi

mkdir -p "$cache"
exec 8>"$cache/.spark-image.lock"
flock 8
t0=$SECONDS
if [[ ! -s $rootfs ]]; then
  node_log "Spark image: mmdebstrap $suite (essential + $include) -> $rootfs (cold: a few minutes)"
  # The JRE's postinst registers java.1.gz with update-alternatives, which fails when man1 does not exist (the man
  # pages themselves are excluded): the essential hook creates the empty directory first.
  # shellcheck disable=SC2016 # $1 is the hook's argument (the root), expanded by mmdebstrap's shell
  mmdebstrap --quiet --variant=essential --format=tar --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
    "$suite" "$rootfs.tmp" "${sources[@]}" >&2 || { rm -f "$rootfs.tmp"; node_die "mmdebstrap failed"; }
  mv -f "$rootfs.tmp" "$rootfs"
fi

work=$(mktemp -d "$cache/.spark-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Layer 1: the Debian root, as mmdebstrap made it (owners kept), without device nodes, caches and logs.
base=$work/base
mkdir -p "$base"
tar -xf "$rootfs" -C "$base" --numeric-owner --exclude='./dev/*'
rm -rf "$base"/var/cache/apt/* "$base"/var/lib/apt/lists/* "$base"/var/log/* "$base"/tmp/*
java_home=$(dirname "$(dirname "$(readlink -f "$base/usr/bin/java")")")
java_home=${java_home#"$base"}
[[ -x $base$java_home/bin/java ]] || node_die "no java in the Debian root"
grep -q '^spark:' "$base/etc/passwd" || echo 'spark:x:185:185:spark:/opt/spark:/bin/bash' >>"$base/etc/passwd"
grep -q '^spark:' "$base/etc/group" || echo 'spark:x:185:' >>"$base/etc/group"
chroot "$base" dpkg-query -W -f='${Package} ${Version}\n' >"$work/packages.txt"

# Layer 2: /opt/spark from the pyspark wheel (no Windows .cmd scripts), the job and the entrypoint.
app=$work/app
sh=$app/opt/spark
mkdir -p "$sh/python" "$sh/jobs" "$sh/work-dir"
cp -r "$spark_home/jars" "$spark_home/licenses" "$sh/"
cp -r "$spark_home/python/lib" "$sh/python/"
mkdir -p "$sh/bin"
for f in "$spark_home"/bin/*; do [[ $f == *.cmd ]] || cp "$f" "$sh/bin/"; done
install -m 0755 "$here/spark/entrypoint.sh" "$sh/entrypoint.sh"
install -m 0644 "$here/spark/pi.py" "$sh/jobs/pi.py"
chmod -R u=rwX,go=rX "$sh"
chmod 1777 "$sh/work-dir"

layer() { # layer DIR TAR : DIR as a reproducible tar
  (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/files.txt"
  find "$1" -exec touch -h -d "@$epoch" {} +
  tar --create --file "$2" --directory "$1" --no-recursion --verbatim-files-from --files-from "$work/files.txt" \
    --format=posix --numeric-owner --mtime="@$epoch" --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
}
layer "$base" "$work/base.tar"
layer "$app" "$work/app.tar" # built by root here: its files are 0:0
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"
lay=$out.tmp/oci
umoci init --layout "$lay"
umoci new --image "$lay:$version"
umoci raw add-layer --image "$lay:$version" --history.created "$created" \
  --history.created_by "scripts/node/spark-image.sh: mmdebstrap $suite essential + $include" "$work/base.tar"
umoci raw add-layer --image "$lay:$version" --history.created "$created" \
  --history.created_by "scripts/node/spark-image.sh: /opt/spark from pyspark $version (PyPI), entrypoint, jobs/pi.py" \
  "$work/app.tar"
umoci config --image "$lay:$version" --created "$created" --no-history --config.user 185:185 \
  --config.workingdir /opt/spark/work-dir --config.entrypoint /opt/spark/entrypoint.sh \
  --config.env "JAVA_HOME=$java_home" --config.env SPARK_HOME=/opt/spark \
  --config.env PATH=/opt/spark/bin:/usr/local/bin:/usr/bin:/bin --config.env PYSPARK_PYTHON=python3
umoci gc --layout "$lay"
cp "$work/packages.txt" "$out.tmp/packages.txt"
mv "$out.tmp" "$out"
for old in "$cache"/spark-[0-9]*; do
  [[ -d $old && $old != "$out" ]] && rm -rf "$old"
done

digest=$(jq -r '.manifests[0].digest' "$out/oci/index.json")
manifest=$out/oci/blobs/${digest/://}
compressed=$(jq '[.layers[].size] | add' "$manifest")
uncompressed=$(($(stat -c %s "$work/base.tar") + $(stat -c %s "$work/app.tar")))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "$digest $(mib "$compressed") compressed, $(mib "$uncompressed") uncompressed" >"$out/summary"
node_log "Spark image (pyspark $version, $(wc -l <"$out/packages.txt") Debian packages, java $java_home) built into" \
  "$out/oci in $((SECONDS - t0)) s: $(cat "$out/summary")"
printf '%s\n' "$out/oci"
