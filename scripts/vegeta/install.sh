#!/usr/bin/env bash
# Builds (once) and caches vegeta, the open-loop HTTP load generator of bench/webhook_rate.sh: it sends at a fixed
# rate whatever the server's latency, and like the API server's Go client it reuses idle keep-alive connections and
# opens new ones when all are busy. `go install` of github.com/tsenart/vegeta/v12 from the Go module proxy with the
# local Go toolchain. Nothing is written into the repository.
#
# Usage: install.sh                 build if missing, then print "vegeta: using <path> (<version>)" on stderr
#        install.sh --print-path    the same, then print only the binary's path on stdout
#        install.sh --no-build      like --print-path but never build: exit 2 if the binary is missing
#
# Contract (scripts/lib/go_tool.sh): idempotent, serialised on a lock, moved into place only once it reports the
# version; binary $PIPEGUARD_CACHE/bin/vegeta-<version>/vegeta, version PIPEGUARD_VEGETA_VERSION (default
# v12.13.0); nice -n 10, GOFLAGS=-p=1. Needs a Go toolchain and the Go module proxy on the first run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../controlplane/lib.sh
. "$here/../controlplane/lib.sh"
# shellcheck source=../lib/go_tool.sh
. "$here/../lib/go_tool.sh"

: "${PIPEGUARD_VEGETA_VERSION:=v12.13.0}"
ver=$PIPEGUARD_VEGETA_VERSION
mode=${1:---install}
case $mode in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[[ $ver =~ ^v12\.[0-9]+\.[0-9]+$ ]] ||
  { echo "vegeta: error: PIPEGUARD_VEGETA_VERSION must look like v12.13.0, got '$ver'" >&2; exit 1; }
# vegeta learns its version only from the linker.
GO_TOOL_LDFLAGS="-X main.Version=$ver" \
  go_tool_install vegeta github.com/tsenart/vegeta/v12 "$ver" "Version: ${ver}([[:space:]]|$)" "$mode" -version
