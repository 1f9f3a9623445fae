#!/usr/bin/env bash
# Writes the pipeguard image's whole filesystem into DEST, distroless-style: the binaries, the shared libraries they
# load, the CA bundle and a few /etc files; no shell, no package manager, no coreutils.
#
# Usage: assemble-root.sh DEST BINARY...
#
# Contract:
#   - runs inside a Debian root that has the runtime packages installed (runtime-packages.sh): the cached mmdebstrap
#     root of scripts/image/build.sh (entered with chroot) or the rootfs stage of the Dockerfile. Needs only bash,
#     coreutils, ldd and dpkg-query from that root. DEST must not exist or be empty.
#   - DEST afterwards holds (all owned by the caller, i.e. root; modes set explicitly, umask 022):
#       usr/local/bin/<binary>            each BINARY, mode 0755
#       every file ldd resolves for them  at its real path, plus each symlink on the way (soname links, the loader's
#                                         /lib64 path); lib -> usr/lib and lib64 -> usr/lib64 as in Debian
#       etc/ssl/certs/ca-certificates.crt the bundle of the ca-certificates package; usr/lib/ssl/cert.pem and
#                                         usr/lib/ssl/certs link to it (OpenSSL's default verify paths)
#       etc/passwd, etc/group             root (0) and nonroot (65532), no login shell
#       etc/nsswitch.conf                 "hosts: files dns" (glibc's own fallback would ask DNS first)
#       tmp                               mode 1777 (the Helm chart mounts an emptyDir there)
#       var/lib/dpkg/status.d/<package>   the dpkg status entry of every package a file came from (for scanners)
#       usr/share/doc/<package>/copyright the licence of every such package
#   - prints "package version" for those packages on stdout, sorted; progress goes nowhere (the caller reports).
#   - exits 1 with the reason when a binary is missing, a library cannot be resolved, or no package owns a file.
set -euo pipefail
umask 022
export LC_ALL=C

(($# >= 2)) || { echo "usage: assemble-root.sh DEST BINARY..." >&2; exit 2; }
dest=$1
shift
die() { echo "assemble-root: $*" >&2; exit 1; }
[[ ! -e $dest || -z $(ls -A "$dest") ]] || die "$dest is not empty"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)

declare -A packages=()

owner() { # owner PATH : record the package owning PATH (dpkg may know it under a merged-/usr spelling)
  local path=$1 real candidate found
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "/usr$path" "${real#/usr}"; do
    found=$(dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion by' || true)
    if [[ -n $found ]]; then
      packages[${found%%:*}]=1
      return 0
    fi
  done
  die "no installed package owns $path"
}

# copy_path PATH : copy PATH into DEST at its canonical location, recreating every symlink met on the way.
copy_path() {
  local path=$1 dir target hops=0
  while :; do
    ((hops++ < 16)) || die "too many symlinks resolving $1"
    dir=$(readlink -f "$(dirname "$path")")
    path=$dir/${path##*/}
    mkdir -p "$dest$dir"
    if [[ -L $path ]]; then
      target=$(readlink "$path")
      ln -sfn "$target" "$dest$path"
      [[ $target == /* ]] && path=$target || path=$dir/$target
    else
      [[ -f $path ]] || die "$path is not a regular file"
      cp --preserve=mode "$path" "$dest$path"
      chmod go-w "$dest$path"
      return 0
    fi
  done
}

# Debian's merged /usr: the loader's path /lib64/ld-linux-x86-64.so.2 goes through these links.
for link in lib lib64; do
  if [[ -L /$link ]]; then ln -s "$(readlink "/$link")" "$dest/$link"; fi
done

mkdir -p "$dest/usr/local/bin"
for bin in "$@"; do
  [[ -f $bin ]] || die "no such binary: $bin"
  install -m 0755 "$bin" "$dest/usr/local/bin/${bin##*/}"
  out=$(ldd "$bin") || die "ldd failed on $bin"
  if grep -q 'not found' <<<"$out"; then
    die "$bin needs libraries this root lacks: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
  fi
  # (no process substitution: a chroot without /dev has no /dev/fd)
  libs=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" | sort -u)
  while read -r lib; do
    copy_path "$lib"
    owner "$lib"
  done <<<"$libs"
done

# CA certificates: the bundle update-ca-certificates generated when the package was configured.
bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s $bundle ]] || die "$bundle is missing or empty: install and configure ca-certificates in this root"
mkdir -p "$dest/etc/ssl/certs" "$dest/usr/lib/ssl"
install -m 0644 "$bundle" "$dest$bundle"
ln -s "$bundle" "$dest/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$dest/usr/lib/ssl/certs"
packages[ca-certificates]=1

printf '%s\n' "root:x:0:0:root:/root:/usr/sbin/nologin" "nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin" \
  >"$dest/etc/passwd"
printf '%s\n' "root:x:0:" "nonroot:x:65532:" >"$dest/etc/group"
printf '%s\n' "passwd: files" "group: files" "hosts: files dns" >"$dest/etc/nsswitch.conf"
chmod 0644 "$dest/etc/passwd" "$dest/etc/group" "$dest/etc/nsswitch.conf"
mkdir -p "$dest/tmp"
chmod 1777 "$dest/tmp"

mkdir -p "$dest/var/lib/dpkg/status.d"
for pkg in $(printf '%s\n' "${!packages[@]}" | sort); do
  dpkg-query -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg" || die "dpkg-query -s $pkg failed"
  copyright=/usr/share/doc/$pkg/copyright
  if [[ -f $copyright ]]; then
    mkdir -p "$dest/usr/share/doc/$pkg"
    install -m 0644 "$copyright" "$dest/usr/share/doc/$pkg/copyright"
  fi
  printf '%s %s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
done
