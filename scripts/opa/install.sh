#!/usr/bin/env bash
# Builds (once) and caches the Open Policy Agent binary that bench/opa_compare.sh serves the comparison policy
# with: `go install` of github.com/open-policy-agent/opa from the Go module proxy with the local Go toolchain.
# Nothing is written into the repository.
#
# Usage: install.sh                 build if missing, then print "opa: using <path> (Version: ...)" on stderr
#        install.sh --print-path    the same, then print only the binary's path on stdout
#        install.sh --no-build      like --print-path but never build: exit 2 if the binary is missing
#
# Contract:
#   - idempotent; concurrent runs serialise on $PIPEGUARD_CACHE/.install-opa.lock; the binary is moved into place
#     only after it built and reports the requested version, so an interrupted build leaves nothing behind.
#   - binary: $PIPEGUARD_CACHE/bin/opa-<version>/opa (PIPEGUARD_CACHE defaults to ~/.cache/pipeguard, as in
#     scripts/controlplane/lib.sh); version PIPEGUARD_OPA_VERSION, default v1.22.4.
#   - the build is polite on a shared 2-core machine: `nice -n 10`, GOFLAGS=-p=1 (override the job count with
#     PIPEGUARD_BUILD_JOBS); static (CGO_ENABLED=0), -trimpath, -ldflags "-s -w". A cold build takes minutes.
#   - needs: a Go toolchain >= 1.26 (OPA 1.22's go.mod), GO=/path/to/go or go on PATH or /usr/local/go/bin/go;
#     network access to the Go module proxy on the first run only.
set -euo pipefail

# shellcheck source=../controlplane/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../controlplane" && pwd)/lib.sh"

: "${PIPEGUARD_OPA_VERSION:=v1.22.4}"
say() { printf 'opa: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

mode=${1:---install}
case $mode in
  --install | --print-path | --no-build) ;;
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) fail "unknown argument '$1' (try --help)" ;;
esac

ver=$PIPEGUARD_OPA_VERSION
[[ $ver =~ ^v1\.[0-9]+\.[0-9]+$ ]] || fail "PIPEGUARD_OPA_VERSION must look like v1.22.4, got '$ver'"
cache=$PIPEGUARD_CACHE
dest="$cache/bin/opa-$ver/opa"

# reports_version BINARY : true if BINARY runs and says it is $ver (captured, not piped into grep: pipefail).
reports_version() {
  local said
  said=$("$1" version 2>&1) || return 1
  [[ $said =~ Version:\ *${ver#v}($'\n'|$) ]]
}

out=
trap '[[ -n $out ]] && rm -rf "$out"; true' EXIT

build() {
  local go_bin log start=$SECONDS
  go_bin=${GO:-$(command -v go || true)}
  [[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
  [[ -x $go_bin ]] || fail "no Go toolchain (set GO=/path/to/go or put go on PATH)"
  mkdir -p "$cache/src" "$cache/logs"
  out=$(mktemp -d "$cache/src/.build-opa.XXXXXX")
  log="$cache/logs/opa-$ver.log"
  say "building github.com/open-policy-agent/opa@$ver with $("$go_bin" version) (nice -n 10, -p=${PIPEGUARD_BUILD_JOBS:-1}; log $log)"
  if ! env -u GOOS -u GOARCH GOWORK=off CGO_ENABLED=0 GOBIN="$out" \
    GOFLAGS="-p=${PIPEGUARD_BUILD_JOBS:-1} -buildvcs=false" \
    nice -n 10 "$go_bin" install -trimpath -ldflags "-s -w" "github.com/open-policy-agent/opa@$ver" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fail "build failed after $((SECONDS - start))s"
  fi
  reports_version "$out/opa" || fail "the built opa does not report version ${ver#v}: $("$out/opa" version 2>&1 | head -n1)"
  mkdir -p "$(dirname "$dest")"
  mv -f "$out/opa" "$dest"
  rm -rf "$out"
  out=
  say "built in $((SECONDS - start))s"
}

if [[ ! -x $dest ]]; then
  [[ $mode == --no-build ]] && {
    say "not built yet: $dest (run scripts/opa/install.sh)"
    exit 2
  }
  mkdir -p "$cache"
  exec 9>"$cache/.install-opa.lock"
  if ! flock -n 9; then
    say "another install.sh is building into $cache; waiting for it"
    flock 9
  fi
  [[ -x $dest ]] || build
  flock -u 9
fi
reports_version "$dest" || fail "$dest does not report version ${ver#v} (remove it to rebuild)"
say "using $dest ($("$dest" version 2>&1 | head -n1))"
[[ $mode == --install ]] || printf '%s\n' "$dest"
