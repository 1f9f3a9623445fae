#!/usr/bin/env bash
# Prints the Debian packages the pipeguard image needs at run time, one per line, sorted: the packages that own every
# shared library the dynamic loader resolves for the given binaries (ldd), plus ca-certificates.
#
# Usage: runtime-packages.sh BINARY...
#
# Contract: runs on the Debian system the binaries were built on (the host for scripts/image/build.sh, the build
# stage of the Dockerfile); reads only. Exits 1 naming the library when ldd cannot resolve one ("not found") or when
# no installed package owns it. Shared by build.sh and the Dockerfile, so both images hold the same packages.
set -euo pipefail

(($# > 0)) || { echo "usage: runtime-packages.sh BINARY..." >&2; exit 2; }

libs=$(
  for bin in "$@"; do
    [[ -f $bin ]] || { echo "runtime-packages: no such binary: $bin" >&2; exit 1; }
    out=$(ldd "$bin") || { echo "runtime-packages: ldd failed on $bin (not a dynamic executable?)" >&2; exit 1; }
    if grep -q 'not found' <<<"$out"; then
      echo "runtime-packages: $bin needs libraries this system lacks:" >&2
      grep 'not found' <<<"$out" >&2
      exit 1
    fi
    # "libx.so.1 => /path (0x...)" and the loader's own "/lib64/ld-linux-x86-64.so.2 (0x...)".
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
  done | sort -u
)

owner() { # owner PATH : the package owning PATH, trying the merged-/usr spellings dpkg may have recorded
  local path=$1 real candidate found
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "/usr$path" "${real#/usr}"; do
    found=$(dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion by' || true)
    if [[ -n $found ]]; then
      printf '%s\n' "${found%%:*}"
      return 0
    fi
  done
  echo "runtime-packages: no installed package owns $path ($real)" >&2
  return 1
}

{
  while read -r lib; do owner "$lib"; done <<<"$libs"
  echo ca-certificates
} | sort -u
