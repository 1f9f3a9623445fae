#!/usr/bin/env bash
# Builds (once) and caches actionlint, the GitHub Actions workflow linter that checks the release workflow templates
# in examples/release/ (tests/release/templates_test.sh): `go install` of github.com/rhysd/actionlint/cmd/actionlint
# from the Go module proxy with the local Go toolchain. Nothing is written into the repository.
#
# Usage: install.sh                 build if missing, then print "actionlint: using <path> (<version>)" on stderr
#        install.sh --print-path    the same, then print only the binary's path on stdout
#        install.sh --no-build      like --print-path but never build: exit 2 if the binary is missing
#
# Contract (scripts/lib/go_tool.sh): idempotent, serialised on a lock, moved into place only once it reports the
# version; binary $PIPEGUARD_CACHE/bin/actionlint-<version>/actionlint, version PIPEGUARD_ACTIONLINT_VERSION
# (default v1.7.12); nice -n 10, GOFLAGS=-p=1. Needs a Go toolchain and the Go module proxy on the first run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"
# shellcheck source=../lib/go_tool.sh
. "$here/../lib/go_tool.sh"

: "${PIPEGUARD_ACTIONLINT_VERSION:=v1.7.12}"
ver=$PIPEGUARD_ACTIONLINT_VERSION
mode=${1:---install}
case $mode in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[[ $ver =~ ^v1\.[0-9]+\.[0-9]+$ ]] ||
  { echo "actionlint: error: PIPEGUARD_ACTIONLINT_VERSION must look like v1.7.12, got '$ver'" >&2; exit 1; }
# actionlint stamps the module version it was installed at into -version.
go_tool_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ver" "^${ver}([[:space:]]|$)" "$mode" -version
