#!/usr/bin/env bash
# Builds (once) and caches the Open Policy Agent binary that bench/opa_compare.sh serves the comparison policy
# with: `go install` of github.com/open-policy-agent/opa from the Go module proxy with the local Go toolchain.
# Nothing is written into the repository.
#
# Usage: install.sh                 build if missing, then print "opa: using <path> (Version: ...)" on stderr
#        install.sh --print-path    the same, then print only the binary's path on stdout
#        install.sh --no-build      like --print-path but never build: exit 2 if the binary is missing
#
# Contract (scripts/lib/go_tool.sh, shared with the other tools built from Go modules):
#   - idempotent; serialised on a lock; the binary is moved into place only after it built and reports the
#     requested version, so an interrupted build leaves nothing behind.
#   - binary: $PIPEGUARD_CACHE/bin/opa-<version>/opa (PIPEGUARD_CACHE defaults to ~/.cache/pipeguard, as in
#     scripts/controlplane/lib.sh); version PIPEGUARD_OPA_VERSION, default v1.22.4.
#   - the build is polite on a shared 2-core machine: `nice -n 10`, GOFLAGS=-p=1 (override the job count with
#     PIPEGUARD_BUILD_JOBS); static (CGO_ENABLED=0), -trimpath, -ldflags "-s -w". A cold build takes minutes.
#   - needs: a Go toolchain >= 1.26 (OPA 1.22's go.mod), GO=/path/to/go or go on PATH or /usr/local/go/bin/go;
#     network access to the Go module proxy on the first run only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"
# shellcheck source=../lib/go_tool.sh
. "$here/../lib/go_tool.sh"

: "${PIPEGUARD_OPA_VERSION:=v1.22.4}"
ver=$PIPEGUARD_OPA_VERSION
mode=${1:---install}
case $mode in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[[ $ver =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "opa: error: PIPEGUARD_OPA_VERSION must look like v1.22.4, got '$ver'" >&2; exit 1; }
go_tool_install opa github.com/open-policy-agent/opa "$ver" "Version: *${ver#v}([[:space:]]|$)" "$mode" version
