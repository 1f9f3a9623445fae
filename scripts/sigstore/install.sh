#!/usr/bin/env bash
# Builds (once) and caches the servers of a local Sigstore signing path, each from its Go module with the local Go
# toolchain: Fulcio (the certificate authority), Rekor v2 with its POSIX-file backend (rekor-tiles
# cmd/rekor-server/posix: no database, no cloud bucket) and the RFC 3161 timestamp authority. The cosign CLIs
# that sign against them come from scripts/registry/install.sh (built there if missing).
#
# Usage: install.sh                 build what is missing, print "NAME: using PATH (version)" lines on stderr
#        install.sh --print-env     the same, then print KEY=VALUE lines on stdout:
#                                   FULCIO REKOR_SERVER TIMESTAMP_SERVER COSIGN_V3 (paths) and their *_VERSION
#        install.sh --no-build      like --print-env but never build: exit 2 if something is missing
#
# Contract (scripts/lib/go_tool.sh, shared with the other tools built from Go modules):
#   - idempotent; each tool serialises on its own lock; a binary is moved into place only after it built and
#     reports the requested version, so an interrupted build leaves nothing behind.
#   - binaries: $PIPEGUARD_CACHE/bin/fulcio-<v>/fulcio, rekor-server-posix-<v>/rekor-server-posix,
#     timestamp-server-<v>/timestamp-server; versions PIPEGUARD_{FULCIO,REKOR,TSA}_VERSION (defaults in lib.sh).
#   - builds are polite on a shared 2-core machine: `nice -n 10`, GOFLAGS=-p=1 (PIPEGUARD_BUILD_JOBS overrides),
#     static (CGO_ENABLED=0), -trimpath. From an empty build cache (-p=1, 2 busy cores) each takes about 3.5
#     minutes (Fulcio 207 s, Rekor 202 s, TSA 186 s; docs/keyless-real.md).
#   - needs: a Go toolchain >= 1.26, network access to the Go module proxy on the first run only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=../lib/go_tool.sh
. "$here/../lib/go_tool.sh"

mode=install
case "${1:-}" in
  "") ;;
  --print-env) mode=print ;;
  --no-build) mode=nobuild ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) sg_die "unknown argument '$1' (try --help)" ;;
esac

fv=$PIPEGUARD_FULCIO_VERSION rv=$PIPEGUARD_REKOR_VERSION tv=$PIPEGUARD_TSA_VERSION
[[ $fv =~ ^v1\.[0-9]+\.[0-9]+$ ]] || sg_die "PIPEGUARD_FULCIO_VERSION must look like v1.8.8, got '$fv'"
[[ $rv =~ ^v2\.[0-9]+\.[0-9]+$ ]] || sg_die "PIPEGUARD_REKOR_VERSION must look like v2.3.0, got '$rv'"
[[ $tv =~ ^v2\.[0-9]+\.[0-9]+$ ]] || sg_die "PIPEGUARD_TSA_VERSION must look like v2.1.3, got '$tv'"

go_mode=--print-path
[[ $mode == nobuild ]] && go_mode=--no-build
rc=0
# All three print "GitVersion: vX.Y.Z" (sigs.k8s.io/release-utils, from the module version go install records).
fulcio=$(go_tool_install fulcio github.com/sigstore/fulcio "$fv" "GitVersion: *$fv([[:space:]]|$)" "$go_mode" version) || rc=$?
((rc == 0)) || exit "$rc"
rekor=$(GO_TOOL_BINARY=posix go_tool_install rekor-server-posix github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix \
  "$rv" "GitVersion: *$rv([[:space:]]|$)" "$go_mode" version) || rc=$?
((rc == 0)) || exit "$rc"
tsa=$(go_tool_install timestamp-server github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server \
  "$tv" "GitVersion: *$tv([[:space:]]|$)" "$go_mode" version) || rc=$?
((rc == 0)) || exit "$rc"

reg_flag=--print-env
[[ $mode == nobuild ]] && reg_flag=--no-build
reg_env=$("$here/../registry/install.sh" "$reg_flag") || exit $?
cosign3=$(sed -n 's/^COSIGN_V3=//p' <<<"$reg_env")

if [[ $mode != install ]]; then
  printf '%s=%q\n' FULCIO "$fulcio" REKOR_SERVER "$rekor" TIMESTAMP_SERVER "$tsa" COSIGN_V3 "$cosign3" \
    FULCIO_VERSION "$fv" REKOR_VERSION "$rv" TSA_VERSION "$tv" COSIGN_V3_VERSION "$PIPEGUARD_COSIGN_V3_VERSION"
fi
